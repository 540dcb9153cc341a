import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { timed, timedSync } from '../common/http/server-timing.js';
import type { Actor } from '../common/auth/actor.js';
import { Clock } from '../common/clock/clock.js';
import { KeyedMutex } from '../common/concurrency/keyed-mutex.js';
import { lockClinicSchedule } from '../common/database/schedule-lock.js';
import { withRetries } from '../common/database/transactions.js';
import { CommonErrorCode, ForbiddenError, ValidationFailedError } from '../common/errors/common.errors.js';
import { isUniqueViolation } from '../common/errors/database-errors.js';
import { DomainError } from '../common/errors/domain-error.js';
import { requireLocalDateWithinHorizon } from '../common/validation/date-horizon.js';
import { IdempotencyService, requestHash, type StoredResponse } from '../common/idempotency/idempotency.service.js';
import { PatientError, PatientErrorCode } from '../patients/patients.errors.js';
import { tailor, type SessionToPlace, type Tailoring } from '../protocols/domain/tailor.js';
import type { ProtocolVersionEntity } from '../protocols/entities/protocol-version.entity.js';
import { ProtocolsService } from '../protocols/protocols.service.js';
import { earliestWorkableStart, horizonDaysFor, schedule } from '../scheduling/engine/schedule.js';
import type { BindingConstraint, PlacedSession, ScheduleRequest } from '../scheduling/engine/types.js';
import type { SessionEntity } from '../sessions/entities/session.entity.js';
import type { PlanDto, PlanPreviewDto, PlanRequestDto, SessionViewDto } from './dto/plan.dto.js';
import type { PatientEntity } from '../patients/entities/patient.entity.js';
import type { PlanEntity } from './entities/plan.entity.js';
import { planEtag } from './plan-etag.js';
import { activeSeriesExists, PlanError, PlanErrorCode } from './plans.errors.js';
import { sessionView } from '../sessions/session-view.js';
import { clinicForEngine } from './engine-input.js';
import { BookingsCache, type BookingsCopy } from './bookings-cache.js';
import { runBooking } from './booking/booking-flow.js';
import { PlansRepository, type ClinicSetup, type SeatUse } from './plans.repository.js';

const PROBE_DAYS = 120;
/** The booking route, as idempotency keys record it. */
const BOOK_ROUTE = 'POST /v1/plans';
const DEFAULT_START_WINDOW = 14;

interface Prepared {
  setup: ClinicSetup;
  patientId: string;
  version: ProtocolVersionEntity;
  tailoring: Tailoring;
  sessions: SessionToPlace[];
  earliestStart: string;
  /** The engine's input but for the bookings, which are read when the series is planned ({@link plan}). */
  request: Omit<ScheduleRequest, 'booked'>;
  /**
   * The clinic's bookings copy, brought up to date alongside the other reads (for a plan made
   * outside any lock). Settled, not thrown: a request refused before planning must not leave a
   * rejection unhandled; a failed prefetch only means the plan reads the copy itself.
   */
  copy: Promise<PromiseSettledResult<BookingsCopy>>;
  /** Booked on purpose beside an active series of the same protocol. */
  concurrentSeries: boolean;
}

export interface BookResult {
  body: PlanDto;
  status: number;
  replayed: boolean;
  /** Another booking took a slot first, and the series was planned again against what is there now. */
  replanned: boolean;
}

const toMinute = (d: Date) => Math.round(d.getTime() / 60000);
const fromMinute = (m: number) => new Date(m * 60000);

/** The promise's outcome, never rejected. */
function settle<T>(p: Promise<T>): Promise<PromiseSettledResult<T>> {
  return p.then(
    (value) => ({ status: 'fulfilled', value }),
    (reason: unknown) => ({ status: 'rejected', reason }),
  );
}

/** The value of a settled promise, or its error thrown. */
function settled<T>(r: PromiseSettledResult<T>): T {
  if (r.status === 'rejected') throw r.reason;
  return r.value;
}

