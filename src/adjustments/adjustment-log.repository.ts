import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

export interface SessionChange {
  sessionId: string;
  ref: string;
  before: Record<string, unknown>;
  after: Record<string, unknown>;
}

export interface AdjustmentRow {
  id: string;
  planId: string;
  planVersion: number;
  type: string;
  reason: string | null;
  actorKeyId: string | null;
  actorRole: string | null;
  occurredAt: Date;
  changes: SessionChange[];
}

/**
 * The append-only log of every change to a plan after booking (a trigger refuses updates and
 * deletes). Each entry raises the plan's version, in the transaction of the change.
 */
@Injectable()
export class AdjustmentLog {
  constructor(private readonly dataSource: DataSource) {}

  /** Raises the plan's version (guarded by the version the caller saw, when given) and appends the entry. */
  async append(
    m: EntityManager,
    e: { clinicId: string; planId: string; type: string; reason: string | null; actorKeyId: string; actorRole: string; at: Date; changes: SessionChange[] },
    expectedVersion?: number,
  ): Promise<number | null> {
    // TypeORM answers an UPDATE with [rows, affected].
    const [rows] = (await m.query(
      `UPDATE plans SET version = version + 1, updated_at = $3
        WHERE clinic_id = $1 AND id = $2 ${expectedVersion === undefined ? '' : 'AND version = $4'}
        RETURNING version`,
      expectedVersion === undefined ? [e.clinicId, e.planId, e.at] : [e.clinicId, e.planId, e.at, expectedVersion],
    )) as [{ version: number }[], number];
    const version = rows[0]?.version;
    if (version === undefined) return null;
    await m.query(
      `INSERT INTO plan_adjustments (clinic_id, plan_id, plan_version, type, reason, actor_key_id, actor_role, occurred_at, changes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)`,
      [e.clinicId, e.planId, version, e.type, e.reason, e.actorKeyId, e.actorRole, e.at, JSON.stringify(e.changes)],
    );
    return version;
  }

  async list(clinicId: string, planId: string): Promise<AdjustmentRow[]> {
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT id, plan_id, plan_version, type, reason, actor_key_id, actor_role, occurred_at, changes
         FROM plan_adjustments WHERE clinic_id = $1 AND plan_id = $2 ORDER BY plan_version`,
      [clinicId, planId],
    );
    return rows.map((r) => ({
      id: r.id as string,
      planId: r.plan_id as string,
      planVersion: r.plan_version as number,
      type: r.type as string,
      reason: r.reason as string | null,
      actorKeyId: r.actor_key_id as string | null,
      actorRole: r.actor_role as string | null,
      occurredAt: r.occurred_at as Date,
      changes: r.changes as SessionChange[],
    }));
  }
}
