import { CommonErrorCode } from '../errors/common.errors.js';
import { DomainError } from '../errors/domain-error.js';

/** A strong entity tag for a value. */
export const etag = (value: string) => `"${value}"`;

/**
 * Checks an `If-Match` header against the current strong ETag: missing → 428, no match → 412.
 * `*` matches; weak tags never do (RFC 9110 §13.1.1 uses the strong comparison).
 */
export function requireIfMatch(header: string | undefined, current: string): void {
  if (header === undefined || header.trim() === '') {
    throw new DomainError(
      CommonErrorCode.PRECONDITION_REQUIRED,
      `This change needs If-Match with the current ETag (${current}).`,
    );
  }
  const tags = header.split(',').map((t) => t.trim());
  if (!tags.includes('*') && !tags.includes(current)) throw staleResource(current);
}

/** 412: the resource changed since the caller read it (`current` when known). */
export function staleResource(current?: string): DomainError {
  return new DomainError(
    CommonErrorCode.PRECONDITION_FAILED,
    current
      ? `The resource has changed: its ETag is now ${current}. Read it again, then retry.`
      : 'The resource was changed by someone else meanwhile. Read it again, then retry.',
    [],
    current ? { currentEtag: current } : {},
  );
}