/** The refusal when nothing fits: the binding constraint at the requested start and the earliest that works. */
function infeasible(binding: BindingConstraint, earliestStart: string | null): PlanError {
  return new PlanError(PlanErrorCode.PLAN_INFEASIBLE, `No plan fits: ${binding.message}.`, { binding, earliestStart });
}

/** Preview and booking of whole series. */
@Injectable()
export class PlansService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: PlansRepository,
    private readonly cache: BookingsCache,
    private readonly protocols: ProtocolsService,
    private readonly idempotency: IdempotencyService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** Bookings of each clinic under way in this instance (see {@link bookPrepared}). */
  private readonly inFlight = new Map<string, number>();
  /**
   * Booking transactions of one clinic per instance: one holding the schedule lock and one queued
   * on it (so that the lock passes on at once); any others wait in memory, without a connection.
   */
  private readonly perClinic = new KeyedMutex(2);

  // ---- preparing the engine's input ----

  /** The version to pin: the one asked for, or the newest in use; a retired one makes no new plans. */
  private async resolveVersion(
    protocolId: string,
    version: number | undefined,
    clinicId: string,
  ): Promise<ProtocolVersionEntity> {
    const v = await this.protocols.versionForPlanning(clinicId, protocolId, version);
    if (!v)
      throw new PlanError(PlanErrorCode.PROTOCOL_VERSION_RETIRED, 'The protocol has no published version in use.');
    if (v.retiredAt)
      throw new PlanError(
        PlanErrorCode.PROTOCOL_VERSION_RETIRED,
        `Version ${version} is retired: new plans use a version in use.`,
      );
    return v;
  }

  private async prepare(actor: Actor, dto: PlanRequestDto, found?: PatientEntity): Promise<Prepared> {
    // Doses, counts and spacing are clinical decisions: the front desk books the template as it is.
    if (
      actor.role === 'front_desk' &&
      dto.tailoring &&
      (dto.tailoring.weightKg !== undefined || (dto.tailoring.steps?.length ?? 0) > 0)
    ) {
      throw new ForbiddenError('Only clinicians and admins may tailor a plan (dose, count, spacing, weight).');
    }
    // So is a second active series of the same protocol for one patient.
    const concurrentSeries = dto.allowConcurrentSeries === true;
    if (actor.role === 'front_desk' && concurrentSeries) {
      throw new ForbiddenError(
        'Only clinicians and admins may book a series beside an active one of the same protocol (allowConcurrentSeries).',
      );
    }
    // Patient, protocol version and clinic set-up are read side by side (an operator key learns
    // the clinic from the patient first). A missing patient is reported before anything else.
    const patientRead = found ? Promise.resolve(found) : this.repo.findPatient(dto.patientId, actor.clinicId);
    const clinicId = found?.clinicId ?? actor.clinicId ?? (await patientRead)?.clinicId;
    // The clinic's bookings are brought up to date at the same time (planning here is optimistic).
    const copy = settle(
      clinicId ? timed('cache', () => this.cache.prefetch(clinicId)) : Promise.reject(new Error('no clinic')),
    );
    const [patientR, versionR, setupR, activeR] = await timed('reads', () =>
      Promise.allSettled([
        patientRead,
        clinicId ? this.resolveVersion(dto.protocolId, dto.protocolVersion, clinicId) : Promise.resolve(null),
        clinicId ? this.repo.clinicSetupOrNull(clinicId) : Promise.resolve(null),
        // One active series of a protocol per patient (the database's own rule; this names the plan early).
        clinicId && !concurrentSeries
          ? this.repo.activeSeries(clinicId, dto.patientId, dto.protocolId)
          : Promise.resolve(null),
      ]),
    );
    const patient = settled(patientR);
    if (!patient) throw new PatientError(PatientErrorCode.PATIENT_NOT_FOUND, 'No such patient.');
    const version = settled(versionR)!;
    const setup = settled(setupR)!;
    const active = settled(activeR);
    if (active) throw activeSeriesExists(active);
    const zone = setup.clinic.timezone;

    const today = this.clock.now().setZone(zone).toISODate()!;
    const earliestStart = dto.earliestStart ?? today;
    if (earliestStart < today)
      throw new ValidationFailedError([
        { field: 'earliestStart', message: `earliestStart must not be before today (${today} in the clinic)` },
      ]);
    requireLocalDateWithinHorizon('earliestStart', earliestStart, this.clock.now(), zone);

    // mg/kg doses use the clinician-confirmed weight (or one a clinician gives in the tailoring),
    // never one the front desk entered: while such a weight waits, the plan waits too.
    if (
      dto.tailoring?.weightKg === undefined &&
      patient.pendingWeightKg !== null &&
      version.steps.some((s) => s.dose?.unit === 'mg/kg')
    ) {
      throw new PatientError(
        PatientErrorCode.WEIGHT_UNCONFIRMED,
        "The patient's weight was changed by the front desk and no clinician has confirmed it yet; this protocol's mg/kg doses need a confirmed weight. " +
          'A clinician or admin confirms it with PATCH /v1/patients/{id} {"weightKg": …}.',
      );
    }
    const tailoring: Tailoring = {
      weightKg: dto.tailoring?.weightKg ?? patient.weightKg,
      steps: Object.fromEntries(
        (dto.tailoring?.steps ?? []).map(({ step, ...t }) => [
          step,
          Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)),
        ]),
      ),
    };
    const tailored = tailor(version.steps, tailoring);
    if (!tailored.ok) {
      throw new ValidationFailedError(
        tailored.errors.map((e) => ({ field: `tailoring.${e.field}`, message: e.message })),
        'The tailoring does not fit the protocol version.',
      );
    }

    // First look only as far as a plan starting in the window can reach; probing further for
    // an earliest workable start (and loading those bookings) happens only when nothing fits.
    const window = dto.startWithinDays ?? DEFAULT_START_WINDOW;
    const horizonDays = horizonDaysFor(tailored.sessions, window);
    return {
      setup,
      patientId: patient.id,
      version,
      tailoring,
      sessions: tailored.sessions,
      earliestStart,
      copy,
      concurrentSeries,
      request: {
        ...clinicForEngine(setup),
        patient: {
          id: patient.id,
          unavailable: patient.unavailable,
          unavailableDates: patient.unavailableDates,
          preferredTimes: dto.preferredTimes ?? patient.preferredTimes,
        },
        sessions: tailored.sessions,
        earliestStart,
        now: toMinute(this.clock.now().toJSDate()),
        startWindowDays: window,
        probeDays: window,
        horizonDays,
      },
    };
  }

  /** The bookings a plan from `earliestStart` within `days` can meet: from the day before to the day after. */
  private static span(setup: ClinicSetup, earliestStart: string, days: number): [Date, Date] {
    const from = DateTime.fromISO(earliestStart, { zone: setup.clinic.timezone }).startOf('day');
    return [from.minus({ days: 1 }).toJSDate(), from.plus({ days: days + 1 }).toJSDate()];
  }

  /** The clinic's bookings the engine must respect (through the caller's transaction when given one). */
  private async bookings(
    setup: ClinicSetup,
    patientId: string,
    earliestStart: string,
    days: number,
    m?: EntityManager,
  ) {
    const [from, to] = PlansService.span(setup, earliestStart, days);
    const ids = { chairs: setup.chairs.map((c) => c.id), staff: setup.staff.map((s) => s.id), patientId };
    return this.cache.bookings(setup.clinic.id, from, to, ids, m);
  }

  /**
   * Plans the series against the clinic's bookings: read through the caller's transaction when
   * given one (under the schedule lock), else from the copy brought up to date by `prepare`.
   */
  private async plan(prepared: Prepared, m?: EntityManager): Promise<PlacedSession[]> {
    const probeHorizon = horizonDaysFor(prepared.sessions, PROBE_DAYS);
    if (!m) {
      // Outside any lock: the clinic's kept index of bookings, for the window and the look ahead
      // alike. Used before the next await (it changes in place as the copy is brought up to date).
      const copy = await prepared.copy;
      const [from, to] = PlansService.span(prepared.setup, prepared.earliestStart, probeHorizon);
      const index = copy.status === 'fulfilled' ? await timed('bookings', () => copy.value.index(from, to)) : undefined;
      if (index) {
        const request = { ...prepared.request, booked: [], bookedIndex: index };
        const result = timedSync('engine', () => schedule(request));
        if (result.kind === 'planned') return result.sessions;
        const earliestStart = timedSync('earliest', () =>
          earliestWorkableStart({ ...request, horizonDays: probeHorizon, probeDays: PROBE_DAYS }),
        );
        throw infeasible(result.binding, earliestStart);
      }
    }
    const booked = await timed('bookings', () =>
      this.bookings(prepared.setup, prepared.patientId, prepared.earliestStart, prepared.request.horizonDays, m),
    );
    const result = timedSync('engine', () => schedule({ ...prepared.request, booked }));
    if (result.kind === 'planned') return result.sessions;
    // Nothing in the window: look further ahead for the first start that would work.
    const further = await timed('bookings-ahead', () =>
      this.bookings(prepared.setup, prepared.patientId, prepared.earliestStart, probeHorizon, m),
    );
    const earliestStart = timedSync('earliest', () =>
      earliestWorkableStart({ ...prepared.request, booked: further, horizonDays: probeHorizon, probeDays: PROBE_DAYS }),
    );
    throw infeasible(result.binding, earliestStart);
  }

  // ---- views ----

  private view(setup: ClinicSetup, s: PlacedSession | SessionEntity): SessionViewDto {
    return sessionView({ timezone: setup.clinic.timezone, chairs: setup.chairs, staff: setup.staff }, s);
  }

  private planView(setup: ClinicSetup, plan: PlanEntity, sessions: SessionEntity[]): PlanDto {
    return {
      id: plan.id,
      clinicId: plan.clinicId,
      patientId: plan.patientId,
      protocolId: plan.protocolId,
      protocolVersion: plan.protocolVersion,
      timezone: setup.clinic.timezone,
      status: plan.status,
      version: plan.version,
      etag: planEtag(plan.version),
      earliestStart: plan.earliestStart,
      tailoring: plan.tailoring as unknown as Record<string, unknown>,
      createdAt: plan.createdAt.toISOString(),
      sessions: sessions.map((s) => this.view(setup, s)),
    };
  }

  // ---- use cases ----

  private previewAudit(prepared: Prepared) {
    return {
      clinicId: prepared.setup.clinic.id,
      action: 'plan.preview',
      entityType: 'patient',
      entityId: prepared.patientId,
      patientId: prepared.patientId,
    };
  }

  /** The plan that booking would make, without writing it (the read of patient data is audited). */
  async preview(actor: Actor, dto: PlanRequestDto): Promise<PlanPreviewDto> {
    const prepared = await this.prepare(actor, dto);
    // The patient's data has been read: the audit row is written while the engine plans, and
    // nothing is answered before it is in.
    const audited = timed('audit', () => this.audit.recordRead(actor, this.previewAudit(prepared)));
    let placed: PlacedSession[];
    try {
      // Let the audit statement get a connection and go out before the engine takes the CPU.
      await new Promise<void>((resolve) => setImmediate(resolve));
      placed = await this.plan(prepared);
    } finally {
      await audited;
    }
    return {
      patientId: prepared.patientId,
      protocolId: prepared.version.protocolId,
      protocolVersion: prepared.version.version,
      timezone: prepared.setup.clinic.timezone,
      sessions: placed.map((s) => this.view(prepared.setup, s)),
    };
  }

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
    const seats = PlansService.seatsKnown(placed)
      ? placed.map((p) => p.staffSeat ?? null)
      : this.assignSeats(
          placed,
          await this.repo.seatsInUse(m, clinicId, staffIds, fromMinute(first), fromMinute(last)),
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
        also: (firstParam) => {
          const a = this.audit.statement(
            actor,
            [{ clinicId, action: 'plan.create', entityType: 'plan', entityId: planId, patientId: prepared.patientId }],
            firstParam,
          );
          return { sql: a.sql(), params: a.params };
        },
      },
    );
    return this.planView(prepared.setup, plan, sessions);
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
        const patient = await this.repo.findPatient(dto.patientId, actor.clinicId);
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
    const patient = await this.repo.findPatient(dto.patientId, actor.clinicId);
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
      patient = (await this.repo.findPatient(dto.patientId, actor.clinicId)) ?? undefined;
      if (!patient) throw new PatientError(PatientErrorCode.PATIENT_NOT_FOUND, 'No such patient.');
      const prior = await this.idempotency.lookup<PlanDto>(patient.clinicId, idempotencyKey, hash);
      if (prior) return this.replay(actor, prior);
    }

    const prepared = await this.prepare(actor, dto, patient);
    const clinicId = prepared.setup.clinic.id;
    const inFlight = this.inFlight.get(clinicId) ?? 0;
    this.inFlight.set(clinicId, inFlight + 1);
    try {
      return await this.bookPrepared(actor, prepared, inFlight > 0, idempotencyKey, hash);
    } catch (err) {
      // A refusal worked out from the patient's data (times, unavailability) is a read, as for a preview.
      if (err instanceof PlanError && err.code === PlanErrorCode.PLAN_INFEASIBLE)
        await this.audit.recordRead(actor, this.previewAudit(prepared));
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
      plan: (m) => this.plan(prepared, m),
      seatsKnown: (placed) => PlansService.seatsKnown(placed),
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
        const conflictingSessionId = await this.repo.firstConflict(
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

  async get(actor: Actor, id: string): Promise<PlanDto> {
    const plan = await this.repo.findPlan(id, actor.clinicId);
    if (!plan) throw new PlanError(PlanErrorCode.PLAN_NOT_FOUND, 'No such plan.');
    const [setup, sessions] = await Promise.all([
      this.repo.clinicSetup(plan.clinicId),
      this.repo.sessionsOf(plan.clinicId, [plan.id]),
    ]);
    await this.audit.recordRead(actor, {
      clinicId: plan.clinicId,
      action: 'plan.read',
      entityType: 'plan',
      entityId: plan.id,
      patientId: plan.patientId,
    });
    return this.planView(setup, plan, sessions);
  }

  async listForPatient(actor: Actor, patientId: string): Promise<{ items: PlanDto[] }> {
    const patient = await this.repo.findPatient(patientId, actor.clinicId);
    if (!patient) throw new PatientError(PatientErrorCode.PATIENT_NOT_FOUND, 'No such patient.');
    const plans = await this.repo.plansOfPatient(patient.clinicId, patient.id);
    const [setup, sessions] = await Promise.all([
      this.repo.clinicSetup(patient.clinicId),
      this.repo.sessionsOf(
        patient.clinicId,
        plans.map((p) => p.id),
      ),
    ]);
    await this.audit.recordRead(actor, {
      clinicId: patient.clinicId,
      action: 'plan.list',
      entityType: 'patient',
      entityId: patient.id,
      patientId: patient.id,
    });
    return {
      items: plans.map((p) =>
        this.planView(
          setup,
          p,
          sessions.filter((s) => s.planId === p.id),
        ),
      ),
    };
  }
}
