import { Injectable } from '@nestjs/common';
import { DateTime } from 'luxon';
import type { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { timed, timedSync } from '../common/http/server-timing.js';
import type { Actor } from '../common/auth/actor.js';
import { Clock } from '../common/clock/clock.js';
import { ForbiddenError, ValidationFailedError } from '../common/errors/common.errors.js';
import { requireLocalDateWithinHorizon } from '../common/validation/date-horizon.js';
import { PatientError, PatientErrorCode } from '../patients/patients.errors.js';
import { tailor, type SessionToPlace, type Tailoring } from '../protocols/domain/tailor.js';
import type { ProtocolVersionEntity } from '../protocols/entities/protocol-version.entity.js';
import { ProtocolsService } from '../protocols/protocols.service.js';
import { earliestWorkableStart, horizonDaysFor, schedule } from '../scheduling/engine/schedule.js';
import type { BindingConstraint, PlacedSession, ScheduleRequest } from '../scheduling/engine/types.js';
import type { PlanPreviewDto, PlanRequestDto } from './dto/plan.dto.js';
import type { PatientEntity } from '../patients/entities/patient.entity.js';
import { activeSeriesExists, PlanError, PlanErrorCode } from './plans.errors.js';
import { clinicForEngine } from './engine-input.js';
import { BookingsCache, type BookingsCopy } from './bookings-cache.js';
import { sessionViewOf } from './plan-view.js';
import { ClinicsRepository, type ClinicSetup } from '../clinics/clinics.repository.js';
import { PatientsRepository } from '../patients/patients.repository.js';
import { PlansRepository } from './plans.repository.js';

const PROBE_DAYS = 120;
const DEFAULT_START_WINDOW = 14;

export interface Prepared {
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

const toMinute = (d: Date) => Math.round(d.getTime() / 60000);

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

/**
 * Preparing a request for the engine (patient, protocol version, clinic, tailoring, the window)
 * and planning it against the clinic's bookings; the preview. Booking uses the same two steps
 * (booking/booking.service.ts).
 */
@Injectable()
export class PlanningService {
  constructor(
    private readonly repo: PlansRepository,
    private readonly patients: PatientsRepository,
    private readonly clinics: ClinicsRepository,
    private readonly cache: BookingsCache,
    private readonly protocols: ProtocolsService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

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

  async prepare(actor: Actor, dto: PlanRequestDto, found?: PatientEntity): Promise<Prepared> {
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
    const patientRead = found ? Promise.resolve(found) : this.patients.findById(dto.patientId, actor.clinicId);
    const clinicId = found?.clinicId ?? actor.clinicId ?? (await patientRead)?.clinicId;
    // The clinic's bookings are brought up to date at the same time (planning here is optimistic).
    const copy = settle(
      clinicId ? timed('cache', () => this.cache.prefetch(clinicId)) : Promise.reject(new Error('no clinic')),
    );
    const [patientR, versionR, setupR, activeR] = await timed('reads', () =>
      Promise.allSettled([
        patientRead,
        clinicId ? this.resolveVersion(dto.protocolId, dto.protocolVersion, clinicId) : Promise.resolve(null),
        clinicId ? this.clinics.setupOrNull(clinicId) : Promise.resolve(null),
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
    const [from, to] = PlanningService.span(setup, earliestStart, days);
    const ids = { chairs: setup.chairs.map((c) => c.id), staff: setup.staff.map((s) => s.id), patientId };
    return this.cache.bookings(setup.clinic.id, from, to, ids, m);
  }

  /**
   * Plans the series against the clinic's bookings: read through the caller's transaction when
   * given one (under the schedule lock), else from the copy brought up to date by `prepare`.
   */
  async plan(prepared: Prepared, m?: EntityManager): Promise<PlacedSession[]> {
    const probeHorizon = horizonDaysFor(prepared.sessions, PROBE_DAYS);
    // Outside any lock: the clinic's kept index of bookings, for the window and the look ahead
    // alike (used before the next await: it changes in place as the copy is brought up to date).
    // Under the lock, or when the copy does not cover the window: the bookings as a list.
    const copy = m ? undefined : await prepared.copy;
    const [from, to] = PlanningService.span(prepared.setup, prepared.earliestStart, probeHorizon);
    const index = copy?.status === 'fulfilled' ? await timed('bookings', () => copy.value.index(from, to)) : undefined;
    const listed = (days: number, phase: string) =>
      timed(phase, () => this.bookings(prepared.setup, prepared.patientId, prepared.earliestStart, days, m));
    const inWindow = index
      ? { booked: [], bookedIndex: index }
      : { booked: await listed(prepared.request.horizonDays, 'bookings') };
    const result = timedSync('engine', () => schedule({ ...prepared.request, ...inWindow }));
    if (result.kind === 'planned') return result.sessions;
    // Nothing in the window: look further ahead for the first start that would work.
    const ahead = index ? inWindow : { booked: await listed(probeHorizon, 'bookings-ahead') };
    const earliestStart = timedSync('earliest', () =>
      earliestWorkableStart({ ...prepared.request, ...ahead, horizonDays: probeHorizon, probeDays: PROBE_DAYS }),
    );
    throw infeasible(result.binding, earliestStart);
  }

  previewAudit(prepared: Prepared) {
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
      sessions: placed.map((s) => sessionViewOf(prepared.setup, s)),
    };
  }
}
