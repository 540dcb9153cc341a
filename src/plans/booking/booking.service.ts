import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../../audit/audit.service.js';
import type { Actor } from '../../common/auth/actor.js';
import { KeyedMutex } from '../../common/concurrency/keyed-mutex.js';
import { lockClinicSchedule } from '../../common/database/schedule-lock.js';
import { withRetries } from '../../common/database/transactions.js';
import { CommonErrorCode } from '../../common/errors/common.errors.js';
import { isUniqueViolation } from '../../common/errors/database-errors.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { IdempotencyService, requestHash, type StoredResponse } from '../../common/idempotency/idempotency.service.js';
import { PatientError, PatientErrorCode } from '../../patients/patients.errors.js';
import type { PlacedSession } from '../../scheduling/engine/types.js';
import type { PlanDto, PlanRequestDto } from '../dto/plan.dto.js';
import type { PatientEntity } from '../../patients/entities/patient.entity.js';
import { activeSeriesExists, PlanError, PlanErrorCode } from '../plans.errors.js';
import { BookingsCache } from '../bookings-cache.js';
import { PlanningService, type Prepared } from '../planning.service.js';
import { planView } from '../plan-view.js';
import { runBooking, type BookResult } from './booking-flow.js';
import { PlansRepository } from '../plans.repository.js';
import { BookingsRepository, type SeatUse } from '../bookings.repository.js';
import { PatientsRepository } from '../../patients/patients.repository.js';

/** The booking route, as idempotency keys record it. */
const BOOK_ROUTE = 'POST /v1/plans';
const fromMinute = (m: number) => new Date(m * 60000);

/**
 * Booking a whole series: idempotency, the order of the steps (booking-flow.ts), the write of the
 * plan, its sessions, seats and audit row in one statement.
 */
