import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { ProtocolStep } from './domain/protocol-step.js';
import { ProtocolVersionEntity } from './entities/protocol-version.entity.js';
import { ProtocolEntity } from './entities/protocol.entity.js';

export interface ProtocolRow {
  protocol: ProtocolEntity;
  versions: ProtocolVersionEntity[];
  /** The draft differs from the latest published version (or nothing is published yet). */
  changed: boolean;
}

@Injectable()
export class ProtocolsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private m(m?: EntityManager): EntityManager {
    return m ?? this.dataSource.manager;
  }

  /** By id, within one clinic, or in any clinic when clinicId is null (operator keys). */
  async find(id: string, clinicId: string | null, m?: EntityManager, lock = false): Promise<ProtocolEntity | null> {
    const qb = this.m(m).getRepository(ProtocolEntity).createQueryBuilder('p').where('p.id = :id', { id });
    if (clinicId !== null) qb.andWhere('p.clinic_id = :clinicId', { clinicId });
    if (lock) qb.setLock('pessimistic_write');
    return qb.getOne();
  }

  async withVersions(protocols: ProtocolEntity[], m?: EntityManager): Promise<ProtocolRow[]> {
    if (protocols.length === 0) return [];
    const ids = protocols.map((p) => p.id);
    const versions = await this.m(m)
      .getRepository(ProtocolVersionEntity)
      .createQueryBuilder('v')
      .where('v.protocol_id = ANY(:ids)', { ids })
      .orderBy('v.version', 'ASC')
      .getMany();
    const changed: { id: string; changed: boolean }[] = await this.m(m).query(
      `SELECT p.id,
              v.version IS NULL
              OR p.draft_steps <> v.steps OR p.name <> v.name OR p.indication <> v.indication
              OR p.description IS DISTINCT FROM v.description AS changed
         FROM protocols p
         LEFT JOIN protocol_versions v ON v.clinic_id = p.clinic_id AND v.protocol_id = p.id AND v.version = p.latest_version
        WHERE p.id = ANY($1)`,
      [ids],
    );
    const changedById = new Map(changed.map((c) => [c.id, c.changed]));
    return protocols.map((protocol) => ({
      protocol,
      versions: versions.filter((v) => v.protocolId === protocol.id),
      changed: changedById.get(protocol.id) ?? true,
    }));
  }

  list(clinicId: string | undefined, limit: number, after?: [string, string]): Promise<ProtocolEntity[]> {
    const qb = this.dataSource.getRepository(ProtocolEntity).createQueryBuilder('p');
    if (clinicId) qb.andWhere('p.clinic_id = :clinicId', { clinicId });
    if (after) qb.andWhere('(p.name, p.id) > (:name, :id::uuid)', { name: after[0], id: after[1] });
    return qb.orderBy('p.name', 'ASC').addOrderBy('p.id', 'ASC').limit(limit).getMany();
  }

  async insert(
    m: EntityManager,
    row: Pick<ProtocolEntity, 'clinicId' | 'name' | 'indication' | 'description' | 'draftSteps' | 'draftUpdatedAt'>,
  ): Promise<ProtocolEntity> {
    const repo = m.getRepository(ProtocolEntity);
    return repo.save(repo.create({ ...row, draftRevision: 1, latestVersion: 0 }));
  }

  /**
   * Replaces the draft only if it is still at `expectedRevision` (compare-and-set, so that two
   * editors cannot both win). Returns false when someone changed it first.
   */
  async replaceDraft(
    m: EntityManager,
    p: Pick<ProtocolEntity, 'clinicId' | 'id' | 'name' | 'indication' | 'description'> & { steps: ProtocolStep[] },
    expectedRevision: number,
    at: Date,
  ): Promise<boolean> {
    const res = await m.query(
      `UPDATE protocols
          SET name = $3, indication = $4, description = $5, draft_steps = $6::jsonb,
              draft_revision = draft_revision + 1, draft_updated_at = $7
        WHERE clinic_id = $1 AND id = $2 AND draft_revision = $8`,
      [p.clinicId, p.id, p.name, p.indication, p.description, JSON.stringify(p.steps), at, expectedRevision],
    );
    return (res as [unknown, number])[1] === 1;
  }

  /** Freezes the draft as version latest+1, in the caller's transaction (the protocol row is locked). */
  async publish(m: EntityManager, p: ProtocolEntity, at: Date, by: string | null): Promise<ProtocolVersionEntity> {
    const version = p.latestVersion + 1;
    await m.query(
      `INSERT INTO protocol_versions (clinic_id, protocol_id, version, name, indication, description, steps, published_at, published_by)
       SELECT clinic_id, id, $3, name, indication, description, draft_steps, $4, $5 FROM protocols WHERE clinic_id = $1 AND id = $2`,
      [p.clinicId, p.id, version, at, by],
    );
    await m.query(`UPDATE protocols SET latest_version = $3 WHERE clinic_id = $1 AND id = $2`, [
      p.clinicId,
      p.id,
      version,
    ]);
    return (await this.findVersion(p.clinicId, p.id, version, m))!;
  }

  findVersion(
    clinicId: string,
    protocolId: string,
    version: number,
    m?: EntityManager,
  ): Promise<ProtocolVersionEntity | null> {
    return this.m(m).findOneBy(ProtocolVersionEntity, { clinicId, protocolId, version });
  }

  /** Sets retired_at unless already set; true when this call retired it. */
  /** The newest version not retired, if any. */
  newestInUse(clinicId: string, protocolId: string): Promise<ProtocolVersionEntity | null> {
    return this.dataSource
      .getRepository(ProtocolVersionEntity)
      .createQueryBuilder('v')
      .where('v.clinic_id = :clinicId AND v.protocol_id = :protocolId AND v.retired_at IS NULL', {
        clinicId,
        protocolId,
      })
      .orderBy('v.version', 'DESC')
      .limit(1)
      .getOne();
  }

  async retire(m: EntityManager, v: ProtocolVersionEntity, at: Date): Promise<boolean> {
    const res = await m.query(
      `UPDATE protocol_versions SET retired_at = $4 WHERE clinic_id = $1 AND protocol_id = $2 AND version = $3 AND retired_at IS NULL`,
      [v.clinicId, v.protocolId, v.version, at],
    );
    return (res as [unknown, number])[1] === 1;
  }
}
