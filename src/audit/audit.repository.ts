import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { empty, join, runSql, sql, type Sql } from '../common/database/sql.js';

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

/** Rows to append: one actor and moment, any number of events. */
export interface AuditInsert {
  occurredAt: Date;
  actorKeyId: string | null;
  actorRole: string;
  requestId: string | null;
  clientRequestId: string | null;
  route: string | null;
  events: {
    clinicId: string | null;
    action: string;
    entityType: string;
    entityId: string | null;
    patientId: string | null;
    /** JSON text, or null. */
    changes: string | null;
  }[];
}

/** `audit_events`: appended by AuditService in the writers' transactions, read by `GET /v1/audit`. */
@Injectable()
export class AuditRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Up to `limit` rows matching `f`, newest first. */
  page(f: AuditFilter, limit: number): Promise<AuditRow[]> {
    const where: Sql[] = [];
    if (f.clinicId !== undefined) where.push(sql`clinic_id = ${f.clinicId}`);
    if (f.patientId) where.push(sql`patient_id = ${f.patientId}`);
    if (f.actorKeyId) where.push(sql`actor_key_id = ${f.actorKeyId}`);
    if (f.entityType) where.push(sql`entity_type = ${f.entityType}`);
    if (f.entityId) where.push(sql`entity_id = ${f.entityId}`);
    if (f.action) where.push(sql`action = ${f.action}`);
    if (f.from) where.push(sql`occurred_at >= ${f.from}`);
    if (f.to) where.push(sql`occurred_at < ${f.to}`);
    if (f.after) where.push(sql`(occurred_at, id) < (${f.after[0]}, ${f.after[1]}::bigint)`);
    return runSql<AuditRow>(
      this.dataSource.manager,
      sql`SELECT id::text, occurred_at, clinic_id, actor_key_id, actor_role, action, entity_type, entity_id, patient_id, request_id, client_request_id, route, changes
         FROM audit_events ${where.length ? sql`WHERE ${join(where, ' AND ')}` : empty}
        ORDER BY occurred_at DESC, id DESC LIMIT ${limit}`,
    );
  }

  /**
   * The INSERT of these rows (one array per column), to run on its own ({@link insert}) or as one
   * part of a larger statement (a booking writes its plan, sessions and audit row in one).
   */
  insertStatement(rows: AuditInsert): Sql {
    return this.statement(rows, empty);
  }

  /** {@link insertStatement}, reading first from `from` (a CTE the insert must wait for, with its comma). */
  private statement(rows: AuditInsert, from: Sql): Sql {
    const col = <T>(f: (e: AuditInsert['events'][number]) => T): T[] => rows.events.map(f);
    return sql`INSERT INTO audit_events (clinic_id, occurred_at, actor_key_id, actor_role, action, entity_type, entity_id, patient_id, request_id, route, changes, client_request_id)
       SELECT e.clinic_id, ${rows.occurredAt}::timestamptz, ${rows.actorKeyId}::uuid, ${rows.actorRole}::text, e.action, e.entity_type, e.entity_id, e.patient_id, ${rows.requestId}::text, ${rows.route}::text, e.changes, ${rows.clientRequestId}::text
         FROM ${from}unnest(${col((e) => e.clinicId)}::uuid[], ${col((e) => e.action)}::text[], ${col((e) => e.entityType)}::text[], ${col((e) => e.entityId)}::uuid[], ${col((e) => e.patientId)}::uuid[], ${col((e) => e.changes)}::jsonb[])
                AS e(clinic_id, action, entity_type, entity_id, patient_id, changes)`;
  }

  /**
   * Appends the rows through `m`. `relaxed` (a read's rows, in a statement that is its own
   * transaction): its commit does not wait for the WAL flush (`set_config(…, true)` lasts until
   * that transaction's commit).
   */
  async insert(m: EntityManager, rows: AuditInsert, relaxed: boolean): Promise<void> {
    await runSql(
      m,
      relaxed
        ? sql`WITH relaxed AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true)) ${this.statement(rows, sql`relaxed, `)}`
        : this.insertStatement(rows),
    );
  }
}
