import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ChairEntity } from '../clinics/entities/chair.entity.js';
import { ClinicEntity } from '../clinics/entities/clinic.entity.js';
import { ClosureEntity } from '../clinics/entities/closure.entity.js';
import { StaffMemberEntity } from '../clinics/entities/staff-member.entity.js';
import { PatientEntity } from '../patients/entities/patient.entity.js';
import type { BookedSession } from '../scheduling/engine/types.js';
import { ACTIVE_SESSION_STATUSES, SessionEntity } from '../sessions/entities/session.entity.js';
import { sessionFromRow } from '../sessions/session-row.js';
import type { ViewContext } from '../sessions/session-view.js';
import { scheduleLockSql } from '../common/database/schedule-lock.js';
import { ValidationFailedError } from '../common/errors/common.errors.js';
import { PlanEntity } from './entities/plan.entity.js';

/** A session that holds its chair, staff seat and patient (the statuses the exclusion constraints cover). */
export const ACTIVE = `status IN (${ACTIVE_SESSION_STATUSES.map((s) => `'${s}'`).join(', ')})`;
const OTHER_PATIENT = '(another patient)';

// Sessions are inserted from one array per column ($4…$15, after clinic, plan and patient as $1…$3).
const SESSION_COLUMNS = `(clinic_id, plan_id, patient_id, ref, step_key, occurrence, kind, label, starts_at, ends_at, occupied_until,
                          chair_id, staff_id, staff_seat, planned_dose)`;
const SESSION_VALUES = `u.ref, u.step_key, u.occurrence, u.kind, u.label, u.starts_at, u.ends_at, u.occupied_until, u.chair_id, u.staff_id, u.staff_seat, u.planned_dose`;
const SESSION_ROWS = `unnest($4::text[], $5::text[], $6::int[], $7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[],
                             $11::timestamptz[], $12::uuid[], $13::uuid[], $14::int[], $15::jsonb[]) WITH ORDINALITY
                      AS u(ref, step_key, occurrence, kind, label, starts_at, ends_at, occupied_until, chair_id, staff_id, staff_seat, planned_dose, n)`;

