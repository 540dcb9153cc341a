import { DomainError } from '../common/errors/domain-error.js';
import { registerErrorCodes } from '../common/errors/error-codes.js';

export enum CalendarErrorCode {
  /** An unknown feed id, or a feed token that is unknown or revoked. */
  FEED_NOT_FOUND = 'FEED_NOT_FOUND',
}

registerErrorCodes('calendar', CalendarErrorCode, {
  FEED_NOT_FOUND: 404,
});

export class CalendarError extends DomainError {
  constructor(code: CalendarErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, [], extensions);
  }
}
