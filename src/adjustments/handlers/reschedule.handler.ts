import { Injectable } from '@nestjs/common';
import { Clock } from '../../common/clock/clock.js';
import { ValidationFailedError } from '../../common/errors/common.errors.js';
import { requireInstantWithinHorizon } from '../../common/validation/date-horizon.js';
import { parseInstant } from '../../common/validation/validators.js';
import type { FixedPlacement } from '../../scheduling/engine/types.js';
import type { RescheduleDto } from '../dto/adjust-request.dto.js';
import type { AdjustmentHandler, PlanContext, Proposal } from './handler.js';
import { kept, placesOf, scheduledTarget, stays, toMinute } from './placement.js';
import { Replanner } from './replan.js';

/**
 * Reschedules one session and lets the engine cascade: sessions that already happened, were
 * called off, or come earlier are kept as they are; the moved one is pinned to its new time
 * (and chair/staff if given) and checked against every rule; later ones keep their local time
 * where their gaps still hold and otherwise move as little as possible. All moves are written
 * together, the overlap constraints judging them at commit.
 */
@Injectable()
export class RescheduleHandler implements AdjustmentHandler<'reschedule'> {
  constructor(
    private readonly replanner: Replanner,
    private readonly clock: Clock,
  ) {}

  async propose(ctx: PlanContext, req: RescheduleDto): Promise<Proposal> {
    const { plan, sessions, steps } = ctx;
    const target = scheduledTarget(sessions, req.sessionId, 'rescheduled');
    const newStart = parseInstant('start', req.start, 'start must be an ISO 8601 instant with an offset');
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
          chairId: req.chairId ?? null,
          staffId: req.staffId ?? null,
          check: true,
        };
      else if (stays(s, target)) fixed[s.ref] = kept(s);
      else prefer[s.ref] = toMinute(s.startsAt);
    }
    return this.replanner.cascade(ctx, toPlace, fixed, prefer, {
      reason: req.reason ?? null,
      extra: newStart,
      cancel: [],
    });
  }
}
