import { DomainError } from '../common/errors/domain-error.js';

export enum PatientErrorCode {
  PATIENT_NOT_FOUND = 'PATIENT_NOT_FOUND',
  /** mg/kg doses would need a weight the front desk entered and no clinician has confirmed. */
  WEIGHT_UNCONFIRMED = 'WEIGHT_UNCONFIRMED',
}

export class PatientError extends DomainError {
  constructor(code: PatientErrorCode, message: string) {
    super(code, message);
  }
}
