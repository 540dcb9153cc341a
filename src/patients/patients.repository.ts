import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { runSql, sql } from '../common/database/sql.js';
import { PatientEntity } from './entities/patient.entity.js';

export interface PatientSearch {
  clinicId?: string;
  q?: string;
  limit: number;
  after?: [string, string];
}

@Injectable()
export class PatientsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * A patient by id, within the clinic unless `clinicId` is null (operator); plain SQL, as it is on
   * every booking's path.
   */
  async findById(
    id: string,
    clinicId: string | null,
    m: EntityManager = this.dataSource.manager,
  ): Promise<PatientEntity | null> {
    const rows = await runSql(
      m,
      sql`SELECT clinic_id, id, full_name, date_of_birth::text AS date_of_birth, email, phone, weight_kg::float8 AS weight_kg, notes,
              weight_confirmed_at, weight_confirmed_by, pending_weight_kg::float8 AS pending_weight_kg, pending_weight_at, pending_weight_by,
              unavailable, unavailable_dates, preferred_times, version, created_at, updated_at
         FROM patients WHERE ${clinicId === null ? sql`id = ${id}` : sql`clinic_id = ${clinicId} AND id = ${id}`}`,
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

  /** By id, within one clinic, or in any clinic when clinicId is null (operator keys). */
  find(m: EntityManager, id: string, clinicId: string | null): Promise<PatientEntity | null> {
    return m.findOneBy(PatientEntity, clinicId === null ? { id } : { clinicId, id });
  }

  async lock(m: EntityManager, id: string, clinicId: string | null): Promise<PatientEntity | null> {
    const qb = m
      .getRepository(PatientEntity)
      .createQueryBuilder('p')
      .setLock('pessimistic_write')
      .where('p.id = :id', { id });
    if (clinicId !== null) qb.andWhere('p.clinic_id = :clinicId', { clinicId });
    return qb.getOne();
  }

  /** Name search (substring, case-insensitive; trigram index) in name order, keyset-paged. */
  search(m: EntityManager, s: PatientSearch): Promise<PatientEntity[]> {
    const qb = m.getRepository(PatientEntity).createQueryBuilder('p');
    if (s.clinicId) qb.andWhere('p.clinic_id = :clinicId', { clinicId: s.clinicId });
    if (s.q) {
      // Lower-cased by PostgreSQL on both sides, so that both agree on every alphabet.
      const pattern = `%${s.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      qb.andWhere('lower(p.full_name) LIKE lower(:pattern)', { pattern });
    }
    if (s.after)
      qb.andWhere('(lower(p.full_name), p.id) > (lower(:name), :id::uuid)', { name: s.after[0], id: s.after[1] });
    return qb.orderBy('lower(p.full_name)', 'ASC').addOrderBy('p.id', 'ASC').limit(s.limit).getMany();
  }

  save(m: EntityManager, patient: Partial<PatientEntity>): Promise<PatientEntity> {
    const repo = m.getRepository(PatientEntity);
    return repo.save(repo.create(patient));
  }
}
