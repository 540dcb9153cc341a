import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Actor } from '../common/auth/actor.js';
import { Clock } from '../common/clock/clock.js';
import { AuditEventEntity } from './entities/audit-event.entity.js';

export interface AuditEntry {
  clinicId: string | null;
  /** e.g. `patient.read`, `patient.create`, `clinic.update`. */
  action: string;
  entityType: string;
  entityId?: string | null;
  patientId?: string | null;
}

/**
 * Appends audit events. Writes are audited inside the writing transaction (no change without its
 * record); reads of patient data in the reading one. Rows are append-only (a trigger refuses changes).
 */
@Injectable()
export class AuditService {
  constructor(private readonly clock: Clock) {}

  async record(manager: EntityManager, actor: Actor | null, entries: AuditEntry | AuditEntry[]): Promise<void> {
    const list = Array.isArray(entries) ? entries : [entries];
    if (list.length === 0) return;
    const occurredAt = this.clock.now().toJSDate();
    await manager.insert(
      AuditEventEntity,
      list.map((e) => ({
        clinicId: e.clinicId,
        occurredAt,
        actorKeyId: actor?.keyId ?? null,
        actorRole: actor?.role ?? 'system',
        action: e.action,
        entityType: e.entityType,
        entityId: e.entityId ?? null,
        patientId: e.patientId ?? null,
        requestId: actor?.requestId ?? null,
      })),
    );
  }
}