/** The same rows when only clinic and patient come first ($1, $2): the arrays are $3…$14. */
const SESSION_ROWS_AFTER_TWO = SESSION_ROWS.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) - 1}`);

function sessionArrays(rows: Omit<NewSession, 'planId' | 'clinicId' | 'patientId'>[]): unknown[] {
  const col = <T>(f: (r: (typeof rows)[number]) => T): T[] => rows.map(f);
  return [
    col((r) => r.ref),
    col((r) => r.stepKey),
    col((r) => r.occurrence),
    col((r) => r.kind),
    col((r) => r.label),
    col((r) => r.startsAt),
    col((r) => r.endsAt),
    col((r) => r.occupiedUntil),
    col((r) => r.chairId),
    col((r) => r.staffId),
    col((r) => r.staffSeat),
    col((r) => (r.plannedDose === null ? null : JSON.stringify(r.plannedDose))),
  ];
}

export interface ClinicSetup {
  clinic: ClinicEntity;
  chairs: ChairEntity[];
  staff: StaffMemberEntity[];
  closures: ClosureEntity[];
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

  /** A patient by id, within the clinic unless `clinicId` is null (operator); plain SQL, as it is on every booking's path. */
  async findPatient(
    id: string,
    clinicId: string | null,
    m: EntityManager = this.dataSource.manager,
  ): Promise<PatientEntity | null> {
    const rows: Record<string, unknown>[] = await m.query(
      `SELECT clinic_id, id, full_name, date_of_birth::text AS date_of_birth, email, phone, weight_kg::float8 AS weight_kg, notes,
              weight_confirmed_at, weight_confirmed_by, pending_weight_kg::float8 AS pending_weight_kg, pending_weight_at, pending_weight_by,
              unavailable, unavailable_dates, preferred_times, version, created_at, updated_at
         FROM patients WHERE ${clinicId === null ? 'id = $1' : 'clinic_id = $2 AND id = $1'}`,
      clinicId === null ? [id] : [id, clinicId],
    );
    const r = rows[0];
    if (!r) return null;
    return Object.assign(new PatientEntity(), {
      clinicId: r.clinic_id as string,
      id: r.id as string,
      fullName: r.full_name as string,
      dateOfBirth: r.date_of_birth as string,
      email: r.email as string | null,
      phone: r.phone as string | null,
      weightKg: r.weight_kg as number | null,
      weightConfirmedAt: r.weight_confirmed_at as Date | null,
      weightConfirmedBy: r.weight_confirmed_by as string | null,
      pendingWeightKg: r.pending_weight_kg as number | null,
      pendingWeightAt: r.pending_weight_at as Date | null,
      pendingWeightBy: r.pending_weight_by as string | null,
      notes: r.notes as string | null,
      unavailable: r.unavailable as PatientEntity['unavailable'],
      unavailableDates: r.unavailable_dates as string[],
      preferredTimes: r.preferred_times as PatientEntity['preferredTimes'],
      version: r.version as number,
      createdAt: r.created_at as Date,
      updatedAt: r.updated_at as Date,
    });
  }

  /** The clinic's active sessions holding a chair that overlap [from, to), as epoch-millisecond spans (no patient data). */
  async chairSpans(clinicId: string, from: Date, to: Date): Promise<{ start: number; end: number }[]> {
    // Sessions last at most a day: a range on the start (sessions_clinic_start_idx) finds every overlap.
    const rows: { s: string; e: string }[] = await this.dataSource.query(
      `SELECT (extract(epoch FROM starts_at) * 1000)::bigint AS s, (extract(epoch FROM occupied_until) * 1000)::bigint AS e
         FROM sessions
        WHERE clinic_id = $1 AND chair_id IS NOT NULL AND status IN ('scheduled', 'checked_in', 'completed')
          AND starts_at >= $2::timestamptz - interval '1 day' AND starts_at < $3 AND occupied_until > $2
        ORDER BY starts_at`,
      [clinicId, from, to],
    );
    return rows.map((r) => ({ start: Number(r.s), end: Number(r.e) }));
  }

  /** A clinic and what it schedules with; null when there is no such clinic. */
  async clinicSetupOrNull(clinicId: string, m: EntityManager = this.dataSource.manager): Promise<ClinicSetup | null> {
    // One round trip: the clinic with its active chairs and staff and its closures, as JSON.
    const [row] = await m.query(
      `SELECT json_build_object('id', c.id, 'name', c.name, 'timezone', c.timezone, 'openingHours', c.opening_hours,
                                'maxStartsPerSlot', c.max_starts_per_slot, 'maxStartsPerNursePerSlot', c.max_starts_per_nurse_per_slot,
                                'levelling', c.levelling,
                                'version', c.version, 'createdAt', c.created_at, 'updatedAt', c.updated_at) AS clinic,
              (SELECT coalesce(json_agg(json_build_object('clinicId', x.clinic_id, 'id', x.id, 'name', x.name, 'active', x.active,
                                                          'createdAt', x.created_at, 'updatedAt', x.updated_at) ORDER BY x.name, x.id), '[]')
                 FROM chairs x WHERE x.clinic_id = c.id AND x.active) AS chairs,
              (SELECT coalesce(json_agg(json_build_object('clinicId', x.clinic_id, 'id', x.id, 'name', x.name, 'role', x.role,
                                                          'availability', x.availability, 'maxConcurrentPatients', x.max_concurrent_patients,
                                                          'active', x.active, 'createdAt', x.created_at, 'updatedAt', x.updated_at) ORDER BY x.name, x.id), '[]')
                 FROM staff_members x WHERE x.clinic_id = c.id AND x.active) AS staff,
              (SELECT coalesce(json_agg(json_build_object('clinicId', x.clinic_id, 'id', x.id, 'startDate', x.start_date, 'endDate', x.end_date,
                                                          'startTime', x.start_time, 'endTime', x.end_time, 'reason', x.reason,
                                                          'createdAt', x.created_at) ORDER BY x.start_date, x.id), '[]')
                 FROM closures x WHERE x.clinic_id = c.id) AS closures
         FROM clinics c WHERE c.id = $1`,
      [clinicId],
    );
    if (!row) return null;
    const dates = <T extends { createdAt: unknown; updatedAt?: unknown }>(x: T): T => ({
      ...x,
      createdAt: new Date(x.createdAt as string),
      ...('updatedAt' in x ? { updatedAt: new Date(x.updatedAt as string) } : {}),
    });
    return {
      clinic: dates(row.clinic as ClinicEntity),
      chairs: (row.chairs as ChairEntity[]).map(dates),
      staff: (row.staff as StaffMemberEntity[]).map(dates),
      closures: (row.closures as ClosureEntity[]).map(dates),
    };
  }

  /** What session views need (zone, chair and staff names); a 400 naming clinicId when there is no such clinic. */
  async viewContext(clinicId: string): Promise<ViewContext> {
    const setup = await this.clinicSetupOrNull(clinicId);
    if (!setup) throw new ValidationFailedError([{ field: 'clinicId', message: 'no such clinic' }]);
    return { timezone: setup.clinic.timezone, chairs: setup.chairs, staff: setup.staff };
  }

  async clinicSetup(clinicId: string, m?: EntityManager): Promise<ClinicSetup> {
    const setup = await this.clinicSetupOrNull(clinicId, m);
    if (!setup) throw new Error(`clinic ${clinicId} vanished`);
    return setup;
  }

  /**
   * Every active session of the clinic overlapping [from, to), as integer epoch minutes
   * (decoding dates is most of the cost of this query; the gist index on (clinic_id, during) serves it).
   */
  async bookings(
    clinicId: string,
    from: Date,
    to: Date,
    ids: { chairs: string[]; staff: string[]; patientId: string },
    exclude: { sessionId?: string; planId?: string } = {},
    m?: EntityManager,
  ): Promise<BookedSession[]> {
    // Decoding is most of the cost: integer minutes, chair and staff as positions in the lists
    // the engine already has, the patient as a flag — all in one text value, six integers per
    // session, comma-separated (0 for "none"), split and parsed in one pass. Through the caller's
    // transaction when given one.
    // A session holds its resources at most a day (duration and recovery are each ≤ 12 h), so
    // starting no earlier than a day before `from` covers every overlap.
    const rows: { packed: string | null }[] = await (m ?? this.dataSource.manager).query(
      `SELECT string_agg(concat_ws(',', (date_part('epoch', starts_at) / 60)::int, (date_part('epoch', occupied_until) / 60)::int,
                                         coalesce(array_position($4::uuid[], chair_id), 0), coalesce(array_position($5::uuid[], staff_id), 0),
                                         (patient_id = $6)::int, coalesce(staff_seat, 0)), ',') AS packed
               FROM sessions
              WHERE clinic_id = $1 AND starts_at >= $2::timestamptz - interval '1 day' AND starts_at < $3
                AND occupied_until > $2 AND ${ACTIVE} AND id IS DISTINCT FROM $7 AND plan_id IS DISTINCT FROM $8`,
      [clinicId, from, to, ids.chairs, ids.staff, ids.patientId, exclude.sessionId ?? null, exclude.planId ?? null],
    );
    const packed = rows[0]?.packed;
    if (!packed) return [];
    const n = packed.split(',').map(Number);
    const out: BookedSession[] = new Array(n.length / 6);
    for (let i = 0, k = 0; i < n.length; i += 6, k++) {
      out[k] = {
        start: n[i],
        end: n[i + 1],
        chairId: n[i + 2] === 0 ? null : ids.chairs[n[i + 2] - 1],
        staffId: n[i + 3] === 0 ? null : ids.staff[n[i + 3] - 1],
        // Other patients' sessions only matter for chairs and staff: a marker no patient id can equal.
        patientId: n[i + 4] === 1 ? ids.patientId : OTHER_PATIENT,
        staffSeat: n[i + 5] === 0 ? null : n[i + 5],
      };
    }
    return out;
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

  /**
   * A plan and its sessions in one statement (one round trip): the plan row, then its sessions in
   * the order given (the sessions' foreign key to the plan is checked at the end of the statement).
   * `also` adds more of the same transaction's writes to the statement (a booking's audit row), its
   * parameters numbered from the `first` it is given; with `lock`, the clinic's schedule lock is
   * taken inside the statement before any row is written, so that, run on its own, the statement
   * is a whole booking transaction.
   */
  async insertPlanWithSessions(
    m: EntityManager,
    row: Omit<PlanEntity, 'createdAt' | 'updatedAt' | 'status' | 'version'>,
    sessions: Omit<NewSession, 'planId' | 'clinicId' | 'patientId'>[],
    opts: { lock?: boolean; also?: (first: number) => { sql: string; params: unknown[] } } = {},
  ): Promise<{ plan: PlanEntity; sessions: SessionEntity[] }> {
    const params: unknown[] = [
      row.clinicId,
      row.patientId,
      ...sessionArrays(sessions),
      row.id,
      row.protocolId,
      row.protocolVersion,
      JSON.stringify(row.tailoring),
      row.earliestStart,
      row.createdBy,
      row.concurrentSeries,
    ];
    const also = opts.also?.(params.length + 1);
    const raw: Record<string, unknown>[] = await m.query(
      `WITH ${opts.lock ? `l AS MATERIALIZED (SELECT ${scheduleLockSql('$1')}),` : ''}
       p AS (
         INSERT INTO plans (clinic_id, patient_id, id, protocol_id, protocol_version, tailoring, earliest_start, created_by, concurrent_series)
         SELECT $1, $2, $15, $16, $17, $18, $19, $20, $21 ${opts.lock ? 'FROM l' : ''}
         RETURNING id, status, version, created_at, updated_at),
       s AS (
         INSERT INTO sessions ${SESSION_COLUMNS}
         SELECT $1, p.id, $2, ${SESSION_VALUES}
           FROM p, ${SESSION_ROWS_AFTER_TWO}
          ORDER BY u.n
         RETURNING *)
       ${also ? `, a AS (${also.sql})` : ''}
       SELECT s.*, p.status AS plan_status, p.version AS plan_version, p.created_at AS plan_created_at, p.updated_at AS plan_updated_at
         FROM s CROSS JOIN p`,
      [...params, ...(also?.params ?? [])],
    );
    const first = raw[0];
    const plan = Object.assign(new PlanEntity(), row, {
      status: first.plan_status,
      version: first.plan_version,
      createdAt: first.plan_created_at,
      updatedAt: first.plan_updated_at,
    });
    const byRef = new Map(raw.map((r) => [r.ref as string, r]));
    return { plan, sessions: sessions.map((x) => sessionFromRow(byRef.get(x.ref)!)) };
  }

  /** Inserts sessions in one statement (one array per column), in the order given. */
  async insertSessions(m: EntityManager, rows: NewSession[]): Promise<SessionEntity[]> {
    if (rows.length === 0) return [];
    const raw: Record<string, unknown>[] = await m.query(
      `INSERT INTO sessions ${SESSION_COLUMNS}
       SELECT $1, $2, $3, ${SESSION_VALUES} FROM ${SESSION_ROWS}
       ORDER BY u.n
       RETURNING *`,
      [rows[0].clinicId, rows[0].planId, rows[0].patientId, ...sessionArrays(rows)],
    );
    const byRef = new Map(raw.map((r) => [r.ref as string, r]));
    return rows.map((r) => sessionFromRow(byRef.get(r.ref)!));
  }

  /** The patient's active series of this protocol (any version), oldest first; the one a new series would run beside. */
  async activeSeries(clinicId: string, patientId: string, protocolId: string): Promise<string | null> {
    const [row] = await this.dataSource.query(
      `SELECT id FROM plans WHERE clinic_id = $1 AND patient_id = $2 AND protocol_id = $3 AND status = 'active' ORDER BY created_at, id LIMIT 1`,
      [clinicId, patientId, protocolId],
    );
    return (row?.id as string | undefined) ?? null;
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

  /**
   * The first active session in the way of one of these: on its chair or its patient, or one of
   * the sessions filling its staff member to their limit.
   */
  async firstConflict(
    clinicId: string,
    planned: {
      start: Date;
      end: Date;
      chairId: string | null;
      patientId: string;
      staffId: string | null;
      staffMax: number;
    }[],
  ): Promise<string | undefined> {
    for (const p of planned) {
      const [row] = await this.dataSource.query(
        `SELECT id FROM sessions
          WHERE clinic_id = $1 AND ${ACTIVE} AND during && tstzrange($2, $3, '[)') AND (chair_id = $4 OR patient_id = $5)
          ORDER BY starts_at LIMIT 1`,
        [clinicId, p.start, p.end, p.chairId, p.patientId],
      );
      if (row) return row.id as string;
      if (!p.staffId) continue;
      const busy: { id: string }[] = await this.dataSource.query(
        `SELECT id FROM sessions
          WHERE clinic_id = $1 AND ${ACTIVE} AND during && tstzrange($2, $3, '[)') AND staff_id = $4
          ORDER BY starts_at`,
        [clinicId, p.start, p.end, p.staffId],
      );
      if (busy.length >= p.staffMax) return busy[0].id;
    }
    return undefined;
  }
}
