import { DomainError } from '../common/errors/domain-error.js';
import { registerErrorCodes } from '../common/errors/error-codes.js';

export enum SyncErrorCode {
  /** A sync or page token that is unknown, tampered with, expired or of another scope: start over. */
  FULL_SYNC_REQUIRED = 'FULL_SYNC_REQUIRED',
}

registerErrorCodes('sync', SyncErrorCode, {
  FULL_SYNC_REQUIRED: 410,
});

export class SyncError extends DomainError {
  constructor(code: SyncErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, [], extensions);
  }
}
