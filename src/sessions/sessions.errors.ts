import { DomainError } from '../common/errors/domain-error.js';
import { registerErrorCodes } from '../common/errors/error-codes.js';

export enum SessionErrorCode {
  SESSION_NOT_FOUND = 'SESSION_NOT_FOUND',
  INVALID_TRANSITION = 'INVALID_TRANSITION',
  /** Check-in outside the session's local day (or the clinic's wider window): not now, later or never. */
  CHECK_IN_NOT_OPEN = 'CHECK_IN_NOT_OPEN',
  /** Completion of a session that has not started, without an observed start in the past. */
  SESSION_NOT_STARTED = 'SESSION_NOT_STARTED',
}

registerErrorCodes('sessions', SessionErrorCode, {
  SESSION_NOT_FOUND: 404,
  INVALID_TRANSITION: 409,
  CHECK_IN_NOT_OPEN: 409,
  SESSION_NOT_STARTED: 409,
});

export class SessionError extends DomainError {
  constructor(code: SessionErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, [], extensions);
  }
}
