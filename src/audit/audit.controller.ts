import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import type { Actor } from '../common/auth/actor.js';
import { clinicFilter } from '../common/auth/clinic-scope.js';
import { CurrentActor } from '../common/auth/current-actor.decorator.js';
import { Roles } from '../common/auth/roles.decorator.js';
import { ValidationFailedError } from '../common/errors/common.errors.js';
import { ProblemDto } from '../common/http/problem.dto.js';
import { decodeCursor, encodeCursor } from '../common/paging/cursor.js';
import { AuditService } from './audit.service.js';
import { AuditEventDto, AuditPageDto, AuditQueryDto } from './dto/audit.dto.js';

interface AuditRow {
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

@ApiTags('audit')
@Controller('audit')
export class AuditController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  @Get()
  @Roles('admin')
  @ApiOperation({
    summary: 'The audit trail, newest first: every write and every read of patient data (admins)',
    description: 'A clinic admin sees its clinic; an operator key every clinic (or one with `clinicId`). Reading the trail about a patient is itself audited.',
  })
  @ApiOkResponse({ type: AuditPageDto })
  @ApiBadRequestResponse({ type: ProblemDto })
  async list(@CurrentActor() actor: Actor, @Query() q: AuditQueryDto): Promise<AuditPageDto> {
    const clinicId = clinicFilter(actor, q.clinicId);
    if (clinicId === null) return { items: [], nextCursor: null };
    if (q.from && q.to && Date.parse(q.to) <= Date.parse(q.from)) throw new ValidationFailedError([{ field: 'to', message: 'to must be after from' }]);
    const after = decodeCursor(q.cursor, ['timestamp', 'text']);
    if (after && !/^\d{1,19}$/.test(after[1])) throw new ValidationFailedError([{ field: 'cursor', message: 'cursor is not one this service issued' }]);
    const limit = q.limit ?? 50;

    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (clinicId !== undefined) add('clinic_id = ?', clinicId);
    if (q.patientId) add('patient_id = ?', q.patientId);
    if (q.actorKeyId) add('actor_key_id = ?', q.actorKeyId);
    if (q.entityType) add('entity_type = ?', q.entityType);
    if (q.entityId) add('entity_id = ?', q.entityId);
    if (q.action) add('action = ?', q.action);
    if (q.from) add('occurred_at >= ?', new Date(q.from));
    if (q.to) add('occurred_at < ?', new Date(q.to));
    if (after) {
      params.push(new Date(after[0]), after[1]);
      where.push(`(occurred_at, id) < ($${params.length - 1}, $${params.length}::bigint)`);
    }
    params.push(limit + 1);
    const rows: AuditRow[] = await this.dataSource.query(
      `SELECT id::text, occurred_at, clinic_id, actor_key_id, actor_role, action, entity_type, entity_id, patient_id, request_id, client_request_id, route, changes
         FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY occurred_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, limit);
    // The trail names patients and holds before/after values of their records: every patient it
    // shows is a read of that patient's data.
    const patients = new Map<string, string | null>();
    for (const r of items) if (r.patient_id) patients.set(r.patient_id, r.clinic_id);
    if (q.patientId && !patients.has(q.patientId)) patients.set(q.patientId, clinicId ?? null);
    await this.audit.recordRead(
      actor,
      [...patients].map(([patientId, patientClinic]) => ({ clinicId: patientClinic, action: 'audit.read', entityType: 'patient', entityId: patientId, patientId })),
    );
    const last = items[items.length - 1];
    return { items: items.map(toDto), nextCursor: rows.length > limit && last ? encodeCursor([last.occurred_at.toISOString(), last.id]) : null };
  }
}
