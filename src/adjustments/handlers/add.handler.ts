import { Injectable } from '@nestjs/common';
import { ValidationFailedError } from '../../common/errors/common.errors.js';
import type { PlanEntity } from '../../plans/entities/plan.entity.js';
import { PlansRepository } from '../../plans/plans.repository.js';
import type { ProtocolStep } from '../../protocols/domain/protocol-step.js';
import type { SessionToPlace } from '../../protocols/domain/tailor.js';
import type { FixedPlacement } from '../../scheduling/engine/types.js';
import type { SessionEntity } from '../../sessions/entities/session.entity.js';
import { AdjustmentError, AdjustmentErrorCode } from '../adjustments.errors.js';
import type { AddDto } from '../dto/adjust-request.dto.js';
import type { AdjustmentHandler, PlanContext, Proposal } from './handler.js';
import { kept, toMinute } from './placement.js';
import { placedOrRefused, Replanner } from './replan.js';

/** The step to add an occurrence of: one of the plan's template, not attached to another. */
function stepToAdd(steps: ProtocolStep[], stepKey: string): ProtocolStep {
  const step = steps.find((x) => x.key === stepKey);
  if (!step)
    throw new ValidationFailedError([
      { field: 'stepKey', message: "stepKey must name a step of the plan's protocol version" },
    ]);
  if (step.attachedTo)
    throw new ValidationFailedError([
      { field: 'stepKey', message: `'${step.key}' is attached to '${step.attachedTo.step}': add that step instead` },
    ]);
  return step;
}

/** The planned dose of the added occurrence: the amount asked for (or the step's), within the step's range. */
function doseOf(step: ProtocolStep, plan: PlanEntity, requested: number | undefined): SessionToPlace['dose'] {
  const amount = requested ?? step.dose?.amount;
  if (!step.dose || amount === undefined) return null;
  if (amount < step.dose.min || amount > step.dose.max) {
    throw new ValidationFailedError([
      {
        field: 'amount',
        message: `amount (${amount} ${step.dose.unit}) must lie within [${step.dose.min}, ${step.dose.max}]`,
      },
    ]);
  }
  const weight = plan.tailoring.weightKg ?? 0;
  return {
    drug: step.dose.drug,
    amount,
    unit: step.dose.unit,
    infusionMinutes: step.dose.infusionMinutes,
    totalMg: step.dose.unit === 'mg/kg' ? Math.round(Number((amount * weight * 10).toPrecision(12))) / 10 : amount,
  };
}

/** A booked session as the engine sees it, kept where it is. */
const asPlaced = (s: SessionEntity): SessionToPlace => ({
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
});

/**
 * One more occurrence of a step, placed by the engine: after the last occurrence of that step
 * within its spacing (or after the step it follows), every existing session kept as it is.
 */
@Injectable()
export class AddHandler implements AdjustmentHandler<'add'> {
  constructor(
    private readonly plans: PlansRepository,
    private readonly replanner: Replanner,
  ) {}

  async propose({ m, plan, sessions, steps }: PlanContext, req: AddDto): Promise<Proposal> {
    const step = stepToAdd(steps, req.stepKey);
    if (plan.status === 'ended_early')
      throw new AdjustmentError(AdjustmentErrorCode.PLAN_ENDED, 'The plan has ended early; book a new one.');
    const dose = doseOf(step, plan, req.amount);
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

    // Room for the new occurrence beyond the plan: its gap, and some weeks to find a free time.
    const placed = await this.replanner.placeAround(
      m,
      plan,
      live,
      [...live.map(asPlaced), added],
      fixed,
      {},
      undefined,
      60,
    );
    const p = placedOrRefused(placed.result, 'No time fits the added session').find((x) => x.ref === added.ref)!;
    const after = { start: placed.iso(p.start), chairId: p.chairId, staffId: p.staffId, dose: p.dose };
    return {
      planStatus: plan.status === 'completed' ? 'active' : plan.status,
      changes: [{ sessionId: null, ref: added.ref, before: null, after }],
      write: async (tx) => {
        const [row] = await this.plans.insertSessions(tx, [
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
        return {
          changes: [{ sessionId: row.id, ref: added.ref, before: null, after }],
          audited: { entityType: 'session', entityId: row.id },
        };
      },
    };
  }
}
