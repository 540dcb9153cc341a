import { DomainError } from '../common/errors/domain-error.js';

export enum SessionErrorCode {
  SESSION_NOT_FOUND = 'SESSION_NOT_FOUND',
  INVALID_TRANSITION = 'INVALID_TRANSITION',
}

export class SessionError extends DomainError {
  constructor(code: SessionErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, [], extensions);
  }
}
