import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { PlanEntity } from '../plans/entities/plan.entity.js';
import { tailor, type SessionToPlace } from '../protocols/domain/tailor.js';
import { availableSlots, planSpanDays, schedule } from '../scheduling/engine/schedule.js';
import type { FixedPlacement } from '../scheduling/engine/types.js';
import { AuditService } from '../audit/audit.service.js';
import type { Actor } from '../common/auth/actor.js';
import { Clock } from '../common/clock/clock.js';
import { lockClinicSchedule } from '../common/database/schedule-lock.js';
import { withRetries } from '../common/database/transactions.js';
import { CommonErrorCode, ForbiddenError, ValidationFailedError } from '../common/errors/common.errors.js';
import { DomainError } from '../common/errors/domain-error.js';
import { DateTime } from 'luxon';
import { clinicForEngine } from '../plans/engine-input.js';
import type { ProtocolStep } from '../protocols/domain/protocol-step.js';

import type { SessionEntity } from '../sessions/entities/session.entity.js';
import { requireIfMatch, staleResource } from '../common/http/etag.js';
import { requireInstantWithinHorizon } from '../common/validation/date-horizon.js';
import { parseInstant } from '../common/validation/validators.js';
import { planEtag } from '../plans/plan-etag.js';
import { PlanError, PlanErrorCode } from '../plans/plans.errors.js';
import { PlansRepository } from '../plans/plans.repository.js';
import { SessionError, SessionErrorCode } from '../sessions/sessions.errors.js';
import type { AdjustmentListDto } from './adjustments.controller.js';
import { AdjustmentLog, AdjustmentWrites } from './adjustment-log.repository.js';
import { planChanges, type ChangeRequest } from './domain/plan-changes.js';
import { CLINICAL_TYPES, type AdjustmentResultDto, type AdjustPlanDto } from './dto/adjust.dto.js';

const toMinute = (d: Date) => Math.round(d.getTime() / 60000);

/** The session an adjustment is about: it must be in the plan and still scheduled. */
function scheduledTarget(
  sessions: SessionEntity[],
  sessionId: string | undefined,
  type: string,
  done: string,
): SessionEntity {
  if (!sessionId)
    throw new ValidationFailedError([{ field: 'sessionId', message: `sessionId is required for ${type}` }]);
  const target = sessions.find((s) => s.id === sessionId);
  if (!target) throw new SessionError(SessionErrorCode.SESSION_NOT_FOUND, 'No such session in this plan.');
  if (target.status !== 'scheduled') {
    throw new SessionError(
      SessionErrorCode.INVALID_TRANSITION,
      `The session is ${target.status}; only a scheduled session can be ${done}.`,
      { currentStatus: target.status },
    );
  }
  return target;
}

/** The plan's sessions as the engine places them (the template, tailored); they must match the booked ones. */
function placesOf(
  plan: PlanEntity,
  steps: ProtocolStep[],
  sessions: SessionEntity[],
  advice: string,
): SessionToPlace[] {
  const tailored = tailor(steps, plan.tailoring);
  const refs = new Set(sessions.map((s) => s.ref));
  if (!tailored.ok || tailored.sessions.some((t) => !refs.has(t.ref))) {
    throw new SessionError(SessionErrorCode.INVALID_TRANSITION, `The plan no longer matches its template; ${advice}.`);
  }
  return tailored.sessions;
}

/** Sessions a cascade never moves: those that happened or were called off, and those before the one changed. */
const stays = (s: SessionEntity, target: SessionEntity) => s.status !== 'scheduled' || s.startsAt < target.startsAt;

/** A session kept as it is; called-off ones anchor gaps but hold nothing. */
const kept = (s: SessionEntity): FixedPlacement => ({
  start: toMinute(s.startsAt),
  chairId: s.chairId,
  staffId: s.staffId,
  staffSeat: s.staffSeat,
  check: false,
  holds: s.status !== 'cancelled' && s.status !== 'no_show',
});

