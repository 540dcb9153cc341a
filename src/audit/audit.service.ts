import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, type QueryDeepPartialEntity } from 'typeorm';
import { Clock } from '../common/clock/clock.js';
import { AuditEventEntity } from './entities/audit-event.entity.js';

export interface AuditEntry {
  clinicId: string | null;
  /** e.g. `patient.read`, `patient.create`, `clinic.update`. */
  action: string;
  entityType: string;
  entityId?: string | null;
  patientId?: string | null;
  /** For writes where it means something: the record before and after (stored as `changes`). */
  before?: unknown;
  after?: unknown;
}

/** Who acted: an API key's actor, or a caller without a key (a feed token, the system). */
export interface AuditActor {
  keyId: string | null;
  role: string;
  requestId?: string;
  /** Method and route pattern, e.g. `PATCH /v1/patients/:patientId`. */
  route?: string;
}

/**
 * Appends audit events. Writes are audited inside the writing transaction (no change without its
 * record); reads of patient data in the reading one. Rows are append-only (a trigger refuses changes).
 */
@Injectable()
export class AuditService {
  constructor(
    private readonly clock: Clock,
    private readonly dataSource: DataSource,
  ) {}

  /**
   * A read of patient data. Its rows are committed without waiting for the WAL flush
   * (`synchronous_commit = off` for this transaction only): a read has already happened, so it
   * need not wait on the disk; a crash of the database server may lose the read-audit rows of its
   * last fraction of a second (at most three `wal_writer_delay`s, 0.6 s by default), never a
   * write's, whose audit rows commit with the write.
   */
  recordRead(actor: AuditActor | null, entries: AuditEntry | AuditEntry[]): Promise<void> {
    if (Array.isArray(entries) && entries.length === 0) return Promise.resolve();
    return this.dataSource.transaction(async (m) => {
      await m.query('SET LOCAL synchronous_commit = off');
      await this.record(m, actor, entries);
    });
  }

  async record(manager: EntityManager, actor: AuditActor | null, entries: AuditEntry | AuditEntry[]): Promise<void> {
    const list = Array.isArray(entries) ? entries : [entries];
    if (list.length === 0) return;
    const occurredAt = this.clock.now().toJSDate();
    await manager.insert(
      AuditEventEntity,
      list.map((e): QueryDeepPartialEntity<AuditEventEntity> => ({
        clinicId: e.clinicId,
        occurredAt,
        actorKeyId: actor?.keyId ?? null,
        actorRole: actor?.role ?? 'system',
        action: e.action,
        entityType: e.entityType,
        entityId: e.entityId ?? null,
        patientId: e.patientId ?? null,
        requestId: actor?.requestId ?? null,
        route: actor?.route ?? null,
        changes: e.before === undefined && e.after === undefined ? null : ({ before: e.before ?? null, after: e.after ?? null } as QueryDeepPartialEntity<Record<string, unknown>>),
      })),
    );
  }
}
