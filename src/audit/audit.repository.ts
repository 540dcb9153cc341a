import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** One row of the trail as stored. */
export interface AuditRow {
  id: string;
  occurred_at: Date;
  clinic_id: string | null;
  actor_key_id: string | null;
  actor_role: string | null;
  action: string;
  entity_type: string;
  entity_id: string | null;
  patient_id: string | null;
  request_id: string | null;
  client_request_id: string | null;
  route: string | null;
  changes: Record<string, unknown> | null;
}

/** What a page of the trail is filtered by; `clinicId` undefined: every clinic (operator keys). */
export interface AuditFilter {
  clinicId?: string;
  patientId?: string;
  actorKeyId?: string;
  entityType?: string;
  entityId?: string;
  action?: string;
  from?: Date;
  to?: Date;
  /** Rows strictly before this (occurred_at, id), newest first. */
  after?: [Date, string];
}

/** Reads of `audit_events` (its rows are written by AuditService, in the writers' transactions). */
@Injectable()
export class AuditRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Up to `limit` rows matching `f`, newest first. */
  page(f: AuditFilter, limit: number): Promise<AuditRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (f.clinicId !== undefined) add('clinic_id = ?', f.clinicId);
    if (f.patientId) add('patient_id = ?', f.patientId);
    if (f.actorKeyId) add('actor_key_id = ?', f.actorKeyId);
    if (f.entityType) add('entity_type = ?', f.entityType);
    if (f.entityId) add('entity_id = ?', f.entityId);
    if (f.action) add('action = ?', f.action);
    if (f.from) add('occurred_at >= ?', f.from);
    if (f.to) add('occurred_at < ?', f.to);
    if (f.after) {
      params.push(f.after[0], f.after[1]);
      where.push(`(occurred_at, id) < ($${params.length - 1}, $${params.length}::bigint)`);
    }
    params.push(limit);
    return this.dataSource.query(
      `SELECT id::text, occurred_at, clinic_id, actor_key_id, actor_role, action, entity_type, entity_id, patient_id, request_id, client_request_id, route, changes
         FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY occurred_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
  }
}
