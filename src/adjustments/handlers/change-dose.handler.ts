import { Injectable } from '@nestjs/common';
import type { ChangeDoseDto } from '../dto/adjust-request.dto.js';
import type { AdjustmentHandler, PlanContext, Proposal } from './handler.js';
import { SessionEffects } from './session-effects.js';

/** A new dose for one session, or for every remaining session of a step (within the step's range). */
@Injectable()
export class ChangeDoseHandler implements AdjustmentHandler<'change_dose'> {
  constructor(private readonly effects: SessionEffects) {}

  propose(ctx: PlanContext, req: ChangeDoseDto): Promise<Proposal> {
    return this.effects.propose(ctx, req);
  }
}
