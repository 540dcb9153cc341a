import { DomainError } from '../common/errors/domain-error.js';
import { registerErrorCodes } from '../common/errors/error-codes.js';

export enum ClinicErrorCode {
  CLINIC_NOT_FOUND = 'CLINIC_NOT_FOUND',
  CHAIR_NOT_FOUND = 'CHAIR_NOT_FOUND',
  CHAIR_NAME_TAKEN = 'CHAIR_NAME_TAKEN',
  STAFF_NOT_FOUND = 'STAFF_NOT_FOUND',
  CLOSURE_NOT_FOUND = 'CLOSURE_NOT_FOUND',
  STAFF_CAPACITY_IN_USE = 'STAFF_CAPACITY_IN_USE',
}

registerErrorCodes('clinics', ClinicErrorCode, {
  CLINIC_NOT_FOUND: 404,
  CHAIR_NOT_FOUND: 404,
  CHAIR_NAME_TAKEN: 409,
  STAFF_NOT_FOUND: 404,
  CLOSURE_NOT_FOUND: 404,
  STAFF_CAPACITY_IN_USE: 409,
});

export class ClinicError extends DomainError {
  constructor(code: ClinicErrorCode, message: string) {
    super(code, message);
  }
}
