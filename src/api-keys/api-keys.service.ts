import { Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { ClinicErrorCode, ClinicError } from '../clinics/clinics.errors.js';
import { ClinicsRepository } from '../clinics/clinics.repository.js';
import type { Actor } from '../common/auth/actor.js';
import { Clock } from '../common/clock/clock.js';
import { ForbiddenError, ValidationFailedError } from '../common/errors/common.errors.js';
import { decodeCursor, encodeCursor, type Page } from '../common/paging/cursor.js';
import { ApiKeyError, ApiKeyErrorCode } from './api-keys.errors.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import type { ApiKeyDto, CreateApiKeyDto, CreatedApiKeyDto } from './dto/api-key.dto.js';
import type { ApiKeyEntity, ApiRole } from './entities/api-key.entity.js';

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** The header with which a request picks the clinic it acts in, among those its key may act in. */
export const CLINIC_HEADER = 'chairside-clinic';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The clinics among `ids` the caller may act in itself (an operator: all): what a key listing shows of another key's grants. */
function shared(actor: Actor, ids: string[]): string[] {
  return actor.clinicIds == null ? ids : ids.filter((id) => actor.clinicIds!.includes(id));
}

function toDto(k: ApiKeyEntity, additionalClinicIds: string[] = []): ApiKeyDto {
  return {
    id: k.id,
    clinicId: k.clinicId,
    additionalClinicIds,
    name: k.name,
    role: k.role,
    keyPrefix: k.keyPrefix,
    createdAt: k.createdAt.toISOString(),
    revokedAt: k.revokedAt ? k.revokedAt.toISOString() : null,
  };
}

/**
 * API keys: 256 random bits, shown once, stored only as SHA-256 (a fast hash is right for
 * high-entropy secrets: nothing to brute-force, and it allows an indexed look-up per request).
 */
@Injectable()
export class ApiKeysService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly keys: ApiKeysRepository,
    private readonly clinics: ClinicsRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async authenticate(key: string): Promise<Actor | null> {
    if (key.length > 200) return null;
    const found = await this.keys.findActiveByHash(hashKey(key));
    if (!found) return null;
    const clinicIds = found.clinicId === null ? null : [found.clinicId, ...found.additionalClinicIds];
    return { keyId: found.id, role: found.role, clinicId: found.clinicId, clinicIds };
  }

  /**
   * The clinic a request acts in when it names one with the `Chairside-Clinic` header: one of the
   * key's clinics, or any existing clinic for an operator key. Any other id is answered like an
   * unknown clinic (404), so a key learns nothing about clinics it may not act in.
   */
  async selectClinic(actor: Actor, requested: string): Promise<string> {
    if (!UUID.test(requested)) {
      throw new ValidationFailedError(
        [{ field: 'Chairside-Clinic', message: 'the Chairside-Clinic header must be a clinic id (a UUID)' }],
        'A header is invalid.',
      );
    }
    const id = requested.toLowerCase();
    if (actor.clinicIds === null || actor.clinicIds === undefined) {
      if (actor.clinicId !== null) throw new ClinicError(ClinicErrorCode.CLINIC_NOT_FOUND, 'No such clinic.');
      if (!(await this.clinics.exists(id))) throw new ClinicError(ClinicErrorCode.CLINIC_NOT_FOUND, 'No such clinic.');
      return id;
    }
    if (!actor.clinicIds.includes(id)) throw new ClinicError(ClinicErrorCode.CLINIC_NOT_FOUND, 'No such clinic.');
    return id;
  }

  /** Creates a key without an actor check; used by the demo seed and by `create`. */
  async issue(
    m: EntityManager,
    row: { clinicId: string | null; role: ApiRole; name: string },
  ): Promise<CreatedApiKeyDto> {
    const key = `cs_${randomBytes(32).toString('base64url')}`;
    const saved = await this.keys.insert(m, { ...row, keyPrefix: key.slice(0, 10), keyHash: hashKey(key) });
    return { ...toDto(saved), key };
  }

  async create(actor: Actor, dto: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    const clinicId = actor.clinicId ?? dto.clinicId ?? null;
    if (actor.clinicId && dto.clinicId && dto.clinicId !== actor.clinicId) {
      throw new ClinicError(ClinicErrorCode.CLINIC_NOT_FOUND, 'No such clinic.');
    }
    const more = dto.additionalClinicIds ?? [];
    if (more.length > 0) {
      // Reaching into other clinics is for whoever runs them all.
      if (actor.clinicId !== null)
        throw new ForbiddenError(
          'Only an operator key (without the Chairside-Clinic header) may give a key more clinics.',
        );
      const wrong = [
        ...(dto.role === 'admin' ? [] : [{ field: 'role', message: 'only an admin key may act in several clinics' }]),
        ...(clinicId === null
          ? [{ field: 'clinicId', message: 'a key with additionalClinicIds needs its own clinicId' }]
          : []),
        ...(clinicId !== null && more.includes(clinicId)
          ? [{ field: 'additionalClinicIds', message: "must not repeat the key's own clinicId" }]
          : []),
      ];
      if (wrong.length > 0) throw new ValidationFailedError(wrong);
    }
    if (clinicId === null && dto.role !== 'admin') {
      throw new ValidationFailedError([
        { field: 'role', message: 'an operator key (no clinicId) must have the admin role' },
      ]);
    }
    return this.dataSource.transaction(async (m) => {
      const wanted = clinicId ? [clinicId, ...more] : [];
      if (wanted.length > 0) {
        if ((await this.clinics.countExisting(wanted, m)) !== wanted.length)
          throw new ClinicError(ClinicErrorCode.CLINIC_NOT_FOUND, 'No such clinic.');
      }
      const created = await this.issue(m, { clinicId, role: dto.role, name: dto.name });
      if (clinicId !== null) await this.keys.grant(m, created.id, clinicId, more);
      // Each clinic the key may act in records it: its own as the creation, the others as a grant.
      await this.audit.record(m, actor, [
        {
          clinicId,
          action: 'api_key.create',
          entityType: 'api_key',
          entityId: created.id,
          ...(more.length > 0 ? { after: { additionalClinicIds: more } } : {}),
        },
        ...more.map((c) => ({ clinicId: c, action: 'api_key.grant', entityType: 'api_key', entityId: created.id })),
      ]);
      return { ...created, additionalClinicIds: [...more].sort() };
    });
  }

  async list(actor: Actor, limit = 50, cursor?: string): Promise<Page<ApiKeyDto>> {
    const after = decodeCursor(cursor, ['timestamp', 'uuid']);
    // A key of another clinic granted this one is listed only to whoever may act in its own clinic
    // too: a clinic's admin learns nothing of other clinics (grants show in their audit trail).
    const rows = await this.keys.list(actor.clinicId ?? undefined, limit + 1, after, actor.clinicIds ?? []);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    const grants = await this.keys.grants(items.map((k) => k.id));
    // A clinic's admin sees only the further clinics they may act in themselves.
    return {
      items: items.map((k) => toDto(k, shared(actor, grants.get(k.id) ?? []))),
      nextCursor: rows.length > limit && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null,
    };
  }

  async revoke(actor: Actor, id: string): Promise<ApiKeyDto> {
    return this.dataSource.transaction(async (m) => {
      const key = await this.keys.findById(id);
      if (!key) throw new ApiKeyError(ApiKeyErrorCode.API_KEY_NOT_FOUND, 'No such API key.');
      const more = (await this.keys.grants([id])).get(id) ?? [];
      // Visible as in the list: a key of this clinic, or one of another clinic granted this one
      // when the caller may act in that other clinic too. Anything else looks unknown.
      const mayActIn = (c: string | null) => c !== null && (actor.clinicIds ?? []).includes(c);
      const visible =
        actor.clinicId === null ||
        key.clinicId === actor.clinicId ||
        (more.includes(actor.clinicId) && mayActIn(key.clinicId));
      if (!visible) throw new ApiKeyError(ApiKeyErrorCode.API_KEY_NOT_FOUND, 'No such API key.');
      // Such a key belongs to its own clinic: it is revoked there.
      if (actor.clinicId !== null && key.clinicId !== actor.clinicId) {
        throw new ForbiddenError(
          "This key belongs to another clinic; only an operator or that clinic's admin may revoke it.",
        );
      }
      if (!key.revokedAt) {
        key.revokedAt = this.clock.now().toJSDate();
        await this.keys.revoke(m, id, key.revokedAt);
        // The calendar feeds the key created go with it, each with its own audit row.
        const feeds = await this.keys.revokeFeedsCreatedBy(m, id, key.revokedAt);
        await this.audit.record(m, actor, [
          { clinicId: key.clinicId, action: 'api_key.revoke', entityType: 'api_key', entityId: id },
          ...feeds.map((f) => ({
            clinicId: f.clinicId,
            action: 'calendar_feed.revoke',
            entityType: 'calendar_feed',
            entityId: f.id,
            patientId: f.patientId,
            after: { reason: 'creator_key_revoked', keyId: id },
          })),
        ]);
      }
      return toDto(key, shared(actor, more));
    });
  }
}
