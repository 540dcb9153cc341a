import { DomainError } from '../common/errors/domain-error.js';
import { registerErrorCodes } from '../common/errors/error-codes.js';

export enum PatientErrorCode {
  PATIENT_NOT_FOUND = 'PATIENT_NOT_FOUND',
  /** mg/kg doses would need a weight the front desk entered and no clinician has confirmed. */
  WEIGHT_UNCONFIRMED = 'WEIGHT_UNCONFIRMED',
}

registerErrorCodes('patients', PatientErrorCode, {
  PATIENT_NOT_FOUND: 404,
  WEIGHT_UNCONFIRMED: 409,
});

export class PatientError extends DomainError {
  constructor(code: PatientErrorCode, message: string) {
    super(code, message);
  }
}
