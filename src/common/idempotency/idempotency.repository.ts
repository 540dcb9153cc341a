import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { runSql, sql } from '../database/sql.js';

/** A key's stored first response, as kept. */
export interface IdempotencyRow {
  request_hash: string;
  status_code: number;
  response: unknown;
}

/**
 * `idempotency_keys` and the key's claim (a transaction-scoped advisory lock, its wait bounded by
 * `lock_timeout` for that one statement).
 */
/** A response kept under its Idempotency-Key, with what identifies the request it answered. */
export interface KeptResponse {
  clinicId: string;
  key: string;
  actorKeyId: string;
  methodPath: string;
  hash: string;
  status: number;
  body: unknown;
}

@Injectable()
export class IdempotencyRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The stored response of the key written after `since`, through `m` (default: outside any transaction). */
  async find(
    clinicId: string,
    key: string,
    since: Date,
    m: EntityManager = this.dataSource.manager,
  ): Promise<IdempotencyRow | undefined> {
    const [row] = await runSql<IdempotencyRow>(
      m,
      sql`SELECT request_hash, status_code, response FROM idempotency_keys WHERE clinic_id = ${clinicId} AND key = ${key} AND created_at > ${since}`,
    );
    return row;
  }

  /**
   * Takes the transaction-scoped advisory lock of `lockKey`, waiting at most `waitMs` (then
   * PostgreSQL's 55P03); the transaction's own `lock_timeout` is restored afterwards.
   */
  async lock(m: EntityManager, lockKey: string, waitMs: number): Promise<void> {
    const [{ previous }] = await runSql<{ previous: string }>(
      m,
      sql`SELECT current_setting('lock_timeout') AS previous`,
    );
    await runSql(m, sql`SELECT set_config('lock_timeout', ${`${waitMs}ms`}, true)`);
    await runSql(m, sql`SELECT pg_advisory_xact_lock(hashtextextended(${lockKey}, 0))`);
    await runSql(m, sql`SELECT set_config('lock_timeout', ${previous}, true)`);
  }

  /** Forgets the key's response if it was written at or before `before` (expired). */
  async deleteExpired(m: EntityManager, clinicId: string, key: string, before: Date): Promise<void> {
    await runSql(
      m,
      sql`DELETE FROM idempotency_keys WHERE clinic_id = ${clinicId} AND key = ${key} AND created_at <= ${before}`,
    );
  }

  async insert(m: EntityManager, row: KeptResponse & { createdAt: Date }): Promise<void> {
    await runSql(
      m,
      sql`INSERT INTO idempotency_keys (clinic_id, key, actor_key_id, method_path, request_hash, status_code, response, created_at)
       VALUES (${row.clinicId}, ${row.key}, ${row.actorKeyId}, ${row.methodPath}, ${row.hash}, ${row.status}, ${JSON.stringify(row.body)}::jsonb, ${row.createdAt})`,
    );
  }
}
