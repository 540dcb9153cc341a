import { DomainError } from '../common/errors/domain-error.js';

export enum ProtocolErrorCode {
  PROTOCOL_NOT_FOUND = 'PROTOCOL_NOT_FOUND',
  PROTOCOL_VERSION_NOT_FOUND = 'PROTOCOL_VERSION_NOT_FOUND',
  DRAFT_UNCHANGED = 'DRAFT_UNCHANGED',
}

export class ProtocolError extends DomainError {
  constructor(code: ProtocolErrorCode, message: string) {
    super(code, message);
  }
}
