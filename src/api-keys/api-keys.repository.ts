import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ApiKeyEntity, type ApiRole } from './entities/api-key.entity.js';

@Injectable()
export class ApiKeysRepository {
  constructor(private readonly dataSource: DataSource) {}

  private manager(m?: EntityManager): EntityManager {
    return m ?? this.dataSource.manager;
  }

  async findActiveByHash(hash: string): Promise<Pick<ApiKeyEntity, 'id' | 'role' | 'clinicId'> | null> {
    const rows: { id: string; role: ApiRole; clinic_id: string | null }[] = await this.dataSource.query(
      'SELECT id, role, clinic_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
      [hash],
    );
    return rows[0] ? { id: rows[0].id, role: rows[0].role, clinicId: rows[0].clinic_id } : null;
  }

  async insert(m: EntityManager | undefined, row: Pick<ApiKeyEntity, 'clinicId' | 'name' | 'role' | 'keyPrefix' | 'keyHash'>): Promise<ApiKeyEntity> {
    const repo = this.manager(m).getRepository(ApiKeyEntity);
    const saved = await repo.save(repo.create(row));
    delete (saved as Partial<ApiKeyEntity>).keyHash;
    return saved;
  }

  /** Keys of one clinic, or every key when clinicId is undefined (operator view). Newest first. */
  async list(clinicId: string | undefined, limit: number, after?: [string, string]): Promise<ApiKeyEntity[]> {
    const qb = this.dataSource.getRepository(ApiKeyEntity).createQueryBuilder('k');
    if (clinicId !== undefined) qb.andWhere('k.clinic_id = :clinicId', { clinicId });
    // Cursors carry JavaScript's millisecond times, so order and compare at that precision.
    const at = "date_trunc('milliseconds', k.created_at)";
    if (after) qb.andWhere(`(${at}, k.id) < (:at::timestamptz, :id::uuid)`, { at: after[0], id: after[1] });
    return qb.orderBy(at, 'DESC').addOrderBy('k.id', 'DESC').limit(limit).getMany();
  }

  async findById(id: string): Promise<ApiKeyEntity | null> {
    return this.dataSource.getRepository(ApiKeyEntity).findOneBy({ id });
  }

  async revoke(m: EntityManager, id: string, at: Date): Promise<void> {
    await m.getRepository(ApiKeyEntity).update({ id }, { revokedAt: at });
  }
}
