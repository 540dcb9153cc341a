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

export type ErrorCode =
  | CommonErrorCode
  | ClinicErrorCode
  | PatientErrorCode
  | ApiKeyErrorCode
  | ProtocolErrorCode
  | PlanErrorCode
  | SessionErrorCode
  | CalendarErrorCode
  | SyncErrorCode
  | WebhookErrorCode;

function assertNever(x: never): never {
  throw new Error(`unmapped error code ${String(x)}`);
}

/** The one place an error code becomes an HTTP status; exhaustive, so a new code must be mapped. */
export function statusForCode(code: ErrorCode): number {
  switch (code) {
    case CommonErrorCode.VALIDATION_FAILED:
    case CommonErrorCode.MALFORMED_REQUEST:
      return 400;
    case CommonErrorCode.UNAUTHENTICATED:
      return 401;
    case CommonErrorCode.FORBIDDEN:
      return 403;
    case CommonErrorCode.ROUTE_NOT_FOUND:
    case ClinicErrorCode.CLINIC_NOT_FOUND:
    case ClinicErrorCode.CHAIR_NOT_FOUND:
    case ClinicErrorCode.STAFF_NOT_FOUND:
    case ClinicErrorCode.CLOSURE_NOT_FOUND:
    case PatientErrorCode.PATIENT_NOT_FOUND:
    case ApiKeyErrorCode.API_KEY_NOT_FOUND:
    case ProtocolErrorCode.PROTOCOL_NOT_FOUND:
    case ProtocolErrorCode.PROTOCOL_VERSION_NOT_FOUND:
    case PlanErrorCode.PLAN_NOT_FOUND:
    case SessionErrorCode.SESSION_NOT_FOUND:
    case CalendarErrorCode.FEED_NOT_FOUND:
    case WebhookErrorCode.WEBHOOK_NOT_FOUND:
    case WebhookErrorCode.WEBHOOK_MESSAGE_NOT_FOUND:
      return 404;
    case CommonErrorCode.CONFLICT:
    case CommonErrorCode.SLOT_TAKEN:
    case ClinicErrorCode.CHAIR_NAME_TAKEN:
    case ProtocolErrorCode.DRAFT_UNCHANGED:
    case ClinicErrorCode.STAFF_CAPACITY_IN_USE:
    case PlanErrorCode.IDEMPOTENCY_IN_FLIGHT:
    case PlanErrorCode.ACTIVE_SERIES_EXISTS:
    case SessionErrorCode.INVALID_TRANSITION:
    case PatientErrorCode.WEIGHT_UNCONFIRMED:
    case SessionErrorCode.CHECK_IN_NOT_OPEN:
    case SessionErrorCode.SESSION_NOT_STARTED:
      return 409;
    case SyncErrorCode.FULL_SYNC_REQUIRED:
      return 410;
    case CommonErrorCode.PRECONDITION_FAILED:
      return 412;
    case CommonErrorCode.PAYLOAD_TOO_LARGE:
      return 413;
    case CommonErrorCode.UNSUPPORTED_MEDIA_TYPE:
      return 415;
    case CommonErrorCode.PRECONDITION_REQUIRED:
      return 428;
    case CommonErrorCode.RATE_LIMITED:
      return 429;
    case CommonErrorCode.HEADERS_TOO_LARGE:
      return 431;
    case PlanErrorCode.PLAN_INFEASIBLE:
    case PlanErrorCode.PROTOCOL_VERSION_RETIRED:
    case PlanErrorCode.IDEMPOTENCY_KEY_REUSED:
      return 422;
    case CommonErrorCode.INTERNAL:
      return 500;
    case CommonErrorCode.DATABASE_UNAVAILABLE:
      return 503;
    default:
      return assertNever(code);
  }
}

/** `type` URI of a problem: a stable identifier clients can switch on. */
export function problemType(code: ErrorCode): string {
  return `urn:chairside:problem:${code.toLowerCase().replace(/_/g, '-')}`;
}
