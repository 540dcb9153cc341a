import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ValidationFailedError } from '../common/errors/common.errors.js';
import { runSql, sql } from '../common/database/sql.js';
import { ChairEntity } from './entities/chair.entity.js';
import { ClinicEntity } from './entities/clinic.entity.js';
import { ClosureEntity } from './entities/closure.entity.js';
import { StaffMemberEntity } from './entities/staff-member.entity.js';

/** A clinic with what it schedules with: its active chairs and staff, and its closures. */
export interface ClinicSetup {
  clinic: ClinicEntity;
  chairs: ChairEntity[];
  staff: StaffMemberEntity[];
  closures: ClosureEntity[];
}

/** Whether there is such a clinic (for `resolveClinicForWrite`, which is handed the caller's manager). */
export async function clinicExists(m: Pick<EntityManager, 'query'>, id: string): Promise<boolean> {
  return (await runSql(m, sql`SELECT 1 FROM clinics WHERE id = ${id}`)).length > 0;
}

/** All I/O for clinics and what they own: chairs, staff, closures. Always scoped by clinic. */
@Injectable()
export class ClinicsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private m(m?: EntityManager): EntityManager {
    return m ?? this.dataSource.manager;
  }

  /** Whether there is such a clinic. */
  exists(id: string, m?: EntityManager): Promise<boolean> {
    return clinicExists(this.m(m), id);
  }

  /** How many of these clinic ids exist. */
  async countExisting(ids: string[], m?: EntityManager): Promise<number> {
    const [row] = await runSql<{ n: number }>(
      this.m(m),
      sql`SELECT count(*)::int AS n FROM clinics WHERE id = ANY(${ids}::uuid[])`,
    );
    return row.n;
  }

  /** The clinic's IANA zone (the clinic must exist). */
  async timezone(m: EntityManager, clinicId: string): Promise<string> {
    const [row] = await runSql<{ timezone: string }>(m, sql`SELECT timezone FROM clinics WHERE id = ${clinicId}`);
    return row.timezone;
  }

  /** A clinic and what it schedules with, in one round trip (plain SQL: it is on every booking's path); null when there is no such clinic. */
  async setupOrNull(clinicId: string, m: EntityManager = this.dataSource.manager): Promise<ClinicSetup | null> {
    // The clinic with its active chairs and staff and its closures, as JSON.
    const [row] = await runSql(
      m,
      sql`SELECT json_build_object('id', c.id, 'name', c.name, 'timezone', c.timezone, 'openingHours', c.opening_hours,
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
         FROM clinics c WHERE c.id = ${clinicId}`,
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

  /** {@link setupOrNull} of a clinic known to exist. */
  async setup(clinicId: string, m?: EntityManager): Promise<ClinicSetup> {
    const setup = await this.setupOrNull(clinicId, m);
    if (!setup) throw new Error(`clinic ${clinicId} vanished`);
    return setup;
  }

  /** What session views need (zone, chair and staff names); a 400 naming clinicId when there is no such clinic. */
  async viewContext(clinicId: string): Promise<Pick<ClinicSetup, 'chairs' | 'staff'> & { timezone: string }> {
    const setup = await this.setupOrNull(clinicId);
    if (!setup) throw new ValidationFailedError([{ field: 'clinicId', message: 'no such clinic' }]);
    return { timezone: setup.clinic.timezone, chairs: setup.chairs, staff: setup.staff };
  }

  findClinic(id: string, m?: EntityManager): Promise<ClinicEntity | null> {
    return this.m(m).findOneBy(ClinicEntity, { id });
  }

  /** Locks the clinic row, serialising concurrent changes to one clinic. */
  async lockClinic(m: EntityManager, id: string): Promise<ClinicEntity | null> {
    return m
      .getRepository(ClinicEntity)
      .createQueryBuilder('c')
      .setLock('pessimistic_write')
      .where('c.id = :id', { id })
      .getOne();
  }

  /** Clinics by name, all or only those in `onlyIds`. */
  listClinics(onlyIds: string[] | undefined, limit: number, after?: [string, string]): Promise<ClinicEntity[]> {
    const qb = this.dataSource.getRepository(ClinicEntity).createQueryBuilder('c');
    if (onlyIds) qb.andWhere('c.id = ANY(:onlyIds::uuid[])', { onlyIds });
    if (after) qb.andWhere('(c.name, c.id) > (:name, :id::uuid)', { name: after[0], id: after[1] });
    return qb.orderBy('c.name', 'ASC').addOrderBy('c.id', 'ASC').limit(limit).getMany();
  }

  async insertClinic(
    m: EntityManager,
    row: Pick<ClinicEntity, 'name' | 'timezone' | 'openingHours'>,
  ): Promise<ClinicEntity> {
    const repo = m.getRepository(ClinicEntity);
    return repo.save(repo.create({ ...row, version: 1 }));
  }

  async updateClinic(m: EntityManager, clinic: ClinicEntity): Promise<ClinicEntity> {
    clinic.version += 1;
    return m.getRepository(ClinicEntity).save(clinic);
  }

  listChairs(clinicId: string): Promise<ChairEntity[]> {
    return this.dataSource.getRepository(ChairEntity).find({ where: { clinicId }, order: { name: 'ASC', id: 'ASC' } });
  }

  findChair(clinicId: string, id: string, m?: EntityManager): Promise<ChairEntity | null> {
    return this.m(m).findOneBy(ChairEntity, { clinicId, id });
  }

  saveChair(m: EntityManager, chair: Partial<ChairEntity>): Promise<ChairEntity> {
    const repo = m.getRepository(ChairEntity);
    return repo.save(repo.create(chair));
  }

  listStaff(clinicId: string): Promise<StaffMemberEntity[]> {
    return this.dataSource
      .getRepository(StaffMemberEntity)
      .find({ where: { clinicId }, order: { name: 'ASC', id: 'ASC' } });
  }

  findStaff(clinicId: string, id: string, m?: EntityManager): Promise<StaffMemberEntity | null> {
    return this.m(m).findOneBy(StaffMemberEntity, { clinicId, id });
  }

  saveStaff(m: EntityManager, staff: Partial<StaffMemberEntity>): Promise<StaffMemberEntity> {
    const repo = m.getRepository(StaffMemberEntity);
    return repo.save(repo.create(staff));
  }

  /**
   * Raises the revision of every session of this chair or staff member that is not over yet (its
   * occupancy ends after `now`) and not cancelled: a rename changes what calendars and synced copies
   * show of them (LOCATION, the staff line, the sync item's name), so they must see a change. The
   * change triggers write the sync log and the `session.updated` webhooks in this transaction.
   * Returns how many sessions changed.
   */
  async reviseUpcomingSessions(
    m: EntityManager,
    clinicId: string,
    of: { chairId: string } | { staffId: string },
    now: Date,
  ): Promise<number> {
    const [column, id] = 'chairId' in of ? ['chair_id', of.chairId] : ['staff_id', of.staffId];
    const [row] = await m.query(
      `WITH revised AS (
         UPDATE sessions SET version = version + 1, updated_at = $3
          WHERE clinic_id = $1 AND ${column} = $2 AND occupied_until > $3 AND status <> 'cancelled'
         RETURNING 1)
       SELECT count(*)::int AS n FROM revised`,
      [clinicId, id, now],
    );
    return row.n;
  }

  /** The highest seat any active session of this staff member holds from `now` on (0 if none). */
  /**
   * Numbers the start seats afresh (see migration StartStaggering) from now on; the first quarter
   * hour over a limit (which field, how many starts, when), or null when none is.
   */
  async renumberStartSeats(
    m: EntityManager,
    clinicId: string,
    now: Date,
  ): Promise<{ field: 'maxStartsPerSlot' | 'maxStartsPerNursePerSlot'; count: number; startsAt: Date } | null> {
    await m.query(`SELECT renumber_start_seats($1, $2)`, [clinicId, now]);
    const [row] = await m.query(
      `SELECT CASE WHEN ss.seat > c.max_starts_per_slot THEN 'maxStartsPerSlot' ELSE 'maxStartsPerNursePerSlot' END AS field,
              greatest(coalesce(ss.seat, 0), coalesce(ss.staff_seat, 0))::int AS count,
              to_timestamp(ss.start_slot * 900) AS starts_at
         FROM session_start_seats ss JOIN clinics c ON c.id = ss.clinic_id
        WHERE ss.clinic_id = $1 AND (ss.seat > c.max_starts_per_slot OR ss.staff_seat > c.max_starts_per_nurse_per_slot)
        ORDER BY ss.start_slot LIMIT 1`,
      [clinicId],
    );
    return row ? { field: row.field, count: row.count, startsAt: row.starts_at as Date } : null;
  }

  async highestSeatBookedAhead(m: EntityManager, clinicId: string, staffId: string, now: Date): Promise<number> {
    const [row] = await m.query(
      `SELECT coalesce(max(staff_seat), 0)::int AS seat FROM sessions
        WHERE clinic_id = $1 AND staff_id = $2 AND occupied_until > $3 AND status IN ('scheduled', 'checked_in', 'completed')`,
      [clinicId, staffId, now],
    );
    return row.seat;
  }

  listClosures(clinicId: string, from?: string, to?: string): Promise<ClosureEntity[]> {
    const qb = this.dataSource
      .getRepository(ClosureEntity)
      .createQueryBuilder('x')
      .where('x.clinic_id = :clinicId', { clinicId });
    if (from) qb.andWhere('x.end_date >= :from', { from });
    if (to) qb.andWhere('x.start_date <= :to', { to });
    return qb
      .orderBy('x.start_date', 'ASC')
      .addOrderBy('x.start_time', 'ASC', 'NULLS FIRST')
      .addOrderBy('x.id', 'ASC')
      .getMany();
  }

  saveClosure(m: EntityManager, closure: Partial<ClosureEntity>): Promise<ClosureEntity> {
    const repo = m.getRepository(ClosureEntity);
    return repo.save(repo.create(closure));
  }

  async deleteClosure(m: EntityManager, clinicId: string, id: string): Promise<boolean> {
    const res = await m.getRepository(ClosureEntity).delete({ clinicId, id });
    return (res.affected ?? 0) > 0;
  }
}
