import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ApiKeyEntity, type ApiRole } from './entities/api-key.entity.js';

@Injectable()
export class ApiKeysRepository {
  constructor(private readonly dataSource: DataSource) {}

  private manager(m?: EntityManager): EntityManager {
    return m ?? this.dataSource.manager;
  }

  /** An active key by its hash, with the further clinics an admin key was granted. */
  async findActiveByHash(
    hash: string,
  ): Promise<(Pick<ApiKeyEntity, 'id' | 'role' | 'clinicId'> & { additionalClinicIds: string[] }) | null> {
    const rows: { id: string; role: ApiRole; clinic_id: string | null; more: string[] | null }[] =
      await this.dataSource.query(
        `SELECT k.id, k.role, k.clinic_id,
              (SELECT array_agg(g.clinic_id ORDER BY g.clinic_id) FROM api_key_clinics g WHERE g.key_id = k.id) AS more
         FROM api_keys k WHERE k.key_hash = $1 AND k.revoked_at IS NULL`,
        [hash],
      );
    const r = rows[0];
    return r ? { id: r.id, role: r.role, clinicId: r.clinic_id, additionalClinicIds: r.more ?? [] } : null;
  }

  /** The further clinics of each key (keys without any are absent from the map). */
  async grants(keyIds: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (keyIds.length === 0) return out;
    const rows: { key_id: string; clinic_id: string }[] = await this.dataSource.query(
      'SELECT key_id, clinic_id FROM api_key_clinics WHERE key_id = ANY($1::uuid[]) ORDER BY key_id, clinic_id',
      [keyIds],
    );
    for (const r of rows) out.set(r.key_id, [...(out.get(r.key_id) ?? []), r.clinic_id]);
    return out;
  }

  async grant(m: EntityManager, keyId: string, homeClinicId: string, clinicIds: string[]): Promise<void> {
    if (clinicIds.length === 0) return;
    await m.query(`INSERT INTO api_key_clinics (key_id, home_clinic_id, clinic_id) SELECT $1, $2, unnest($3::uuid[])`, [
      keyId,
      homeClinicId,
      clinicIds,
    ]);
  }

  async insert(
    m: EntityManager | undefined,
    row: Pick<ApiKeyEntity, 'clinicId' | 'name' | 'role' | 'keyPrefix' | 'keyHash'>,
  ): Promise<ApiKeyEntity> {
    const repo = this.manager(m).getRepository(ApiKeyEntity);
    const saved = await repo.save(repo.create(row));
    delete (saved as Partial<ApiKeyEntity>).keyHash;
    return saved;
  }

  /**
   * Keys of one clinic, and admin keys of `homes` (the other clinics the viewer may act in) granted
   * that clinic; or every key when clinicId is undefined (operator view). Newest first.
   */
  async list(
    clinicId: string | undefined,
    limit: number,
    after?: [string, string],
    homes: string[] = [],
  ): Promise<ApiKeyEntity[]> {
    const qb = this.dataSource.getRepository(ApiKeyEntity).createQueryBuilder('k');
    if (clinicId !== undefined) {
      qb.andWhere(
        '(k.clinic_id = :clinicId OR (k.clinic_id = ANY(:homes::uuid[]) AND EXISTS (SELECT 1 FROM api_key_clinics g WHERE g.key_id = k.id AND g.clinic_id = :clinicId)))',
        { clinicId, homes },
      );
    }
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

  /**
   * Revokes the active calendar feeds the key created (a feed lives no longer than its key); run
   * after the key's own row is updated, in the same transaction. A feed being created by the key
   * holds a share lock on the key's row (CalendarService.create), so it either commits before this
   * statement runs, and is revoked here, or finds the key revoked and is refused.
   */
  async revokeFeedsCreatedBy(
    m: EntityManager,
    keyId: string,
    at: Date,
  ): Promise<{ clinicId: string; id: string; patientId: string | null }[]> {
    const rows: { clinic_id: string; id: string; patient_id: string | null }[] = await m.query(
      `WITH gone AS (
         UPDATE calendar_feeds SET revoked_at = $2 WHERE created_by_key_id = $1 AND revoked_at IS NULL
         RETURNING clinic_id, id, CASE WHEN scope = 'patient' THEN scope_id END AS patient_id)
       SELECT * FROM gone ORDER BY clinic_id, id`,
      [keyId, at],
    );
    return rows.map((r) => ({ clinicId: r.clinic_id, id: r.id, patientId: r.patient_id }));
  }
}
