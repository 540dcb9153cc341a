import { Injectable } from '@nestjs/common';
import type { FixedPlacement } from '../../scheduling/engine/types.js';
import type { SkipDto } from '../dto/adjust-request.dto.js';
import type { AdjustmentHandler, PlanContext, Proposal } from './handler.js';
import { kept, placesOf, scheduledTarget, stays } from './placement.js';
import { Replanner } from './replan.js';
import { SessionEffects } from './session-effects.js';

/** Calls one scheduled session off; with `shift`, the later sessions are placed again. */
@Injectable()
export class SkipHandler implements AdjustmentHandler<'skip'> {
  constructor(
    private readonly effects: SessionEffects,
    private readonly replanner: Replanner,
  ) {}

  propose(ctx: PlanContext, req: SkipDto): Promise<Proposal> {
    return req.shift ? this.skipAndShift(ctx, req) : this.effects.propose(ctx, req);
  }

  /**
   * Skips a session and shifts the rest: the skipped session (and the sessions attached to it)
   * are called off, sessions that followed it are re-anchored to what it followed, and every later
   * scheduled session is placed again by the engine nearest its targets; earlier ones stay.
   */
  private async skipAndShift(ctx: PlanContext, req: SkipDto): Promise<Proposal> {
    const { plan, sessions, steps } = ctx;
    const target = scheduledTarget(sessions, req.sessionId, 'skipped');
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
    return this.replanner.cascade(ctx, rewired, fixed, {}, { reason: req.reason, cancel });
  }
}
