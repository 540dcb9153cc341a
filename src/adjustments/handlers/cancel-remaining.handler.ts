import { Injectable } from '@nestjs/common';
import type { CancelRemainingDto } from '../dto/adjust-request.dto.js';
import type { AdjustmentHandler, PlanContext, Proposal } from './handler.js';
import { SessionEffects } from './session-effects.js';

/** Ends the plan early: every scheduled session is cancelled, the plan becomes `ended_early`. */
@Injectable()
export class CancelRemainingHandler implements AdjustmentHandler<'cancel_remaining'> {
  constructor(private readonly effects: SessionEffects) {}

  propose(ctx: PlanContext, req: CancelRemainingDto): Promise<Proposal> {
    return this.effects.propose(ctx, req);
  }
}
