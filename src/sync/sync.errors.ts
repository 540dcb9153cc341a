import { DomainError } from '../common/errors/domain-error.js';

export enum SyncErrorCode {
  /** A sync or page token that is unknown, tampered with, expired or of another scope: start over. */
  FULL_SYNC_REQUIRED = 'FULL_SYNC_REQUIRED',
}

export class SyncError extends DomainError {
  constructor(code: SyncErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, [], extensions);
  }
}
