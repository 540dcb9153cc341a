import { Injectable } from '@nestjs/common';
import { DateTime } from 'luxon';
import type { EntityManager } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { clinicForEngine } from '../../plans/engine-input.js';
import type { PlanEntity } from '../../plans/entities/plan.entity.js';
import { PlanError, PlanErrorCode } from '../../plans/plans.errors.js';
import { ClinicsRepository } from '../../clinics/clinics.repository.js';
import { PatientsRepository } from '../../patients/patients.repository.js';
import { BookingsRepository } from '../../plans/bookings.repository.js';
import type { SessionToPlace } from '../../protocols/domain/tailor.js';
import { planSpanDays, schedule } from '../../scheduling/engine/schedule.js';
import type { FixedPlacement, PlacedSession, ScheduleResult } from '../../scheduling/engine/types.js';
import type { SessionEntity } from '../../sessions/entities/session.entity.js';
import { AdjustmentWrites } from '../adjustment-log.repository.js';
import type { PlanContext, Proposal } from './handler.js';
import { toMinute } from './placement.js';

/** The engine's placements, or its refusal (422) naming what binds. */
export function placedOrRefused(result: ScheduleResult, what: string): PlacedSession[] {
  if (result.kind === 'infeasible') {
    throw new PlanError(PlanErrorCode.PLAN_INFEASIBLE, `${what}: ${result.binding.message}.`, {
      binding: result.binding,
      earliestStart: null,
    });
  }
  return result.sessions;
}

/** The engine run again over a booked plan: shared by reschedule, skip-and-shift and add. */
@Injectable()
export class Replanner {
  constructor(
    private readonly clinics: ClinicsRepository,
    private readonly patients: PatientsRepository,
    private readonly bookings: BookingsRepository,
    private readonly writes: AdjustmentWrites,
    private readonly clock: Clock,
  ) {}

  /**
   * Runs the engine for a plan that is already booked: its zone and resources, the clinic's other
   * bookings (not this plan's), the patient's constraints, over a calendar from the plan's first
   * session (or now) to beyond its last by the template's span plus `slackDays`.
   */
  async placeAround(
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
    const setup = await this.clinics.setup(plan.clinicId, m);
    const patient = await this.patients.findById(plan.patientId, plan.clinicId, m);
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
    const booked = await this.bookings.bookings(
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
    const iso = (min: number) => DateTime.fromMillis(min * 60000, { zone }).toISO({ suppressMilliseconds: true })!;
    return { result, iso };
  }

  /**
   * Places the plan again around its fixed sessions (shared by reschedule and skip-and-shift): the
   * sessions in `cancel` are called off, every other scheduled session whose time, chair or staff
   * member the engine changed moves, all written together (the overlap constraints judge them at commit).
   */
  async cascade(
    { m, plan, sessions }: PlanContext,
    toPlace: SessionToPlace[],
    fixed: Record<string, FixedPlacement>,
    prefer: Record<string, number>,
    opts: { reason: string | null; extra?: DateTime; cancel: SessionEntity[] },
  ): Promise<Proposal> {
    const byRef = new Map(sessions.map((s) => [s.ref, s]));
    const placed = await this.placeAround(m, plan, sessions, toPlace, fixed, prefer, opts.extra, 7);
    const placements = placedOrRefused(placed.result, 'The change does not fit');
    const cancelled = new Set(opts.cancel.map((s) => s.id));
    const moves = placements
      .map((p) => ({ p, s: byRef.get(p.ref)! }))
      .filter(
        ({ p, s }) =>
          s.status === 'scheduled' &&
          !cancelled.has(s.id) &&
          (p.start !== toMinute(s.startsAt) || p.chairId !== s.chairId || p.staffId !== s.staffId),
      );
    const reasonText = `skipped: ${opts.reason ?? ''}`;
    const { iso } = placed;
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
    return {
      planStatus: plan.status,
      changes,
      write: async (tx, at) => {
        for (const s of opts.cancel) await this.writes.cancel(tx, s, reasonText, at);
        await this.writes.deferOverlapChecks(tx);
        for (const { p, s } of moves) {
          await this.writes.move(
            tx,
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
        return { changes };
      },
    };
  }
}
