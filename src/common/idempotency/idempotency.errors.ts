import { DomainError } from '../errors/domain-error.js';
import { registerErrorCodes } from '../errors/error-codes.js';

export enum IdempotencyErrorCode {
  /** The key was used before with a different request (method, path or body). */
  IDEMPOTENCY_KEY_REUSED = 'IDEMPOTENCY_KEY_REUSED',
  /** A request with the same key is still running beyond the wait bound. */
  IDEMPOTENCY_IN_FLIGHT = 'IDEMPOTENCY_IN_FLIGHT',
}

registerErrorCodes('idempotency', IdempotencyErrorCode, {
  IDEMPOTENCY_KEY_REUSED: 422,
  IDEMPOTENCY_IN_FLIGHT: 409,
});

export class IdempotencyError extends DomainError {
  constructor(code: IdempotencyErrorCode, message: string) {
    super(code, message);
  }
}
