import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { PlanEntity } from '../plans/entities/plan.entity.js';
import type { ProtocolStep } from '../protocols/domain/protocol-step.js';
import type { PlannedDose } from '../protocols/domain/tailor.js';
import { SessionEntity } from '../sessions/entities/session.entity.js';

export interface SessionChange {
  sessionId: string;
  ref: string;
  /** null for a session the adjustment created. */
  before: Record<string, unknown> | null;
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
    e: {
      clinicId: string;
      planId: string;
      type: string;
      reason: string | null;
      actorKeyId: string;
      actorRole: string;
      at: Date;
      changes: SessionChange[];
    },
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

/** Reads and writes that adjustments make to a plan and its sessions, in the caller's transaction. */
@Injectable()
export class AdjustmentWrites {
  async lockPlan(m: EntityManager, planId: string, clinicId: string | null): Promise<PlanEntity | null> {
    const qb = m
      .getRepository(PlanEntity)
      .createQueryBuilder('p')
      .setLock('pessimistic_write')
      .where('p.id = :planId', { planId });
    if (clinicId !== null) qb.andWhere('p.clinic_id = :clinicId', { clinicId });
    return qb.getOne();
  }

  sessions(m: EntityManager, plan: PlanEntity): Promise<SessionEntity[]> {
    return m
      .getRepository(SessionEntity)
      .createQueryBuilder('s')
      .where('s.clinic_id = :c AND s.plan_id = :p', { c: plan.clinicId, p: plan.id })
      .orderBy('s.starts_at', 'ASC')
      .addOrderBy('s.ref', 'ASC')
      .getMany();
  }

  async versionSteps(m: EntityManager, plan: PlanEntity): Promise<ProtocolStep[]> {
    const [row] = await m.query(
      `SELECT steps FROM protocol_versions WHERE clinic_id = $1 AND protocol_id = $2 AND version = $3`,
      [plan.clinicId, plan.protocolId, plan.protocolVersion],
    );
    return row.steps as ProtocolStep[];
  }

  async cancel(m: EntityManager, s: SessionEntity, reason: string, at: Date): Promise<void> {
    await m.query(
      `UPDATE sessions SET status = 'cancelled', status_reason = $3, version = version + 1, updated_at = $4
        WHERE clinic_id = $1 AND id = $2 AND status = 'scheduled'`,
      [s.clinicId, s.id, reason, at],
    );
  }

  async setPlannedDose(m: EntityManager, s: SessionEntity, dose: PlannedDose, at: Date): Promise<void> {
    await m.query(
      `UPDATE sessions SET planned_dose = $3::jsonb, version = version + 1, updated_at = $4 WHERE clinic_id = $1 AND id = $2`,
      [s.clinicId, s.id, JSON.stringify(dose), at],
    );
  }

  async setChair(m: EntityManager, s: SessionEntity, chairId: string, at: Date): Promise<void> {
    await m.query(
      `UPDATE sessions SET chair_id = $3, version = version + 1, updated_at = $4 WHERE clinic_id = $1 AND id = $2`,
      [s.clinicId, s.id, chairId, at],
    );
  }

  async setStaff(m: EntityManager, s: SessionEntity, staffId: string, seat: number, at: Date): Promise<void> {
    await m.query(
      `UPDATE sessions SET staff_id = $3, staff_seat = $4, version = version + 1, updated_at = $5 WHERE clinic_id = $1 AND id = $2`,
      [s.clinicId, s.id, staffId, seat, at],
    );
  }

  /** Lets a cascade move several sessions of a plan before the overlap constraints judge them (at commit). */
  async deferOverlapChecks(m: EntityManager): Promise<void> {
    await m.query(
      `SET CONSTRAINTS sessions_no_chair_overlap, sessions_no_patient_overlap, sessions_no_seat_overlap, sessions_start_seats DEFERRED`,
    );
  }

  async move(
    m: EntityManager,
    s: SessionEntity,
    to: {
      start: Date;
      end: Date;
      occupiedUntil: Date;
      chairId: string | null;
      staffId: string | null;
      staffSeat: number | null;
    },
    at: Date,
  ): Promise<void> {
    await m.query(
      `UPDATE sessions SET starts_at = $3, ends_at = $4, occupied_until = $5, chair_id = $6, staff_id = $7, staff_seat = $8,
              version = version + 1, updated_at = $9
        WHERE clinic_id = $1 AND id = $2`,
      [s.clinicId, s.id, to.start, to.end, to.occupiedUntil, to.chairId, to.staffId, to.staffSeat, at],
    );
  }

  async setPlanStatus(m: EntityManager, plan: PlanEntity, status: PlanEntity['status']): Promise<void> {
    await m.query(`UPDATE plans SET status = $3 WHERE clinic_id = $1 AND id = $2`, [plan.clinicId, plan.id, status]);
  }
}
