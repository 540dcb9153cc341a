import { Injectable } from '@nestjs/common';
import type { ChangeStaffDto } from '../dto/adjust-request.dto.js';
import type { AdjustmentHandler, PlanContext, Proposal } from './handler.js';
import { SessionEffects } from './session-effects.js';

/** One scheduled session to another staff member of its step's role, free at that time (else 409). */
@Injectable()
export class ChangeStaffHandler implements AdjustmentHandler<'change_staff'> {
  constructor(private readonly effects: SessionEffects) {}

  propose(ctx: PlanContext, req: ChangeStaffDto): Promise<Proposal> {
    return this.effects.propose(ctx, req);
  }
}
