import { CommonErrorCode } from './common/errors/common.errors.js';
import {
  problemType,
  registeredErrorCodes,
  registerErrorCodes,
  statusForCode,
  type ErrorCode,
} from './common/errors/error-codes.js';
import { PatientErrorCode } from './patients/patients.errors.js';
import { SyncErrorCode } from './sync/sync.errors.js';
import { ALL_ERROR_CODES } from './error-codes.js';

const ALL_CODES: ErrorCode[] = [...ALL_ERROR_CODES];

describe('statusForCode', () => {
  it('maps every code to an HTTP error status', () => {
    for (const code of ALL_CODES) {
      const status = statusForCode(code);
      expect([400, 401, 403, 404, 409, 410, 412, 413, 415, 422, 428, 429, 431, 500, 503]).toContain(status);
    }
  });
  it.each([
    [CommonErrorCode.VALIDATION_FAILED, 400],
    [CommonErrorCode.UNAUTHENTICATED, 401],
    [CommonErrorCode.FORBIDDEN, 403],
    [PatientErrorCode.PATIENT_NOT_FOUND, 404],
    [CommonErrorCode.SLOT_TAKEN, 409],
    [CommonErrorCode.DATABASE_UNAVAILABLE, 503],
    [CommonErrorCode.PRECONDITION_FAILED, 412],
    [CommonErrorCode.PRECONDITION_REQUIRED, 428],
    [SyncErrorCode.FULL_SYNC_REQUIRED, 410],
    [CommonErrorCode.RATE_LIMITED, 429],
  ])('%s → %d', (code, status) => expect(statusForCode(code)).toBe(status));
  it('throws for a code nobody mapped', () => {
    expect(() => statusForCode('NOPE' as ErrorCode)).toThrow(/unmapped/);
  });
});

describe('problemType', () => {
  it('is a stable URN per code', () => {
    expect(problemType(CommonErrorCode.VALIDATION_FAILED)).toBe('urn:chairside:problem:validation-failed');
    expect(new Set(ALL_CODES.map(problemType)).size).toBe(ALL_CODES.length);
  });
});

describe('registerErrorCodes', () => {
  it('knows every code the features declare, and no other', () => {
    expect(new Set(registeredErrorCodes())).toEqual(new Set(ALL_CODES));
  });
  it('refuses a code another feature already owns', () => {
    expect(() =>
      registerErrorCodes('elsewhere', { PLAN_NOT_FOUND: 'PLAN_NOT_FOUND' }, { PLAN_NOT_FOUND: 404 }),
    ).toThrow(/registered by both plans and elsewhere/);
    expect(statusForCode('PLAN_NOT_FOUND')).toBe(404);
  });
});
