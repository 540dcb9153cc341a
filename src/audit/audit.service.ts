import { Injectable } from '@nestjs/common';
import { DateTime } from 'luxon';
import { DataSource, type EntityManager } from 'typeorm';
import type { Actor } from '../common/auth/actor.js';
import { clinicFilter } from '../clinics/clinic-scope.js';
import { Clock } from '../common/clock/clock.js';
import { ValidationFailedError } from '../common/errors/common.errors.js';
import { decodeCursor, encodeCursor } from '../common/paging/cursor.js';
import { requireInstantWithinHorizon } from '../common/validation/date-horizon.js';
import { AuditRepository, type AuditInsert, type AuditRow } from './audit.repository.js';
import type { Sql } from '../common/database/sql.js';
import type { AuditEventDto, AuditPageDto, AuditQueryDto } from './dto/audit.dto.js';

const toDto = (r: AuditRow): AuditEventDto => ({
  id: r.id,
  occurredAt: r.occurred_at.toISOString(),
  clinicId: r.clinic_id,
  actorKeyId: r.actor_key_id,
  actorRole: r.actor_role ?? 'system',
  action: r.action,
  entityType: r.entity_type,
  entityId: r.entity_id,
  patientId: r.patient_id,
  requestId: r.request_id,
  clientRequestId: r.client_request_id,
  route: r.route,
  changes: r.changes,
});

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
  /** The caller's own `X-Request-Id`, stored beside ours. */
  clientRequestId?: string;
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
    private readonly repository: AuditRepository,
  ) {}

  /** `GET /v1/audit`: a page of the trail the actor may see; every patient it shows is a read of that patient's data. */
  async list(actor: Actor, q: AuditQueryDto): Promise<AuditPageDto> {
    const clinicId = clinicFilter(actor, q.clinicId);
    if (clinicId === null) return { items: [], nextCursor: null };
    if (q.from && q.to && Date.parse(q.to) <= Date.parse(q.from))
      throw new ValidationFailedError([{ field: 'to', message: 'to must be after from' }]);
    const now = this.clock.now();
    for (const field of ['from', 'to'] as const) {
      const value = q[field];
      if (value) requireInstantWithinHorizon(field, DateTime.fromISO(value, { setZone: true }), now);
    }
    const after = decodeCursor(q.cursor, ['timestamp', 'text']);
    if (after && !/^\d{1,19}$/.test(after[1]))
      throw new ValidationFailedError([{ field: 'cursor', message: 'cursor is not one this service issued' }]);
    const limit = q.limit ?? 50;
    const rows = await this.repository.page(
      {
        clinicId,
        patientId: q.patientId,
        actorKeyId: q.actorKeyId,
        entityType: q.entityType,
        entityId: q.entityId,
        action: q.action,
        from: q.from ? new Date(q.from) : undefined,
        to: q.to ? new Date(q.to) : undefined,
        after: after ? [new Date(after[0]), after[1]] : undefined,
      },
      limit + 1,
    );
    const items = rows.slice(0, limit);
    // The trail names patients and holds before/after values of their records: every patient it
    // shows is a read of that patient's data.
    const patients = new Map<string, string | null>();
    for (const r of items) if (r.patient_id) patients.set(r.patient_id, r.clinic_id);
    if (q.patientId && !patients.has(q.patientId)) patients.set(q.patientId, clinicId ?? null);
    await this.recordRead(
      actor,
      [...patients].map(([patientId, patientClinic]) => ({
        clinicId: patientClinic,
        action: 'audit.read',
        entityType: 'patient',
        entityId: patientId,
        patientId,
      })),
    );
    const last = items[items.length - 1];
    return {
      items: items.map(toDto),
      nextCursor: rows.length > limit && last ? encodeCursor([last.occurred_at.toISOString(), last.id]) : null,
    };
  }

  /**
   * A read of patient data. Its rows are committed without waiting for the WAL flush
   * (`synchronous_commit = off` for this transaction only): a read has already happened, so it
   * need not wait on the disk; a crash of the database server may lose the read-audit rows of its
   * last fraction of a second (at most three `wal_writer_delay`s, 0.6 s by default), never a
   * write's, whose audit rows commit with the write.
   */
  recordRead(actor: AuditActor | null, entries: AuditEntry | AuditEntry[]): Promise<void> {
    // One statement, so one round trip: it is its own transaction (see AuditRepository.insert).
    return this.insert(this.dataSource.manager, actor, entries, true);
  }

  /** Appends rows in the caller's transaction (a write's audit commits with the write). */
  record(manager: EntityManager, actor: AuditActor | null, entries: AuditEntry | AuditEntry[]): Promise<void> {
    return this.insert(manager, actor, entries, false);
  }

  /** One INSERT of every entry (one array per column); `relaxed`: its commit does not wait for the WAL flush. */
  private async insert(
    manager: EntityManager,
    actor: AuditActor | null,
    entries: AuditEntry | AuditEntry[],
    relaxed: boolean,
  ): Promise<void> {
    const list = Array.isArray(entries) ? entries : [entries];
    if (list.length === 0) return;
    await this.repository.insert(manager, this.rows(actor, list), relaxed);
  }

  /**
   * The INSERT of these entries as one part of a larger statement (a booking writes its plan,
   * sessions and audit row in one).
   */
  statement(actor: AuditActor | null, entries: AuditEntry[]): Sql {
    return this.repository.insertStatement(this.rows(actor, entries));
  }

  private rows(actor: AuditActor | null, entries: AuditEntry[]): AuditInsert {
    return {
      occurredAt: this.clock.now().toJSDate(),
      actorKeyId: actor?.keyId ?? null,
      actorRole: actor?.role ?? 'system',
      requestId: actor?.requestId ?? null,
      route: actor?.route ?? null,
      clientRequestId: actor?.clientRequestId ?? null,
      events: entries.map((e) => ({
        clinicId: e.clinicId,
        action: e.action,
        entityType: e.entityType,
        entityId: e.entityId ?? null,
        patientId: e.patientId ?? null,
        changes:
          e.before === undefined && e.after === undefined
            ? null
            : JSON.stringify({ before: e.before ?? null, after: e.after ?? null }),
      })),
    };
  }
}
