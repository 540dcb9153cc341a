import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { SessionEntity } from '../sessions/entities/session.entity.js';

export interface Tombstone {
  sessionId: string;
  planId: string;
  /** The highest revision the change log knows for the session. */
  revision: number;
}

/** Reads of the session change log (`session_changes`, written by triggers) and of current sessions. */
@Injectable()
export class SyncRepository {
  constructor(private readonly dataSource: DataSource) {}

  manager(): EntityManager {
    return this.dataSource.manager;
  }

  async secret(name: string): Promise<Buffer | null> {
    const [row] = await this.dataSource.query(`SELECT secret FROM server_secrets WHERE name = $1`, [name]);
    return row ? (row.secret as Buffer) : null;
  }

  /**
   * Runs `work` in one REPEATABLE READ transaction: its first statement fixes the snapshot that
   * every later one reads, so the watermark and the rows read are consistent.
   */
  inSnapshot<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction('REPEATABLE READ', work);
  }

  /**
   * The transaction's snapshot (`xmin:xmax:xip,…`): which transactions had committed when it was
   * taken. In a REPEATABLE READ transaction it is the snapshot every statement reads.
   */
  async watermark(m: EntityManager): Promise<string> {
    const [row] = await m.query(`SELECT pg_current_snapshot()::text AS w`);
    return row.w as string;
  }

  /** The clinic's sessions that are not cancelled, keyset-paged by id. */
  currentSessions(
    m: EntityManager,
    clinicId: string,
    after: string | undefined,
    limit: number,
  ): Promise<SessionEntity[]> {
    const qb = m
      .getRepository(SessionEntity)
      .createQueryBuilder('s')
      .where(`s.clinic_id = :clinicId AND s.status <> 'cancelled'`, { clinicId });
    if (after) qb.andWhere('s.id > :after::uuid', { after });
    return qb.orderBy('s.id', 'ASC').limit(limit).getMany();
  }

  /**
   * The distinct sessions changed by a transaction visible in snapshot `to` but not in `from`
   * (each committed change falls in exactly one such window), keyset-paged by id.
   */
  async changedSessionIds(
    m: EntityManager,
    clinicId: string,
    from: string,
    to: string,
    after: string | undefined,
    limit: number,
  ): Promise<string[]> {
    const rows: { id: string }[] = await m.query(
      `SELECT session_id::text AS id
         FROM session_changes
        WHERE clinic_id = $1 AND txid >= pg_snapshot_xmin($2::pg_snapshot) AND txid < pg_snapshot_xmax($3::pg_snapshot)
          AND NOT pg_visible_in_snapshot(txid, $2::pg_snapshot) AND pg_visible_in_snapshot(txid, $3::pg_snapshot)
          AND ($4::uuid IS NULL OR session_id > $4::uuid)
        GROUP BY session_id
        ORDER BY session_id
        LIMIT $5`,
      [clinicId, from, to, after ?? null, limit],
    );
    return rows.map((r) => r.id);
  }

  sessionsByIds(m: EntityManager, clinicId: string, ids: string[]): Promise<SessionEntity[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return m
      .getRepository(SessionEntity)
      .createQueryBuilder('s')
      .where('s.clinic_id = :clinicId AND s.id IN (:...ids)', { clinicId, ids })
      .getMany();
  }

  /** For sessions that no longer exist: their plan and last revision, from changes since `from`. */
  async tombstones(m: EntityManager, clinicId: string, ids: string[], from: string): Promise<Tombstone[]> {
    if (ids.length === 0) return [];
    const rows: { session_id: string; plan_id: string; revision: number }[] = await m.query(
      `SELECT session_id::text, (array_agg(plan_id::text ORDER BY seq DESC))[1] AS plan_id, max(revision)::int AS revision
         FROM session_changes
        WHERE clinic_id = $1 AND txid >= pg_snapshot_xmin($2::pg_snapshot) AND session_id = ANY ($3::uuid[])
        GROUP BY session_id`,
      [clinicId, from, ids],
    );
    return rows.map((r) => ({ sessionId: r.session_id, planId: r.plan_id, revision: r.revision }));
  }

  /** Deletes change-log rows written before `before`; returns how many. */
  async pruneChanges(before: Date): Promise<number> {
    const [row] = await this.dataSource.query(
      `WITH gone AS (DELETE FROM session_changes WHERE changed_at < $1 RETURNING 1) SELECT count(*)::int AS n FROM gone`,
      [before],
    );
    return row.n as number;
  }
}
