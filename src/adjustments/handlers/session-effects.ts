import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ValidationFailedError } from '../../common/errors/common.errors.js';
import { BookingsRepository } from '../../plans/bookings.repository.js';
import type { SessionEntity } from '../../sessions/entities/session.entity.js';
import { SessionError, SessionErrorCode } from '../../sessions/sessions.errors.js';
import { AdjustmentWrites } from '../adjustment-log.repository.js';
import { AdjustmentError, AdjustmentErrorCode } from '../adjustments.errors.js';
import {
  planChanges,
  type ChangeOutcome,
  type ChangeRequest,
  type PlannedChange,
  type SessionEffect,
} from '../domain/plan-changes.js';
import type { PlanContext, Proposal } from './handler.js';
import { ResourceCheck } from './resource-check.js';

type Planned = Extract<ChangeOutcome, { ok: true }>;

const CONFLICT_CODES = {
  session_status: AdjustmentErrorCode.SESSION_NOT_ADJUSTABLE,
  nothing_left: AdjustmentErrorCode.NOTHING_TO_ADJUST,
} as const;

/** The changes the pure domain worked out (`planChanges`), or its refusal as the error the client gets. */
export function plannedOrRefused(outcome: ChangeOutcome): Planned {
  if (outcome.ok) return outcome;
  switch (outcome.kind) {
    case 'invalid':
      throw new ValidationFailedError([{ field: outcome.field, message: outcome.message }]);
    case 'not_found':
      throw new SessionError(SessionErrorCode.SESSION_NOT_FOUND, outcome.message);
    case 'conflict':
      throw new AdjustmentError(
        CONFLICT_CODES[outcome.refusal],
        outcome.message,
        outcome.currentStatus ? { currentStatus: outcome.currentStatus } : {},
      );
  }
}

/** Writes the session-level effects of dose, skip, end-early, chair and staff changes. */
@Injectable()
export class SessionEffects {
  constructor(
    private readonly bookings: BookingsRepository,
    private readonly writes: AdjustmentWrites,
    private readonly resources: ResourceCheck,
  ) {}

  /**
   * The changes of a dose, skip, end-early, chair or staff request, from the pure `planChanges`; a
   * session moved to another chair or staff member needs them free at its time (else 409). What
   * the preview shows is what `write` applies.
   */
  async propose(ctx: PlanContext, req: ChangeRequest): Promise<Proposal> {
    const { plan, sessions, steps } = ctx;
    const planned = plannedOrRefused(planChanges(req, sessions, steps, plan.tailoring.weightKg ?? null, plan.status));
    for (const { session, effect } of planned.changes) {
      if (effect.kind === 'chair' || effect.kind === 'staff') await this.resources.requireFree(ctx, session.id, effect);
    }
    const changes = planned.changes.map((c: PlannedChange) => ({
      sessionId: c.session.id,
      ref: c.session.ref,
      before: c.before,
      after: c.after,
    }));
    return {
      planStatus: planned.planStatus,
      changes,
      write: async (m, at) => {
        for (const c of planned.changes) {
          await this.apply(
            m,
            plan.clinicId,
            sessions.find((x) => x.id === c.session.id)!,
            c.effect,
            at,
          );
        }
        return { changes };
      },
    };
  }

  private async apply(m: EntityManager, clinicId: string, s: SessionEntity, effect: SessionEffect, at: Date) {
    switch (effect.kind) {
      case 'cancel':
        return this.writes.cancel(m, s, effect.reason, at);
      case 'dose':
        return this.writes.setPlannedDose(m, s, effect.dose, at);
      case 'chair':
        // The exclusion constraint still decides if someone took the chair meanwhile (409).
        return this.writes.setChair(m, s, effect.chairId, at);
      case 'staff': {
        const used = await this.bookings.seatsInUse(m, clinicId, [effect.staffId], s.startsAt, s.occupiedUntil);
        let seat = 1;
        while (used.some((u) => u.seat === seat && u.start < s.occupiedUntil && s.startsAt < u.end)) seat++;
        return this.writes.setStaff(m, s, effect.staffId, seat, at); // seat and capacity checked by the database
      }
    }
  }
}
