import type { PlanEntity } from '../../plans/entities/plan.entity.js';
import type { ProtocolStep } from '../../protocols/domain/protocol-step.js';
import { tailor, type SessionToPlace } from '../../protocols/domain/tailor.js';
import type { FixedPlacement } from '../../scheduling/engine/types.js';
import type { SessionEntity } from '../../sessions/entities/session.entity.js';
import { SessionError, SessionErrorCode } from '../../sessions/sessions.errors.js';
import { AdjustmentError, AdjustmentErrorCode } from '../adjustments.errors.js';

export const toMinute = (d: Date) => Math.round(d.getTime() / 60000);

/** The session an adjustment is about: it must be in the plan and still scheduled. */
export function scheduledTarget(sessions: SessionEntity[], sessionId: string, done: string): SessionEntity {
  const target = sessions.find((s) => s.id === sessionId);
  if (!target) throw new SessionError(SessionErrorCode.SESSION_NOT_FOUND, 'No such session in this plan.');
  if (target.status !== 'scheduled') {
    throw new AdjustmentError(
      AdjustmentErrorCode.SESSION_NOT_ADJUSTABLE,
      `The session is ${target.status}; only a scheduled session can be ${done}.`,
      { currentStatus: target.status },
    );
  }
  return target;
}

/** The plan's sessions as the engine places them (the template, tailored); they must match the booked ones. */
export function placesOf(
  plan: PlanEntity,
  steps: ProtocolStep[],
  sessions: SessionEntity[],
  advice: string,
): SessionToPlace[] {
  const tailored = tailor(steps, plan.tailoring);
  const refs = new Set(sessions.map((s) => s.ref));
  if (!tailored.ok || tailored.sessions.some((t) => !refs.has(t.ref))) {
    throw new AdjustmentError(
      AdjustmentErrorCode.PLAN_TEMPLATE_MISMATCH,
      `The plan no longer matches its template; ${advice}.`,
    );
  }
  return tailored.sessions;
}

/** Sessions a cascade never moves: those that happened or were called off, and those before the one changed. */
export const stays = (s: SessionEntity, target: SessionEntity) =>
  s.status !== 'scheduled' || s.startsAt < target.startsAt;

/** A session kept as it is; called-off ones anchor gaps but hold nothing. */
export const kept = (s: SessionEntity): FixedPlacement => ({
  start: toMinute(s.startsAt),
  chairId: s.chairId,
  staffId: s.staffId,
  staffSeat: s.staffSeat,
  check: false,
  holds: s.status !== 'cancelled' && s.status !== 'no_show',
});
