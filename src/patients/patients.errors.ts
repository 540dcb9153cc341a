import { DomainError } from '../common/errors/domain-error.js';

export enum PatientErrorCode {
  PATIENT_NOT_FOUND = 'PATIENT_NOT_FOUND',
}

export class PatientError extends DomainError {
  constructor(code: PatientErrorCode, message: string) {
    super(code, message);
  }
}
