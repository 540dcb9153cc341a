import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { SessionEntity, type SessionStatus } from './entities/session.entity.js';
import { sessionFromRow } from './session-row.js';

export interface SessionFilter {
  clinicId: string;
  from: Date;
  to: Date;
  chairId?: string;
  staffId?: string;
  patientId?: string;
  status?: SessionStatus;
  limit: number;
  after?: [string, string];
}

/** Reads and status changes of sessions. */
@Injectable()
export class SessionsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private m(m?: EntityManager): EntityManager {
    return m ?? this.dataSource.manager;
  }

  /** The clinic's zone and its check-in window setting (read in the caller's transaction). */
  async clinicTiming(
    m: EntityManager,
    clinicId: string,
  ): Promise<{ timezone: string; checkInOpensDaysBefore: number }> {
    const [row] = await m.query(`SELECT timezone, check_in_opens_days_before FROM clinics WHERE id = $1`, [clinicId]);
    return { timezone: row.timezone as string, checkInOpensDaysBefore: row.check_in_opens_days_before as number };
  }

  async find(id: string, clinicId: string | null, m?: EntityManager, lock = false): Promise<SessionEntity | null> {
    const qb = this.m(m).getRepository(SessionEntity).createQueryBuilder('s').where('s.id = :id', { id });
    if (clinicId !== null) qb.andWhere('s.clinic_id = :clinicId', { clinicId });
    if (lock) qb.setLock('pessimistic_write');
    return qb.getOne();
  }

  /** The day sheet: sessions starting in [from, to) with their patient's name, keyset-paged by (starts_at, id). */
  async list(f: SessionFilter): Promise<{ session: SessionEntity; patientName: string }[]> {
    const params: unknown[] = [f.clinicId, f.from, f.to];
    const where = ['s.clinic_id = $1', 's.starts_at >= $2', 's.starts_at < $3'];
    const add = (column: string, value: unknown) => {
      params.push(value);
      where.push(`${column} = $${params.length}`);
    };
    if (f.chairId) add('s.chair_id', f.chairId);
    if (f.staffId) add('s.staff_id', f.staffId);
    if (f.patientId) add('s.patient_id', f.patientId);
    if (f.status) add('s.status', f.status);
    if (f.after) {
      params.push(f.after[0], f.after[1]);
      where.push(`(s.starts_at, s.id) > ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(f.limit);
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT s.*, p.full_name AS patient_full_name
         FROM sessions s JOIN patients p ON p.clinic_id = s.clinic_id AND p.id = s.patient_id
        WHERE ${where.join(' AND ')}
        ORDER BY s.starts_at, s.id LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => ({ session: sessionFromRow(r), patientName: r.patient_full_name as string }));
  }

  /**
   * Moves a session from `from` to `to` only if it is still in `from` (compare-and-set), with the
   * given lifecycle fields. Returns false when someone changed it first.
   */
  async transition(
    m: EntityManager,
    s: Pick<SessionEntity, 'clinicId' | 'id'>,
    from: SessionStatus,
    to: SessionStatus,
    fields: Partial<Pick<SessionEntity, 'checkedInAt' | 'actualStart' | 'actualEnd' | 'doseGiven' | 'statusReason'>>,
    at: Date,
  ): Promise<boolean> {
    const res = await m
      .createQueryBuilder()
      .update(SessionEntity)
      .set({ ...fields, status: to, version: () => 'version + 1', updatedAt: at })
      .where('clinic_id = :clinicId AND id = :id AND status = :from', { clinicId: s.clinicId, id: s.id, from })
      .execute();
    return (res.affected ?? 0) === 1;
  }

  async planOf(
    m: EntityManager,
    sessionId: string,
    clinicId: string | null,
  ): Promise<{ clinicId: string; planId: string } | null> {
    const [row] = await m.query(
      `SELECT clinic_id, plan_id FROM sessions WHERE id = $1 ${clinicId === null ? '' : 'AND clinic_id = $2'}`,
      clinicId === null ? [sessionId] : [sessionId, clinicId],
    );
    return row ? { clinicId: row.clinic_id, planId: row.plan_id } : null;
  }

  async lockPlan(m: EntityManager, plan: { clinicId: string; planId: string }): Promise<void> {
    await m.query(`SELECT 1 FROM plans WHERE clinic_id = $1 AND id = $2 FOR UPDATE`, [plan.clinicId, plan.planId]);
  }

  async planWeight(m: EntityManager, clinicId: string, planId: string): Promise<number | null> {
    const [row] = await m.query(
      `SELECT (tailoring->>'weightKg')::numeric AS w FROM plans WHERE clinic_id = $1 AND id = $2`,
      [clinicId, planId],
    );
    return row?.w === null || row?.w === undefined ? null : Number(row.w);
  }

  async completePlanIfDone(m: EntityManager, clinicId: string, planId: string, at: Date): Promise<void> {
    await m.query(
      `UPDATE plans SET status = 'completed', updated_at = $3
        WHERE clinic_id = $1 AND id = $2 AND status = 'active'
          AND NOT EXISTS (SELECT 1 FROM sessions WHERE clinic_id = $1 AND plan_id = $2 AND status IN ('scheduled', 'checked_in'))`,
      [clinicId, planId, at],
    );
  }
}
