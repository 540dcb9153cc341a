import { QueryFailedError, QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError } from 'typeorm';
import { CommonErrorCode } from './common.errors.js';
import { DomainError } from './domain-error.js';

/** SQLSTATEs that mean "try the transaction again": serialization failure, deadlock. */
export const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
]);
const CONNECTION_MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /connect ECONNREFUSED/i,
  /Client has encountered a connection error/i,
  /the database system is (starting up|shutting down)/i,
];

export function sqlState(err: unknown): string | undefined {
  const e = err as { driverError?: { code?: string }; code?: string };
  return e?.driverError?.code ?? (typeof e?.code === 'string' ? e.code : undefined);
}

/** An exclusion constraint refused the row (23P01): on sessions, someone else holds that time. */
export function isExclusionViolation(err: unknown): boolean {
  return err instanceof QueryFailedError && sqlState(err) === '23P01';
}

const camelCase = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

export function isConnectionError(err: unknown): boolean {
  // TypeORM releases a transaction's query runner when its connection dies between statements;
  // the next statement (or COMMIT) then meets a released runner.
  if (err instanceof QueryRunnerAlreadyReleasedError || err instanceof QueryRunnerProviderAlreadyReleasedError)
    return true;
  const code = sqlState(err);
  if (code && CONNECTION_ERROR_CODES.has(code)) return true;
  const message = err instanceof Error ? err.message : '';
  return CONNECTION_MESSAGES.some((re) => re.test(message));
}

/**
 * Translates database errors into domain errors, once, for the whole service:
 * 23P01 (exclusion) → SLOT_TAKEN, 23505 (unique) → CONFLICT, lost connections → DATABASE_UNAVAILABLE.
 * Returns undefined for errors that are bugs (they become a 500).
 */
export function translateDatabaseError(err: unknown): DomainError | undefined {
  if (isConnectionError(err)) {
    return new DomainError(CommonErrorCode.DATABASE_UNAVAILABLE, 'The database is unavailable; try again shortly.');
  }
  if (!(err instanceof QueryFailedError)) return undefined;
  const code = sqlState(err);
  const { constraint, column } = (err.driverError ?? {}) as { constraint?: string; column?: string };
  switch (code) {
    // lock_timeout (a lock held too long by someone else) or statement_timeout: busy, not broken.
    case '55P03':
    case '57014':
      return new DomainError(
        CommonErrorCode.DATABASE_UNAVAILABLE,
        'The database is busy with other work on the same records; try again shortly.',
      );
    // Input the DTOs should have refused; a safety net so that it is still a 400, never a 500.
    case '23502':
      return new DomainError(CommonErrorCode.VALIDATION_FAILED, 'A required value is missing.', [
        { field: camelCase(column ?? 'unknown'), message: `${camelCase(column ?? 'value')} must not be null` },
      ]);
    case '23514':
      return new DomainError(
        CommonErrorCode.VALIDATION_FAILED,
        `The values break the rule ${constraint ?? ''}.`.trim(),
        [],
      );
    case '22021': // NUL or invalid byte sequence in text
    case '22P05': // untranslatable character (e.g. \u0000 in jsonb)
    case '22P02':
    case '22003':
    case '22007':
    case '22008':
      return new DomainError(CommonErrorCode.VALIDATION_FAILED, 'A value is malformed or out of range.', []);
    case '23503':
      return new DomainError(
        CommonErrorCode.CONFLICT,
        'The change refers to a record that does not exist or is still referenced.',
        [],
        { constraint },
      );
    case '23P01':
      return new DomainError(CommonErrorCode.SLOT_TAKEN, 'The time slot is already taken.', [], { constraint });
    case '23505':
      return new DomainError(CommonErrorCode.CONFLICT, 'A record with the same unique values already exists.', [], {
        constraint,
      });
    case '40001':
    case '40P01':
      return new DomainError(CommonErrorCode.CONFLICT, 'The request conflicted with a concurrent change; retry it.');
    default:
      return undefined;
  }
}

/** A unique violation, optionally of one named constraint. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  if (!(err instanceof QueryFailedError) || sqlState(err) !== '23505') return false;
  return constraint === undefined || (err.driverError as { constraint?: string })?.constraint === constraint;
}
