/**
 * Every error code of the service, app-wide: each feature's `*.errors.ts` registers its own codes
 * and statuses (`registerErrorCodes` in src/common/errors); this file only lists them all, so that
 * the tests (src/error-codes.spec.ts) walk every code and see a clash between two features.
 */
import { AdjustmentErrorCode } from './adjustments/adjustments.errors.js';
import { ApiKeyErrorCode } from './api-keys/api-keys.errors.js';
import { CalendarErrorCode } from './calendar/calendar.errors.js';
import { ClinicErrorCode } from './clinics/clinics.errors.js';
import { CommonErrorCode } from './common/errors/common.errors.js';
import type { ErrorCode } from './common/errors/error-codes.js';
import { IdempotencyErrorCode } from './common/idempotency/idempotency.errors.js';
import { PatientErrorCode } from './patients/patients.errors.js';
import { PlanErrorCode } from './plans/plans.errors.js';
import { ProtocolErrorCode } from './protocols/protocols.errors.js';
import { SessionErrorCode } from './sessions/sessions.errors.js';
import { SyncErrorCode } from './sync/sync.errors.js';
import { WebhookErrorCode } from './webhooks/webhooks.errors.js';

export const ALL_ERROR_CODES: readonly ErrorCode[] = [
  ...Object.values(CommonErrorCode),
  ...Object.values(IdempotencyErrorCode),
  ...Object.values(ClinicErrorCode),
  ...Object.values(PatientErrorCode),
  ...Object.values(ApiKeyErrorCode),
  ...Object.values(ProtocolErrorCode),
  ...Object.values(PlanErrorCode),
  ...Object.values(SessionErrorCode),
  ...Object.values(AdjustmentErrorCode),
  ...Object.values(CalendarErrorCode),
  ...Object.values(SyncErrorCode),
  ...Object.values(WebhookErrorCode),
];
