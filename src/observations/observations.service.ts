import { Injectable } from '@nestjs/common';
import { DateTime } from 'luxon';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import type { Actor } from '../common/auth/actor.js';
import { Clock } from '../common/clock/clock.js';
import { ValidationFailedError } from '../common/errors/common.errors.js';
import { PlanError, PlanErrorCode } from '../plans/plans.errors.js';
import { SessionError, SessionErrorCode } from '../sessions/sessions.errors.js';
import type { CreateObservationDto, ObservationDto, ObservationListDto } from './dto/observation.dto.js';
import { ObservationsRepository, type ObservationRow } from './observations.repository.js';

const MEASURES: (keyof CreateObservationDto)[] = [
  'craving',
  'cows',
  'phq9',
  'gad7',
  'bloodPressure',
  'heartRate',
  'spo2',
  'note',
];

const toDto = (r: ObservationRow): ObservationDto => ({
  id: r.id,
  sessionId: r.session_id,
  planId: r.plan_id,
  sessionRef: r.ref,
  sessionLabel: r.label,
  recordedAt: DateTime.fromJSDate(r.recorded_at, { zone: r.timezone }).toISO({ suppressMilliseconds: true })!,
  recordedBy: r.recorded_by,
  craving: r.craving,
  cows: r.cows,
  phq9: r.phq9,
  gad7: r.gad7,
  bloodPressure:
    r.bp_systolic === null || r.bp_diastolic === null ? null : { systolic: r.bp_systolic, diastolic: r.bp_diastolic },
  heartRate: r.heart_rate,
  spo2: r.spo2,
  adverseEvents: r.adverse_events,
  note: r.note,
  doseGiven: r.dose_given,
});

/** Clinical observations per session: appended, never changed; every read and write audited. */
@Injectable()
export class ObservationsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: ObservationsRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async record(actor: Actor, sessionId: string, dto: CreateObservationDto): Promise<ObservationDto> {
    if (
      !MEASURES.some((k) => dto[k] !== undefined && dto[k] !== null) &&
      !(dto.adverseEvents && dto.adverseEvents.length > 0)
    ) {
      throw new ValidationFailedError([
        { field: 'observation', message: 'record at least one score, vital sign, adverse event or note' },
      ]);
    }
    return this.dataSource.transaction(async (m) => {
      const s = await this.repo.owner('sessions', sessionId, actor.clinicId, m);
      if (!s) throw new SessionError(SessionErrorCode.SESSION_NOT_FOUND, 'No such session.');
      if (s.status === 'cancelled' || s.status === 'no_show') {
        throw new SessionError(
          SessionErrorCode.INVALID_TRANSITION,
          `The session is ${s.status}: there is nothing to observe.`,
          { currentStatus: s.status },
        );
      }
      const row = await this.repo.insert(m, s, this.clock.now().toJSDate(), actor.keyId, dto);
      await this.audit.record(m, actor, {
        clinicId: s.clinic_id,
        action: 'observation.create',
        entityType: 'session_observation',
        entityId: row.id,
        patientId: s.patient_id,
      });
      return toDto(row);
    });
  }

  private async list(actor: Actor, by: 'session_id' | 'plan_id', id: string): Promise<ObservationListDto> {
    const owner = await this.repo.owner(by === 'session_id' ? 'sessions' : 'plans', id, actor.clinicId);
    if (!owner) {
      throw by === 'session_id'
        ? new SessionError(SessionErrorCode.SESSION_NOT_FOUND, 'No such session.')
        : new PlanError(PlanErrorCode.PLAN_NOT_FOUND, 'No such plan.');
    }
    return this.dataSource.transaction(async (m) => {
      const rows = await this.repo.list(m, owner.clinic_id, by, id);
      await this.audit.record(m, actor, {
        clinicId: owner.clinic_id,
        action: 'observation.read',
        entityType: by === 'session_id' ? 'session' : 'plan',
        entityId: id,
        patientId: owner.patient_id,
      });
      return { items: rows.map(toDto) };
    });
  }

  forSession(actor: Actor, sessionId: string): Promise<ObservationListDto> {
    return this.list(actor, 'session_id', sessionId);
  }

  /** The plan's timeline: every observation of every session, oldest first. */
  forPlan(actor: Actor, planId: string): Promise<ObservationListDto> {
    return this.list(actor, 'plan_id', planId);
  }
}
