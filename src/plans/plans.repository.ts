import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ChairEntity } from '../clinics/entities/chair.entity.js';
import { ClinicEntity } from '../clinics/entities/clinic.entity.js';
import { ClosureEntity } from '../clinics/entities/closure.entity.js';
import { StaffMemberEntity } from '../clinics/entities/staff-member.entity.js';
import { PatientEntity } from '../patients/entities/patient.entity.js';
import type { BookedSession } from '../scheduling/engine/types.js';
import { SessionEntity } from '../sessions/entities/session.entity.js';
import { PlanEntity } from './entities/plan.entity.js';

const ACTIVE = `status IN ('scheduled', 'checked_in', 'completed')`;

export interface ClinicSetup {
  clinic: ClinicEntity;
  chairs: ChairEntity[];
  staff: StaffMemberEntity[];
  closures: ClosureEntity[];
}

export interface SeatUse {
  staffId: string;
  seat: number;
  start: Date;
  end: Date;
}

/** Reads and writes for plans and their sessions. */
@Injectable()
export class PlansRepository {
  constructor(private readonly dataSource: DataSource) {}

  private m(m?: EntityManager): EntityManager {
    return m ?? this.dataSource.manager;
  }

  findPatient(id: string, clinicId: string | null): Promise<PatientEntity | null> {
    return this.dataSource.manager.findOneBy(PatientEntity, clinicId === null ? { id } : { clinicId, id });
  }

  async clinicSetup(clinicId: string): Promise<ClinicSetup> {
    const mgr = this.dataSource.manager;
    const [clinic, chairs, staff, closures] = await Promise.all([
      mgr.findOneByOrFail(ClinicEntity, { id: clinicId }),
      mgr.find(ChairEntity, { where: { clinicId, active: true }, order: { name: 'ASC', id: 'ASC' } }),
      mgr.find(StaffMemberEntity, { where: { clinicId, active: true }, order: { name: 'ASC', id: 'ASC' } }),
      mgr.find(ClosureEntity, { where: { clinicId } }),
    ]);
    return { clinic, chairs, staff, closures };
  }

  /**
   * Every active session of the clinic overlapping [from, to), as integer epoch minutes
   * (decoding dates is most of the cost of this query; the gist index on (clinic_id, during) serves it).
   */
  async bookings(clinicId: string, from: Date, to: Date, m?: EntityManager): Promise<BookedSession[]> {
    const rows: { s: number; e: number; c: string | null; st: string | null; p: string }[] = await this.m(m).query(
      `SELECT (extract(epoch FROM starts_at) / 60)::int AS s, (extract(epoch FROM occupied_until) / 60)::int AS e,
              chair_id AS c, staff_id AS st, patient_id AS p
         FROM sessions
        WHERE clinic_id = $1 AND during && tstzrange($2, $3, '[)') AND ${ACTIVE}`,
      [clinicId, from, to],
    );
    return rows.map((r) => ({ start: r.s, end: r.e, chairId: r.c, staffId: r.st, patientId: r.p }));
  }

  /** Seats held by active sessions of these staff members overlapping [from, to). */
  async seatsInUse(m: EntityManager, clinicId: string, staffIds: string[], from: Date, to: Date): Promise<SeatUse[]> {
    if (staffIds.length === 0) return [];
    const rows: { staff_id: string; staff_seat: number; starts_at: Date; occupied_until: Date }[] = await m.query(
      `SELECT staff_id, staff_seat, starts_at, occupied_until FROM sessions
        WHERE clinic_id = $1 AND staff_id = ANY($2) AND during && tstzrange($3, $4, '[)') AND ${ACTIVE}`,
      [clinicId, staffIds, from, to],
    );
    return rows.map((r) => ({ staffId: r.staff_id, seat: r.staff_seat, start: r.starts_at, end: r.occupied_until }));
  }

  async insertPlan(m: EntityManager, row: Omit<PlanEntity, 'id' | 'createdAt' | 'updatedAt' | 'status' | 'version'>): Promise<PlanEntity> {
    const repo = m.getRepository(PlanEntity);
    return repo.save(repo.create({ ...row, status: 'active', version: 1 }));
  }

  async insertSessions(m: EntityManager, rows: Omit<SessionEntity, 'id' | 'createdAt' | 'updatedAt' | 'version' | 'status'>[]): Promise<SessionEntity[]> {
    if (rows.length === 0) return [];
    const result = await m
      .createQueryBuilder()
      .insert()
      .into(SessionEntity)
      .values(rows.map((r) => ({ ...r, status: 'scheduled' as const, version: 1 })))
      .returning('*')
      .execute();
    return (result.raw as Record<string, unknown>[]).map((r) => m.getRepository(SessionEntity).create(this.fromRaw(r)));
  }

  private fromRaw(r: Record<string, unknown>): Partial<SessionEntity> {
    return {
      clinicId: r.clinic_id as string,
      id: r.id as string,
      planId: r.plan_id as string,
      patientId: r.patient_id as string,
      ref: r.ref as string,
      stepKey: r.step_key as string,
      occurrence: r.occurrence as number,
      kind: r.kind as string,
      label: r.label as string,
      startsAt: r.starts_at as Date,
      endsAt: r.ends_at as Date,
      occupiedUntil: r.occupied_until as Date,
      chairId: r.chair_id as string | null,
      staffId: r.staff_id as string | null,
      staffSeat: r.staff_seat as number | null,
      status: r.status as SessionEntity['status'],
      plannedDose: r.planned_dose as SessionEntity['plannedDose'],
      version: r.version as number,
      createdAt: r.created_at as Date,
      updatedAt: r.updated_at as Date,
    };
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
    return this.dataSource.getRepository(PlanEntity).find({ where: { clinicId, patientId }, order: { createdAt: 'DESC', id: 'ASC' } });
  }

  /** The first active session that overlaps one of these on its chair, patient or staff seat. */
  async firstConflict(
    clinicId: string,
    planned: { start: Date; end: Date; chairId: string | null; patientId: string; staffId: string | null; seat: number | null }[],
  ): Promise<string | undefined> {
    for (const p of planned) {
      const [row] = await this.dataSource.query(
        `SELECT id FROM sessions
          WHERE clinic_id = $1 AND ${ACTIVE} AND during && tstzrange($2, $3, '[)')
            AND (chair_id = $4 OR patient_id = $5 OR (staff_id = $6 AND staff_seat = $7))
          ORDER BY starts_at LIMIT 1`,
        [clinicId, p.start, p.end, p.chairId, p.patientId, p.staffId, p.seat],
      );
      if (row) return row.id as string;
    }
    return undefined;
  }
}
