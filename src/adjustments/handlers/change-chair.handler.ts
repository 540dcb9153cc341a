import { Injectable } from '@nestjs/common';
import type { ChangeChairDto } from '../dto/adjust-request.dto.js';
import type { AdjustmentHandler, PlanContext, Proposal } from './handler.js';
import { SessionEffects } from './session-effects.js';

/** One scheduled session to another chair at the same time; the chair must be free then (else 409). */
@Injectable()
export class ChangeChairHandler implements AdjustmentHandler<'change_chair'> {
  constructor(private readonly effects: SessionEffects) {}

  propose(ctx: PlanContext, req: ChangeChairDto): Promise<Proposal> {
    return this.effects.propose(ctx, req);
  }
}
