import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { SessionEntity } from '../sessions/entities/session.entity.js';
import { sessionFromRow } from '../sessions/session-row.js';
import { scheduleLock } from '../common/database/schedule-lock.js';
import { empty, param, raw, runSql, sql, type Sql } from '../common/database/sql.js';
import { PlanEntity } from './entities/plan.entity.js';

const SESSION_COLUMNS =
  raw(`(clinic_id, plan_id, patient_id, ref, step_key, occurrence, kind, label, starts_at, ends_at, occupied_until,
                          chair_id, staff_id, staff_seat, planned_dose)`);
const SESSION_VALUES = raw(
  `u.ref, u.step_key, u.occurrence, u.kind, u.label, u.starts_at, u.ends_at, u.occupied_until, u.chair_id, u.staff_id, u.staff_seat, u.planned_dose`,
);

/** The sessions as rows `u` (one array parameter per column), numbered `u.n` in the order given. */
function sessionRows(rows: Omit<NewSession, 'planId' | 'clinicId' | 'patientId'>[]): Sql {
  const col = <T>(f: (r: (typeof rows)[number]) => T): T[] => rows.map(f);
  const dose = col((r) => (r.plannedDose === null ? null : JSON.stringify(r.plannedDose)));
  return sql`unnest(${col((r) => r.ref)}::text[], ${col((r) => r.stepKey)}::text[], ${col((r) => r.occurrence)}::int[],
                    ${col((r) => r.kind)}::text[], ${col((r) => r.label)}::text[], ${col((r) => r.startsAt)}::timestamptz[],
                    ${col((r) => r.endsAt)}::timestamptz[], ${col((r) => r.occupiedUntil)}::timestamptz[],
                    ${col((r) => r.chairId)}::uuid[], ${col((r) => r.staffId)}::uuid[], ${col((r) => r.staffSeat)}::int[],
                    ${dose}::jsonb[]) WITH ORDINALITY
             AS u(ref, step_key, occurrence, kind, label, starts_at, ends_at, occupied_until, chair_id, staff_id, staff_seat, planned_dose, n)`;
}

/** A session as booking writes it: the lifecycle fields start empty. */
export type NewSession = Omit<
  SessionEntity,
  | 'id'
  | 'createdAt'
  | 'updatedAt'
  | 'version'
  | 'status'
  | 'checkedInAt'
  | 'actualStart'
  | 'actualEnd'
  | 'doseGiven'
  | 'statusReason'
>;

/** Reads and writes for plans and their sessions. */
@Injectable()
export class PlansRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * A plan and its sessions in one statement (one round trip): the plan row, then its sessions in
   * the order given (the sessions' foreign key to the plan is checked at the end of the statement).
   * `also` adds more of the same transaction's writes to the statement (a booking's audit row);
   * with `lock`, the clinic's schedule lock is taken inside the statement before any row is
   * written, so that, run on its own, the statement is a whole booking transaction.
   */
  async insertPlanWithSessions(
    m: EntityManager,
    row: Omit<PlanEntity, 'createdAt' | 'updatedAt' | 'status' | 'version'>,
    sessions: Omit<NewSession, 'planId' | 'clinicId' | 'patientId'>[],
    opts: { lock?: boolean; also?: Sql } = {},
  ): Promise<{ plan: PlanEntity; sessions: SessionEntity[] }> {
    const clinic = param(row.clinicId);
    const patient = param(row.patientId);
    const out: Record<string, unknown>[] = await runSql(
      m,
      sql`WITH ${opts.lock ? sql`l AS MATERIALIZED (SELECT ${scheduleLock(clinic)}),` : empty}
       p AS (
         INSERT INTO plans (clinic_id, patient_id, id, protocol_id, protocol_version, tailoring, earliest_start, created_by, concurrent_series)
         SELECT ${clinic}, ${patient}, ${row.id}, ${row.protocolId}, ${row.protocolVersion}, ${JSON.stringify(row.tailoring)}, ${row.earliestStart}, ${row.createdBy}, ${row.concurrentSeries} ${opts.lock ? sql`FROM l` : empty}
         RETURNING id, status, version, created_at, updated_at),
       s AS (
         INSERT INTO sessions ${SESSION_COLUMNS}
         SELECT ${clinic}, p.id, ${patient}, ${SESSION_VALUES}
           FROM p, ${sessionRows(sessions)}
          ORDER BY u.n
         RETURNING *)
       ${opts.also ? sql`, a AS (${opts.also})` : empty}
       SELECT s.*, p.status AS plan_status, p.version AS plan_version, p.created_at AS plan_created_at, p.updated_at AS plan_updated_at
         FROM s CROSS JOIN p`,
    );
    const first = out[0];
    const plan = Object.assign(new PlanEntity(), row, {
      status: first.plan_status,
      version: first.plan_version,
      createdAt: first.plan_created_at,
      updatedAt: first.plan_updated_at,
    });
    const byRef = new Map(out.map((r) => [r.ref as string, r]));
    return { plan, sessions: sessions.map((x) => sessionFromRow(byRef.get(x.ref)!)) };
  }

  /** Inserts sessions in one statement (one array per column), in the order given. */
  async insertSessions(m: EntityManager, rows: NewSession[]): Promise<SessionEntity[]> {
    if (rows.length === 0) return [];
    const out: Record<string, unknown>[] = await runSql(
      m,
      sql`INSERT INTO sessions ${SESSION_COLUMNS}
       SELECT ${rows[0].clinicId}, ${rows[0].planId}, ${rows[0].patientId}, ${SESSION_VALUES} FROM ${sessionRows(rows)}
       ORDER BY u.n
       RETURNING *`,
    );
    const byRef = new Map(out.map((r) => [r.ref as string, r]));
    return rows.map((r) => sessionFromRow(byRef.get(r.ref)!));
  }

  /** The patient's active series of this protocol (any version), oldest first; the one a new series would run beside. */
  async activeSeries(clinicId: string, patientId: string, protocolId: string): Promise<string | null> {
    const [row] = await runSql<{ id: string }>(
      this.dataSource.manager,
      sql`SELECT id FROM plans WHERE clinic_id = ${clinicId} AND patient_id = ${patientId} AND protocol_id = ${protocolId} AND status = 'active' ORDER BY created_at, id LIMIT 1`,
    );
    return row?.id ?? null;
  }

  findPlan(id: string, clinicId: string | null): Promise<PlanEntity | null> {
    return this.dataSource.manager.findOneBy(PlanEntity, clinicId === null ? { id } : { clinicId, id });
  }

  sessionsOf(clinicId: string, planIds: string[]): Promise<SessionEntity[]> {
    if (planIds.length === 0) return Promise.resolve([]);
    return this.dataSource
      .getRepository(SessionEntity)
      .createQueryBuilder('s')
      .where('s.clinic_id = :clinicId AND s.plan_id = ANY(:planIds)', { clinicId, planIds })
      .orderBy('s.starts_at', 'ASC')
      .addOrderBy('s.ref', 'ASC')
      .getMany();
  }

  plansOfPatient(clinicId: string, patientId: string): Promise<PlanEntity[]> {
    return this.dataSource
      .getRepository(PlanEntity)
      .find({ where: { clinicId, patientId }, order: { createdAt: 'DESC', id: 'ASC' } });
  }
}
