import { DomainError } from '../common/errors/domain-error.js';
import { registerErrorCodes } from '../common/errors/error-codes.js';

export enum ProtocolErrorCode {
  PROTOCOL_NOT_FOUND = 'PROTOCOL_NOT_FOUND',
  PROTOCOL_VERSION_NOT_FOUND = 'PROTOCOL_VERSION_NOT_FOUND',
  DRAFT_UNCHANGED = 'DRAFT_UNCHANGED',
}

registerErrorCodes('protocols', ProtocolErrorCode, {
  PROTOCOL_NOT_FOUND: 404,
  PROTOCOL_VERSION_NOT_FOUND: 404,
  DRAFT_UNCHANGED: 409,
});

export class ProtocolError extends DomainError {
  constructor(code: ProtocolErrorCode, message: string) {
    super(code, message);
  }
}
