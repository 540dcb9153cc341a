import { Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { ClinicErrorCode, ClinicError } from '../clinics/clinics.errors.js';
import type { Actor } from '../common/auth/actor.js';
import { Clock } from '../common/clock/clock.js';
import { ValidationFailedError } from '../common/errors/common.errors.js';
import { decodeCursor, encodeCursor, type Page } from '../common/paging/cursor.js';
import { ApiKeyError, ApiKeyErrorCode } from './api-keys.errors.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import type { ApiKeyDto, CreateApiKeyDto, CreatedApiKeyDto } from './dto/api-key.dto.js';
import type { ApiKeyEntity, ApiRole } from './entities/api-key.entity.js';

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function toDto(k: ApiKeyEntity): ApiKeyDto {
  return {
    id: k.id,
    clinicId: k.clinicId,
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
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async authenticate(key: string): Promise<Actor | null> {
    if (key.length > 200) return null;
    const found = await this.keys.findActiveByHash(hashKey(key));
    return found ? { keyId: found.id, role: found.role, clinicId: found.clinicId } : null;
  }

  /** Creates a key without an actor check; used by the demo seed and by `create`. */
  async issue(m: EntityManager, row: { clinicId: string | null; role: ApiRole; name: string }): Promise<CreatedApiKeyDto> {
    const key = `cs_${randomBytes(32).toString('base64url')}`;
    const saved = await this.keys.insert(m, { ...row, keyPrefix: key.slice(0, 10), keyHash: hashKey(key) });
    return { ...toDto(saved), key };
  }

  async create(actor: Actor, dto: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    const clinicId = actor.clinicId ?? dto.clinicId ?? null;
    if (actor.clinicId && dto.clinicId && dto.clinicId !== actor.clinicId) {
      throw new ClinicError(ClinicErrorCode.CLINIC_NOT_FOUND, 'No such clinic.');
    }
    if (clinicId === null && dto.role !== 'admin') {
      throw new ValidationFailedError([{ field: 'role', message: 'an operator key (no clinicId) must have the admin role' }]);
    }
    return this.dataSource.transaction(async (m) => {
      if (clinicId) {
        const exists = await m.query('SELECT 1 FROM clinics WHERE id = $1', [clinicId]);
        if (exists.length === 0) throw new ClinicError(ClinicErrorCode.CLINIC_NOT_FOUND, 'No such clinic.');
      }
      const created = await this.issue(m, { clinicId, role: dto.role, name: dto.name });
      await this.audit.record(m, actor, { clinicId, action: 'api_key.create', entityType: 'api_key', entityId: created.id });
      return created;
    });
  }

  async list(actor: Actor, limit = 50, cursor?: string): Promise<Page<ApiKeyDto>> {
    const after = decodeCursor(cursor, ['timestamp', 'uuid']);
    const rows = await this.keys.list(actor.clinicId ?? undefined, limit + 1, after);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toDto),
      nextCursor: rows.length > limit && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null,
    };
  }

  async revoke(actor: Actor, id: string): Promise<ApiKeyDto> {
    return this.dataSource.transaction(async (m) => {
      const key = await this.keys.findById(id);
      if (!key || (actor.clinicId !== null && key.clinicId !== actor.clinicId)) {
        throw new ApiKeyError(ApiKeyErrorCode.API_KEY_NOT_FOUND, 'No such API key.');
      }
      if (!key.revokedAt) {
        key.revokedAt = this.clock.now().toJSDate();
        await this.keys.revoke(m, id, key.revokedAt);
        await this.audit.record(m, actor, { clinicId: key.clinicId, action: 'api_key.revoke', entityType: 'api_key', entityId: id });
      }
      return toDto(key);
    });
  }
}