@Injectable()
export class AdjustmentsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly plans: PlansRepository,
    private readonly log: AdjustmentLog,
    private readonly writes: AdjustmentWrites,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /**
   * Is the chair or staff member free for this session at its current time? Asked of the engine
   * (the same rules as booking: presence, opening hours, capacity), without the session itself.
   */
  private async checkResource(
    m: EntityManager,
    clinicId: string,
    s: SessionEntity,
    effect: { kind: 'chair'; chairId: string } | { kind: 'staff'; staffId: string },
    steps: ProtocolStep[],
  ): Promise<void> {
    const setup = await this.plans.clinicSetup(clinicId, m);
    if (effect.kind === 'chair' && !setup.chairs.some((c) => c.id === effect.chairId)) {
      throw new ValidationFailedError([{ field: 'chairId', message: 'no such active chair in this clinic' }]);
    }
    const role = steps.find((x) => x.key === s.stepKey)?.staffRole ?? null;
    if (effect.kind === 'staff' && !setup.staff.some((x) => x.id === effect.staffId && x.role === role)) {
      throw new ValidationFailedError([
        { field: 'staffId', message: `no active ${role ?? 'staff member'} with that id in this clinic` },
      ]);
    }
    const zone = setup.clinic.timezone;
    const day = DateTime.fromJSDate(s.startsAt, { zone });
    const booked = await this.plans.bookings(
      clinicId,
      day.startOf('day').toJSDate(),
      day.plus({ days: 1 }).startOf('day').toJSDate(),
      { chairs: setup.chairs.map((c) => c.id), staff: setup.staff.map((x) => x.id), patientId: s.patientId },
      { sessionId: s.id },
      m,
    );
    const slots = availableSlots({
      ...clinicForEngine(setup),
      booked,
      now: Math.min(toMinute(this.clock.now().toJSDate()), toMinute(s.startsAt)),
      from: day.toISODate()!,
      to: day.toISODate()!,
      durationMinutes: toMinute(s.endsAt) - toMinute(s.startsAt),
      recoveryMinutes: toMinute(s.occupiedUntil) - toMinute(s.endsAt),
      needsChair: effect.kind === 'chair',
      staffRole: effect.kind === 'staff' ? role : null,
    });
    const slot = slots.find((x) => x.start === toMinute(s.startsAt));
    const free =
      effect.kind === 'chair' ? slot?.chairIds.includes(effect.chairId) : slot?.staffIds.includes(effect.staffId);
    if (!free) {
      throw new DomainError(
        CommonErrorCode.SLOT_TAKEN,
        `That ${effect.kind === 'chair' ? 'chair' : 'staff member'} is not free for ${s.label} at ${day.toFormat('yyyy-MM-dd HH:mm')}.`,
      );
    }
  }

  /**
   * Reschedules one session and lets the engine cascade: sessions that already happened, were
   * called off, or come earlier are kept as they are; the moved one is pinned to its new time
   * (and chair/staff if given) and checked against every rule; later ones keep their local time
   * where their gaps still hold and otherwise move as little as possible. All moves are written
   * together, the overlap constraints judging them at commit.
   */
  private async reschedule(
    m: EntityManager,
    actor: Actor,
    plan: PlanEntity,
    sessions: SessionEntity[],
    steps: ProtocolStep[],
    dto: AdjustPlanDto,
    preview: boolean,
  ): Promise<{ body: AdjustmentResultDto; etag: string }> {
    const target = scheduledTarget(sessions, dto.sessionId, 'reschedule', 'rescheduled');
    if (!dto.start) throw new ValidationFailedError([{ field: 'start', message: 'start is required for reschedule' }]);
    const newStart = parseInstant('start', dto.start, 'start must be an ISO 8601 instant with an offset');
    const now = this.clock.now();
    if (newStart <= now) throw new ValidationFailedError([{ field: 'start', message: 'start must be in the future' }]);
    // The engine works over every local day up to the new start: keep that within what a plan can be.
    requireInstantWithinHorizon('start', newStart, now);

    const toPlace = placesOf(plan, steps, sessions, 'reschedule sessions one at a time with change_chair/change_staff');
    const fixed: Record<string, FixedPlacement> = {};
    const prefer: Record<string, number> = {};
    for (const s of sessions) {
      if (s.id === target.id)
        fixed[s.ref] = {
          start: Math.round(newStart.toMillis() / 60000),
          chairId: dto.chairId ?? null,
          staffId: dto.staffId ?? null,
          check: true,
        };
      else if (stays(s, target)) fixed[s.ref] = kept(s);
      else prefer[s.ref] = toMinute(s.startsAt);
    }

    return this.cascade(m, actor, plan, sessions, toPlace, fixed, prefer, {
      type: 'reschedule',
      reason: dto.reason ?? null,
      preview,
      extra: newStart,
      cancel: [],
    });
  }

  /**
   * Skips a session and shifts the rest: the skipped session (and the sessions attached to it)
   * are called off, sessions that followed it are re-anchored to what it followed, and every later
   * scheduled session is placed again by the engine nearest its targets; earlier ones stay.
   */
  private async skipAndShift(
    m: EntityManager,
    actor: Actor,
    plan: PlanEntity,
    sessions: SessionEntity[],
    steps: ProtocolStep[],
    dto: AdjustPlanDto,
    preview: boolean,
  ): Promise<{ body: AdjustmentResultDto; etag: string }> {
    const target = scheduledTarget(sessions, dto.sessionId, 'skip', 'skipped');
    const toPlace = placesOf(plan, steps, sessions, 'skip without shifting');
    const targetPlan = toPlace.find((t) => t.ref === target.ref)!;
    // Sessions attached to the skipped one go with it.
    const attached = toPlace.filter(
      (t) => steps.find((x) => x.key === t.stepKey)?.attachedTo && t.constraints.some((c) => c.ref === target.ref),
    );
    const skipped = new Set([target.ref, ...attached.map((t) => t.ref)]);
    const rewired = toPlace.map((t) =>
      skipped.has(t.ref)
        ? t
        : { ...t, constraints: t.constraints.flatMap((c) => (c.ref === target.ref ? targetPlan.constraints : [c])) },
    );
    const fixed: Record<string, FixedPlacement> = {};
    for (const s of sessions) {
      if (skipped.has(s.ref)) fixed[s.ref] = { ...kept(s), holds: false };
      else if (stays(s, target)) fixed[s.ref] = kept(s);
    }
    const cancel = sessions.filter((s) => skipped.has(s.ref) && s.status === 'scheduled');
    return this.cascade(
      m,
      actor,
      plan,
      sessions,
      rewired,
      fixed,
      {},
      { type: 'skip', reason: dto.reason ?? null, preview, cancel },
    );
  }

  /**
   * Runs the engine for a plan that is already booked: its zone and resources, the clinic's other
   * bookings (not this plan's), the patient's constraints, over a calendar from the plan's first
   * session (or now) to beyond its last by the template's span plus `slackDays`.
   */
  private async placeAround(
    m: EntityManager,
    plan: PlanEntity,
    sessions: SessionEntity[],
    toPlace: SessionToPlace[],
    fixed: Record<string, FixedPlacement>,
    prefer: Record<string, number>,
    extra: DateTime | undefined,
    slackDays: number,
  ) {
    const now = this.clock.now();
    // Read through the transaction's own connection: borrowing more from the pool while holding
    // one starves the pool under concurrent adjustments.
    const setup = await this.plans.clinicSetup(plan.clinicId, m);
    const patient = await this.plans.findPatient(plan.patientId, plan.clinicId, m);
    const zone = setup.clinic.timezone;
    const edges = extra ? [extra.setZone(zone)] : [];
    const firstDay = DateTime.min(
      now.setZone(zone),
      ...edges,
      ...sessions.map((s) => DateTime.fromJSDate(s.startsAt, { zone })),
    ).startOf('day');
    const lastDay = DateTime.max(
      now.setZone(zone),
      ...edges,
      ...sessions.map((s) => DateTime.fromJSDate(s.occupiedUntil, { zone })),
    ).startOf('day');
    const horizonDays = Math.ceil(lastDay.diff(firstDay, 'days').days) + planSpanDays(toPlace) + slackDays;
    const booked = await this.plans.bookings(
      plan.clinicId,
      firstDay.minus({ days: 1 }).toJSDate(),
      firstDay.plus({ days: horizonDays + 1 }).toJSDate(),
      { chairs: setup.chairs.map((c) => c.id), staff: setup.staff.map((x) => x.id), patientId: plan.patientId },
      { planId: plan.id },
      m,
    );
    const result = schedule({
      ...clinicForEngine(setup),
      booked,
      patient: {
        id: plan.patientId,
        unavailable: patient?.unavailable ?? [],
        unavailableDates: patient?.unavailableDates ?? [],
        preferredTimes: patient?.preferredTimes ?? [],
      },
      sessions: toPlace,
      earliestStart: firstDay.toISODate()!,
      now: Math.round(now.toMillis() / 60000),
      startWindowDays: horizonDays,
      probeDays: horizonDays,
      horizonDays,
      fixed,
      prefer,
    });
    return { result, zone };
  }

  /** Places the plan again around its fixed sessions and writes what moved, atomically (shared by reschedule and skip-and-shift). */
  private async cascade(
    m: EntityManager,
    actor: Actor,
    plan: PlanEntity,
    sessions: SessionEntity[],
    toPlace: SessionToPlace[],
    fixed: Record<string, FixedPlacement>,
    prefer: Record<string, number>,
    opts: {
      type: 'reschedule' | 'skip';
      reason: string | null;
      preview: boolean;
      extra?: DateTime;
      cancel: SessionEntity[];
    },
  ): Promise<{ body: AdjustmentResultDto; etag: string }> {
    const byRef = new Map(sessions.map((s) => [s.ref, s]));
    const now = this.clock.now();
    const { result, zone } = await this.placeAround(m, plan, sessions, toPlace, fixed, prefer, opts.extra, 7);
    if (result.kind === 'infeasible') {
      throw new PlanError(PlanErrorCode.PLAN_INFEASIBLE, `The change does not fit: ${result.binding.message}.`, {
        binding: result.binding,
        earliestStart: null,
      });
    }

    const iso = (min: number) => DateTime.fromMillis(min * 60000, { zone }).toISO({ suppressMilliseconds: true })!;
    const cancelled = new Set(opts.cancel.map((s) => s.id));
    const moves = result.sessions
      .map((p) => ({ p, s: byRef.get(p.ref)! }))
      .filter(
        ({ p, s }) =>
          s.status === 'scheduled' &&
          !cancelled.has(s.id) &&
          (p.start !== toMinute(s.startsAt) || p.chairId !== s.chairId || p.staffId !== s.staffId),
      );
    const reasonText = `skipped: ${opts.reason ?? ''}`;
    const changes = [
      ...opts.cancel.map((s) => ({
        sessionId: s.id,
        ref: s.ref,
        before: { status: 'scheduled' },
        after: { status: 'cancelled', statusReason: reasonText },
      })),
      ...moves.map(({ p, s }) => ({
        sessionId: s.id,
        ref: s.ref,
        before: { start: iso(toMinute(s.startsAt)), chairId: s.chairId, staffId: s.staffId },
        after: { start: iso(p.start), chairId: p.chairId, staffId: p.staffId },
      })),
    ];
    if (opts.preview) {
      await this.audit.record(m, actor, {
        clinicId: plan.clinicId,
        action: 'plan.adjustments.preview',
        entityType: 'plan',
        entityId: plan.id,
        patientId: plan.patientId,
      });
      return {
        body: { type: opts.type, preview: true, planVersion: plan.version, planStatus: plan.status, changes },
        etag: planEtag(plan.version),
      };
    }
    // Writes wait for the clinic's other schedule writers (bookings, adjustments): held from here to
    // the commit only, not while the engine plans (see lockClinicSchedule).
    await lockClinicSchedule(m, plan.clinicId);
    const at = now.toJSDate();
    for (const s of opts.cancel) await this.writes.cancel(m, s, reasonText, at);
    await this.writes.deferOverlapChecks(m);
    for (const { p, s } of moves) {
      await this.writes.move(
        m,
        s,
        {
          start: new Date(p.start * 60000),
          end: new Date(p.end * 60000),
          occupiedUntil: new Date(p.occupiedUntil * 60000),
          chairId: p.chairId,
          staffId: p.staffId,
          staffSeat: p.staffId ? (p.staffSeat ?? (p.staffId === s.staffId ? s.staffSeat : 1)) : null,
        },
        at,
      );
    }
    const version = await this.log.append(
      m,
      {
        clinicId: plan.clinicId,
        planId: plan.id,
        type: opts.type,
        reason: opts.reason,
        actorKeyId: actor.keyId,
        actorRole: actor.role,
        at,
        changes,
      },
      plan.version,
    );
    if (version === null) throw staleResource();
    await this.audit.record(m, actor, {
      clinicId: plan.clinicId,
      action: `plan.${opts.type}`,
      entityType: 'plan',
      entityId: plan.id,
      patientId: plan.patientId,
    });
    return {
      body: { type: opts.type, preview: false, planVersion: version, planStatus: plan.status, changes },
      etag: planEtag(version),
    };
  }

  /**
   * One more occurrence of a step, placed by the engine: after the last occurrence of that step
   * within its spacing (or after the step it follows), every existing session kept as it is.
   */
  private async add(
    m: EntityManager,
    actor: Actor,
    plan: PlanEntity,
    sessions: SessionEntity[],
    steps: ProtocolStep[],
    dto: AdjustPlanDto,
    preview: boolean,
  ): Promise<{ body: AdjustmentResultDto; etag: string }> {
    const step = steps.find((x) => x.key === dto.stepKey);
    if (!dto.stepKey || !step)
      throw new ValidationFailedError([
        { field: 'stepKey', message: "stepKey must name a step of the plan's protocol version" },
      ]);
    if (step.attachedTo)
      throw new ValidationFailedError([
        { field: 'stepKey', message: `'${step.key}' is attached to '${step.attachedTo.step}': add that step instead` },
      ]);
    if (plan.status === 'ended_early')
      throw new SessionError(SessionErrorCode.INVALID_TRANSITION, 'The plan has ended early; book a new one.');
    const amount = dto.amount ?? step.dose?.amount;
    if (step.dose && amount !== undefined && (amount < step.dose.min || amount > step.dose.max)) {
      throw new ValidationFailedError([
        {
          field: 'amount',
          message: `amount (${amount} ${step.dose.unit}) must lie within [${step.dose.min}, ${step.dose.max}]`,
        },
      ]);
    }
    const live = sessions.filter((s) => s.status !== 'cancelled' && s.status !== 'no_show');
    const lastOf = (key: string) =>
      live
        .filter((s) => s.stepKey === key)
        .sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime())
        .pop();
    const occurrence = Math.max(0, ...sessions.filter((s) => s.stepKey === step.key).map((s) => s.occurrence)) + 1;
    const previous = lastOf(step.key);
    const anchor =
      previous && step.spacing
        ? { s: previous, gap: step.spacing }
        : step.after && lastOf(step.after.step)
          ? { s: lastOf(step.after.step)!, gap: step.after.gap }
          : undefined;
    const weight = plan.tailoring.weightKg ?? 0;
    const dose =
      step.dose && amount !== undefined
        ? {
            drug: step.dose.drug,
            amount,
            unit: step.dose.unit,
            infusionMinutes: step.dose.infusionMinutes,
            totalMg:
              step.dose.unit === 'mg/kg' ? Math.round(Number((amount * weight * 10).toPrecision(12))) / 10 : amount,
          }
        : null;
    const existing: SessionToPlace[] = live.map((s) => ({
      ref: s.ref,
      stepKey: s.stepKey,
      occurrence: s.occurrence,
      occurrences: s.occurrence,
      kind: s.kind as SessionToPlace['kind'],
      label: s.label,
      durationMinutes: toMinute(s.endsAt) - toMinute(s.startsAt),
      recoveryMinutes: toMinute(s.occupiedUntil) - toMinute(s.endsAt),
      needsChair: s.chairId !== null,
      staffRole: null,
      dose: s.plannedDose,
      sameTimeOfDay: false,
      weekdays: null,
      constraints: [],
    }));
    const added: SessionToPlace = {
      ref: `${step.key}#${occurrence}`,
      stepKey: step.key,
      occurrence,
      occurrences: occurrence,
      kind: step.kind,
      label: `${step.label} (added)`,
      durationMinutes: step.durationMinutes,
      recoveryMinutes: step.recoveryMinutes,
      needsChair: step.needsChair,
      staffRole: step.staffRole,
      dose,
      sameTimeOfDay: step.sameTimeOfDay ?? false,
      weekdays: step.weekdays ?? null,
      constraints: anchor ? [{ ref: anchor.s.ref, relation: 'after', gap: anchor.gap, sameDay: false }] : [],
    };
    const fixed: Record<string, FixedPlacement> = Object.fromEntries(live.map((s) => [s.ref, kept(s)]));

    const now = this.clock.now();
    // Room for the new occurrence beyond the plan: its gap, and some weeks to find a free time.
    const { result, zone } = await this.placeAround(m, plan, live, [...existing, added], fixed, {}, undefined, 60);
    if (result.kind === 'infeasible') {
      throw new PlanError(PlanErrorCode.PLAN_INFEASIBLE, `No time fits the added session: ${result.binding.message}.`, {
        binding: result.binding,
        earliestStart: null,
      });
    }
    const p = result.sessions.find((x) => x.ref === added.ref)!;
    const iso = (min: number) => DateTime.fromMillis(min * 60000, { zone }).toISO({ suppressMilliseconds: true })!;
    const after = { start: iso(p.start), chairId: p.chairId, staffId: p.staffId, dose: p.dose };
    const planStatus = plan.status === 'completed' ? 'active' : plan.status;
    if (preview) {
      await this.audit.record(m, actor, {
        clinicId: plan.clinicId,
        action: 'plan.adjustments.preview',
        entityType: 'plan',
        entityId: plan.id,
        patientId: plan.patientId,
      });
      return {
        body: {
          type: 'add',
          preview: true,
          planVersion: plan.version,
          planStatus,
          changes: [{ sessionId: null, ref: added.ref, before: null, after }],
        },
        etag: planEtag(plan.version),
      };
    }
    // Writes wait for the clinic's other schedule writers (bookings, adjustments): held from here to
    // the commit only, not while the engine plans (see lockClinicSchedule).
    await lockClinicSchedule(m, plan.clinicId);
    const at = now.toJSDate();
    const [row] = await this.plans.insertSessions(m, [
      {
        clinicId: plan.clinicId,
        planId: plan.id,
        patientId: plan.patientId,
        ref: added.ref,
        stepKey: added.stepKey,
        occurrence,
        kind: added.kind,
        label: added.label,
        startsAt: new Date(p.start * 60000),
        endsAt: new Date(p.end * 60000),
        occupiedUntil: new Date(p.occupiedUntil * 60000),
        chairId: p.chairId,
        staffId: p.staffId,
        staffSeat: p.staffId ? (p.staffSeat ?? 1) : null,
        plannedDose: p.dose,
      },
    ]);
    if (planStatus !== plan.status) await this.writes.setPlanStatus(m, plan, planStatus);
    const changes = [{ sessionId: row.id, ref: added.ref, before: null, after }];
    const version = await this.log.append(
      m,
      {
        clinicId: plan.clinicId,
        planId: plan.id,
        type: 'add',
        reason: dto.reason ?? null,
        actorKeyId: actor.keyId,
        actorRole: actor.role,
        at,
        changes,
      },
      plan.version,
    );
    if (version === null) throw staleResource();
    await this.audit.record(m, actor, {
      clinicId: plan.clinicId,
      action: 'plan.add',
      entityType: 'session',
      entityId: row.id,
      patientId: plan.patientId,
    });
    return {
      body: { type: 'add', preview: false, planVersion: version, planStatus, changes },
      etag: planEtag(version),
    };
  }

  async list(actor: Actor, planId: string): Promise<AdjustmentListDto> {
    const plan = await this.plans.findPlan(planId, actor.clinicId);
    if (!plan) throw new PlanError(PlanErrorCode.PLAN_NOT_FOUND, 'No such plan.');
    const rows = await this.log.list(plan.clinicId, plan.id);
    await this.audit.recordRead(actor, {
      clinicId: plan.clinicId,
      action: 'plan.adjustments.read',
      entityType: 'plan',
      entityId: plan.id,
      patientId: plan.patientId,
    });
    return { items: rows.map((r) => ({ ...r, occurredAt: r.occurredAt.toISOString() })) };
  }

  /**
   * Previews or commits one adjustment. The plan row is locked and its version checked against
   * If-Match; the changes are computed by a pure function from the plan as it is, so the commit
   * writes exactly what the preview showed for that version. The entry is appended to the log.
   */
  async adjust(
    actor: Actor,
    planId: string,
    ifMatch: string | undefined,
    dto: AdjustPlanDto,
    preview: boolean,
  ): Promise<{ body: AdjustmentResultDto; etag: string }> {
    const clinical = CLINICAL_TYPES.includes(dto.type);
    if (clinical && actor.role === 'front_desk')
      throw new ForbiddenError(`Only clinicians and admins may ${dto.type.replace('_', ' ')}.`);
    if (clinical && !dto.reason)
      throw new ValidationFailedError([{ field: 'reason', message: `a reason is required for ${dto.type}` }]);
    return withRetries(() =>
      this.dataSource.transaction(async (m) => {
        const plan = await this.writes.lockPlan(m, planId, actor.clinicId);
        if (!plan) throw new PlanError(PlanErrorCode.PLAN_NOT_FOUND, 'No such plan.');
        requireIfMatch(ifMatch, planEtag(plan.version));
        const [sessions, steps] = await Promise.all([this.writes.sessions(m, plan), this.writes.versionSteps(m, plan)]);
        if (dto.type === 'reschedule') return this.reschedule(m, actor, plan, sessions, steps, dto, preview);
        if (dto.type === 'add') return this.add(m, actor, plan, sessions, steps, dto, preview);
        if (dto.type === 'skip' && dto.shift) return this.skipAndShift(m, actor, plan, sessions, steps, dto, preview);
        const outcome = planChanges(
          { ...dto, reason: dto.reason ?? '' } as ChangeRequest,
          sessions,
          steps,
          plan.tailoring.weightKg ?? null,
          plan.status,
        );
        if (!outcome.ok) {
          if (outcome.kind === 'invalid')
            throw new ValidationFailedError([{ field: outcome.field, message: outcome.message }]);
          if (outcome.kind === 'not_found') throw new SessionError(SessionErrorCode.SESSION_NOT_FOUND, outcome.message);
          throw new SessionError(
            SessionErrorCode.INVALID_TRANSITION,
            outcome.message,
            outcome.currentStatus ? { currentStatus: outcome.currentStatus } : {},
          );
        }
        for (const c of outcome.changes) {
          if (c.effect.kind === 'chair' || c.effect.kind === 'staff') {
            await this.checkResource(
              m,
              plan.clinicId,
              sessions.find((s) => s.id === c.session.id)!,
              c.effect,
              steps,
            );
          }
        }
        const changes = outcome.changes.map((c) => ({
          sessionId: c.session.id,
          ref: c.session.ref,
          before: c.before,
          after: c.after,
        }));
        if (preview) {
          // The preview shows the patient's sessions and doses: a read of patient data.
          await this.audit.record(m, actor, {
            clinicId: plan.clinicId,
            action: 'plan.adjustments.preview',
            entityType: 'plan',
            entityId: plan.id,
            patientId: plan.patientId,
          });
          return {
            body: { type: dto.type, preview: true, planVersion: plan.version, planStatus: outcome.planStatus, changes },
            etag: planEtag(plan.version),
          };
        }
        // Writes wait for the clinic's other schedule writers (bookings, adjustments): held from here to
        // the commit only, not while the engine plans (see lockClinicSchedule).
        await lockClinicSchedule(m, plan.clinicId);
        const at = this.clock.now().toJSDate();
        for (const c of outcome.changes) {
          const s = sessions.find((x) => x.id === c.session.id)!;
          switch (c.effect.kind) {
            case 'cancel':
              await this.writes.cancel(m, s, c.effect.reason, at);
              break;
            case 'dose':
              await this.writes.setPlannedDose(m, s, c.effect.dose, at);
              break;
            case 'chair':
              // The exclusion constraint still decides if someone took the chair meanwhile (409).
              await this.writes.setChair(m, s, c.effect.chairId, at);
              break;
            case 'staff': {
              const used = await this.plans.seatsInUse(
                m,
                plan.clinicId,
                [c.effect.staffId],
                s.startsAt,
                s.occupiedUntil,
              );
              let seat = 1;
              while (used.some((u) => u.seat === seat && u.start < s.occupiedUntil && s.startsAt < u.end)) seat++;
              await this.writes.setStaff(m, s, c.effect.staffId, seat, at); // seat and capacity checked by the database
              break;
            }
          }
        }
        if (outcome.planStatus !== plan.status) await this.writes.setPlanStatus(m, plan, outcome.planStatus);
        const version = await this.log.append(
          m,
          {
            clinicId: plan.clinicId,
            planId: plan.id,
            type: dto.type,
            reason: dto.reason ?? null,
            actorKeyId: actor.keyId,
            actorRole: actor.role,
            at,
            changes,
          },
          plan.version,
        );
        if (version === null) throw staleResource();
        await this.audit.record(m, actor, {
          clinicId: plan.clinicId,
          action: `plan.${dto.type}`,
          entityType: 'plan',
          entityId: plan.id,
          patientId: plan.patientId,
        });
        return {
          body: { type: dto.type, preview: false, planVersion: version, planStatus: outcome.planStatus, changes },
          etag: planEtag(version),
        };
      }),
    );
  }
}