@Injectable()
export class BookingService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: PlansRepository,
    private readonly bookings: BookingsRepository,
    private readonly patients: PatientsRepository,
    private readonly cache: BookingsCache,
    private readonly planning: PlanningService,
    private readonly idempotency: IdempotencyService,
    private readonly audit: AuditService,
  ) {}

  /** Bookings of each clinic under way in this instance (see {@link bookPrepared}). */
  private readonly inFlight = new Map<string, number>();
  /**
   * Booking transactions of one clinic per instance: one holding the schedule lock and one queued
   * on it (so that the lock passes on at once); any others wait in memory, without a connection.
   */
  private readonly perClinic = new KeyedMutex(2);

  /** Lowest free seat per staffed session, given seats held by others and by the plan itself. */
  private assignSeats(placed: PlacedSession[], used: SeatUse[]): (number | null)[] {
    const mine: SeatUse[] = [];
    return placed.map((p) => {
      if (!p.staffId) return null;
      const start = fromMinute(p.start);
      const end = fromMinute(p.occupiedUntil);
      const taken = new Set(
        [...used, ...mine].filter((u) => u.staffId === p.staffId && u.start < end && start < u.end).map((u) => u.seat),
      );
      let seat = 1;
      while (taken.has(seat)) seat++;
      // Beyond the limit only if someone booked since we planned: the trigger then refuses it.
      mine.push({ staffId: p.staffId, seat, start, end });
      return seat;
    });
  }

  /** The engine picked every staff seat by the database's own rule (else they are picked at write time). */
  private static seatsKnown(placed: PlacedSession[]): boolean {
    return placed.every((p) => !p.staffId || typeof p.staffSeat === 'number');
  }

  /**
   * Writes the plan, its sessions and the audit row in one statement. With `alone`, that statement
   * is the whole transaction (autocommit): it takes the clinic's schedule lock itself, before any
   * row, and the seats must be known; otherwise it runs in the caller's transaction, which holds the lock.
   */
  private async write(
    m: EntityManager,
    actor: Actor,
    prepared: Prepared,
    placed: PlacedSession[],
    alone = false,
  ): Promise<PlanDto> {
    const clinicId = prepared.setup.clinic.id;
    const staffIds = [...new Set(placed.map((p) => p.staffId).filter((x): x is string => x !== null))];
    const first = Math.min(...placed.map((p) => p.start));
    const last = Math.max(...placed.map((p) => p.occupiedUntil));
    const seats = BookingService.seatsKnown(placed)
      ? placed.map((p) => p.staffSeat ?? null)
      : this.assignSeats(
          placed,
          await this.bookings.seatsInUse(m, clinicId, staffIds, fromMinute(first), fromMinute(last)),
        );
    const planId = randomUUID();
    const { plan, sessions } = await this.repo.insertPlanWithSessions(
      m,
      {
        id: planId,
        clinicId,
        patientId: prepared.patientId,
        protocolId: prepared.version.protocolId,
        protocolVersion: prepared.version.version,
        tailoring: prepared.tailoring,
        earliestStart: prepared.earliestStart,
        createdBy: actor.keyId,
        concurrentSeries: prepared.concurrentSeries,
      },
      placed.map((p, i) => ({
        ref: p.ref,
        stepKey: p.stepKey,
        occurrence: p.occurrence,
        kind: p.kind,
        label: p.label,
        startsAt: fromMinute(p.start),
        endsAt: fromMinute(p.end),
        occupiedUntil: fromMinute(p.occupiedUntil),
        chairId: p.chairId,
        staffId: p.staffId,
        staffSeat: seats[i],
        plannedDose: p.dose,
      })),
      {
        lock: alone,
        also: this.audit.statement(actor, [
          { clinicId, action: 'plan.create', entityType: 'plan', entityId: planId, patientId: prepared.patientId },
        ]),
      },
    );
    return planView(prepared.setup, plan, sessions);
  }

  /**
   * Books the whole series in one transaction, or nothing. The database refuses any overlap on a
   * chair, a staff seat or the patient; if another booking won the race, the series is planned
   * once more under the clinic's schedule lock, where it cannot lose again.
   */
  async book(actor: Actor, dto: PlanRequestDto, idempotencyKey?: string): Promise<BookResult> {
    try {
      return await this.bookOnce(actor, dto, idempotencyKey);
    } catch (caught) {
      // Another booking of a series of this protocol for the patient committed first (index plans_one_active_series_uq).
      const err = isUniqueViolation(caught, 'plans_one_active_series_uq')
        ? await this.activeSeriesRefusal(actor, dto)
        : caught;
      // A duplicate that looked before the first request committed may have planned against
      // the first one's sessions and failed: if the key has a response by now, that is the answer.
      if (idempotencyKey && err instanceof DomainError) {
        const patient = await this.patients.findById(dto.patientId, actor.clinicId);
        const prior = patient
          ? await this.idempotency.lookup<PlanDto>(patient.clinicId, idempotencyKey, requestHash(BOOK_ROUTE, dto))
          : undefined;
        if (prior) return this.replay(actor, prior);
      }
      throw err;
    }
  }

  /** The refusal when the database found an active series of the protocol first, naming it. */
  private async activeSeriesRefusal(actor: Actor, dto: PlanRequestDto): Promise<PlanError> {
    const patient = await this.patients.findById(dto.patientId, actor.clinicId);
    return activeSeriesExists(
      patient ? await this.repo.activeSeries(patient.clinicId, patient.id, dto.protocolId) : null,
    );
  }

  /** A stored response returned again: still a read of the patient's plan, so audited. */
  private async replay(actor: Actor, prior: StoredResponse<PlanDto>): Promise<BookResult> {
    await this.audit.recordRead(actor, {
      clinicId: prior.body.clinicId,
      action: 'plan.read',
      entityType: 'plan',
      entityId: prior.body.id,
      patientId: prior.body.patientId,
    });
    return { ...prior, replayed: true, replanned: false };
  }

  private async bookOnce(actor: Actor, dto: PlanRequestDto, idempotencyKey?: string): Promise<BookResult> {
    const hash = requestHash(BOOK_ROUTE, dto);
    // With an Idempotency-Key, a stored answer is looked for first (in the patient's clinic);
    // without one, the patient is read alongside the protocol and the clinic.
    let patient: PatientEntity | undefined;
    if (idempotencyKey) {
      patient = (await this.patients.findById(dto.patientId, actor.clinicId)) ?? undefined;
      if (!patient) throw new PatientError(PatientErrorCode.PATIENT_NOT_FOUND, 'No such patient.');
      const prior = await this.idempotency.lookup<PlanDto>(patient.clinicId, idempotencyKey, hash);
      if (prior) return this.replay(actor, prior);
    }

    const prepared = await this.planning.prepare(actor, dto, patient);
    const clinicId = prepared.setup.clinic.id;
    const inFlight = this.inFlight.get(clinicId) ?? 0;
    this.inFlight.set(clinicId, inFlight + 1);
    try {
      return await this.bookPrepared(actor, prepared, inFlight > 0, idempotencyKey, hash);
    } catch (err) {
      // A refusal worked out from the patient's data (times, unavailability) is a read, as for a preview.
      if (err instanceof PlanError && err.code === PlanErrorCode.PLAN_INFEASIBLE)
        await this.audit.recordRead(actor, this.planning.previewAudit(prepared));
      throw err;
    } finally {
      const left = (this.inFlight.get(clinicId) ?? 1) - 1;
      if (left > 0) this.inFlight.set(clinicId, left);
      else this.inFlight.delete(clinicId);
    }
  }

  /**
   * Planned optimistically, outside any lock: bookings of other clinics, and of this one, run side
   * by side. If another booking takes a needed slot first (the exclusion constraints refuse ours),
   * the series is planned again inside the clinic's schedule lock, against what is there now; no
   * other writer of this clinic's schedule can commit until we do. The order of it all is the
   * state machine in booking/booking-flow.ts; here are its steps.
   */
  private bookPrepared(
    actor: Actor,
    prepared: Prepared,
    queued: boolean,
    idempotencyKey: string | undefined,
    hash: string,
  ): Promise<BookResult> {
    const clinicId = prepared.setup.clinic.id;
    return runBooking({
      queued,
      keyed: idempotencyKey !== undefined,
      plan: (m) => this.planning.plan(prepared, m),
      seatsKnown: (placed) => BookingService.seatsKnown(placed),
      writeAlone: async (placed) => {
        const body = await withRetries(() => this.write(this.dataSource.manager, actor, prepared, placed, true));
        return { body, status: 201, replayed: false, replanned: false };
      },
      // At most two booking transactions per clinic from this instance: the others wait here, not
      // on the schedule lock with a pooled connection each (a burst for one clinic would
      // otherwise take the pool from every other clinic).
      underLock: (work, replanned) =>
        this.perClinic.run(clinicId, () =>
          withRetries(() =>
            this.dataSource.transaction(async (m): Promise<BookResult> => {
              if (idempotencyKey) {
                const prior = await this.idempotency.claim<PlanDto>(m, clinicId, idempotencyKey, hash);
                if (prior) {
                  await this.audit.record(m, actor, {
                    clinicId,
                    action: 'plan.read',
                    entityType: 'plan',
                    entityId: prior.body.id,
                    patientId: prior.body.patientId,
                  });
                  return { ...prior, replayed: true, replanned: false };
                }
              }
              await lockClinicSchedule(m, clinicId);
              const body = await this.write(m, actor, prepared, await work(m));
              if (idempotencyKey) {
                await this.idempotency.store(m, {
                  clinicId,
                  key: idempotencyKey,
                  actorKeyId: actor.keyId,
                  methodPath: BOOK_ROUTE,
                  hash,
                  status: 201,
                  body,
                });
              }
              return { body, status: 201, replayed: false, replanned };
            }),
          ),
        ),
      forgetCopy: () => this.cache.forget(clinicId),
      slotTaken: async (placed) => {
        const staffMax = new Map(prepared.setup.staff.map((s) => [s.id, s.maxConcurrentPatients]));
        const conflictingSessionId = await this.bookings.firstConflict(
          clinicId,
          (placed ?? []).map((p) => ({
            start: fromMinute(p.start),
            end: fromMinute(p.occupiedUntil),
            chairId: p.chairId,
            patientId: prepared.patientId,
            staffId: p.staffId,
            staffMax: p.staffId ? (staffMax.get(p.staffId) ?? 1) : 0,
          })),
        );
        throw new DomainError(
          CommonErrorCode.SLOT_TAKEN,
          'Another booking took a time this series needs; preview again.',
          [],
          {
            conflictingSessionId: conflictingSessionId ?? null,
          },
        );
      },
    });
  }
}
