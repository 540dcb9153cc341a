import { ApiKeyErrorCode } from '../../api-keys/api-keys.errors.js';
import { CalendarErrorCode } from '../../calendar/calendar.errors.js';
import { ClinicErrorCode } from '../../clinics/clinics.errors.js';
import { PatientErrorCode } from '../../patients/patients.errors.js';
import { PlanErrorCode } from '../../plans/plans.errors.js';
import { ProtocolErrorCode } from '../../protocols/protocols.errors.js';
import { SessionErrorCode } from '../../sessions/sessions.errors.js';
import { SyncErrorCode } from '../../sync/sync.errors.js';
import { WebhookErrorCode } from '../../webhooks/webhooks.errors.js';
import { CommonErrorCode } from './common.errors.js';
import { problemType, statusForCode, type ErrorCode } from './error-codes.js';

const ALL_CODES: ErrorCode[] = [
  ...Object.values(CommonErrorCode),
  ...Object.values(ClinicErrorCode),
  ...Object.values(PatientErrorCode),
  ...Object.values(ApiKeyErrorCode),
  ...Object.values(ProtocolErrorCode),
  ...Object.values(PlanErrorCode),
  ...Object.values(SessionErrorCode),
  ...Object.values(CalendarErrorCode),
  ...Object.values(SyncErrorCode),
  ...Object.values(WebhookErrorCode),
];

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
