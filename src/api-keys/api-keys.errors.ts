import { DomainError } from '../common/errors/domain-error.js';

export enum ApiKeyErrorCode {
  API_KEY_NOT_FOUND = 'API_KEY_NOT_FOUND',
}

export class ApiKeyError extends DomainError {
  constructor(code: ApiKeyErrorCode, message: string) {
    super(code, message);
  }
}
