import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { Clock } from '../clock/clock.js';
import { ValidationFailedError } from '../errors/common.errors.js';
import { sqlState } from '../errors/database-errors.js';
import { IdempotencyError, IdempotencyErrorCode } from './idempotency.errors.js';
import { IdempotencyRepository, type KeptResponse } from './idempotency.repository.js';

/** How long a key's first response is kept and replayed. */
export const IDEMPOTENCY_TTL_HOURS = 24;
/**
 * How long a duplicate waits for the request with the same key still in flight (on any instance)
 * before it gives up with 409: a booking takes well under a second, even queued behind others.
 */
export const IDEMPOTENCY_WAIT_MS = 5000;

export interface StoredResponse<T> {
  status: number;
  body: T;
}

/** Canonical JSON (sorted keys), so that the same body always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function requestHash(methodPath: string, body: unknown): string {
  return createHash('sha256').update(methodPath).update('\n').update(canonical(body)).digest('hex');
}

const KEY_RE = /^[\x21-\x7e]{1,200}$/;

/** Checks an Idempotency-Key header's form; undefined when absent. */
export function parseIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!KEY_RE.test(header)) {
    throw new ValidationFailedError(
      [{ field: 'Idempotency-Key', message: 'Idempotency-Key must be 1–200 visible ASCII characters' }],
      'A header is invalid.',
    );
  }
  return header;
}

/**
 * Idempotency-Key for creating requests. The key is claimed inside the transaction that does the
 * work (a transaction-scoped advisory lock) and the response is stored in that same transaction, so
 * a retry replays exactly the first result and a rolled-back attempt leaves no trace. A duplicate
 * arriving while the first is still in flight (on this instance or another) waits for the key's
 * lock, at most {@link IDEMPOTENCY_WAIT_MS}, and then replays the first answer; only after that
 * bound is it 409.
 */
@Injectable()
export class IdempotencyService {
  constructor(
    private readonly repo: IdempotencyRepository,
    private readonly clock: Clock,
  ) {}

  private cutoff(): Date {
    return this.clock.now().minus({ hours: IDEMPOTENCY_TTL_HOURS }).toJSDate();
  }

  private async find<T>(
    m: EntityManager | undefined,
    clinicId: string,
    key: string,
    hash: string,
  ): Promise<StoredResponse<T> | undefined> {
    const row = await this.repo.find(clinicId, key, this.cutoff(), m);
    if (!row) return undefined;
    if (row.request_hash !== hash) {
      throw new IdempotencyError(
        IdempotencyErrorCode.IDEMPOTENCY_KEY_REUSED,
        'This Idempotency-Key was already used with a different request.',
      );
    }
    return { status: row.status_code, body: row.response as T };
  }

  /** A quick look outside any transaction: the stored response, if this key was used before. */
  lookup<T>(clinicId: string, key: string, hash: string): Promise<StoredResponse<T> | undefined> {
    return this.find<T>(undefined, clinicId, key, hash);
  }

  /**
   * Claims the key for this transaction, waiting (bounded) for a request with the same key still in
   * flight; returns the stored response when it was used before (also when that one just committed).
   */
  async claim<T>(
    m: EntityManager,
    clinicId: string,
    key: string,
    hash: string,
    waitMs = IDEMPOTENCY_WAIT_MS,
  ): Promise<StoredResponse<T> | undefined> {
    // The wait is bounded by lock_timeout for this one statement; the pool's own is restored after it.
    try {
      await this.repo.lock(m, `${clinicId}|${key}`, waitMs);
    } catch (err) {
      if (sqlState(err) !== '55P03') throw err;
      throw new IdempotencyError(
        IdempotencyErrorCode.IDEMPOTENCY_IN_FLIGHT,
        `A request with this Idempotency-Key has been in flight for over ${waitMs / 1000} s; retry shortly.`,
      );
    }
    await this.repo.deleteExpired(m, clinicId, key, this.cutoff());
    return this.find<T>(m, clinicId, key, hash);
  }

  async store(m: EntityManager, row: KeptResponse): Promise<void> {
    await this.repo.insert(m, { ...row, createdAt: this.clock.now().toJSDate() });
  }
}
