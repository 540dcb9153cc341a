import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { PatientEntity } from './entities/patient.entity.js';

export interface PatientSearch {
  clinicId?: string;
  q?: string;
  limit: number;
  after?: [string, string];
}

@Injectable()
export class PatientsRepository {
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
