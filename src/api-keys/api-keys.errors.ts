import { DomainError } from '../common/errors/domain-error.js';
import { registerErrorCodes } from '../common/errors/error-codes.js';

export enum ApiKeyErrorCode {
  API_KEY_NOT_FOUND = 'API_KEY_NOT_FOUND',
}

registerErrorCodes('api-keys', ApiKeyErrorCode, {
  API_KEY_NOT_FOUND: 404,
});

export class ApiKeyError extends DomainError {
  constructor(code: ApiKeyErrorCode, message: string) {
    super(code, message);
  }
}
