import { DomainError } from '../common/errors/domain-error.js';
import { registerErrorCodes } from '../common/errors/error-codes.js';

/** Refusals of a plan adjustment that are about the adjustment itself (not a session's lifecycle). */
export enum AdjustmentErrorCode {
  /** The session is not in a status this adjustment applies to (`currentStatus`): e.g. skipping a checked-in one. */
  SESSION_NOT_ADJUSTABLE = 'SESSION_NOT_ADJUSTABLE',
  /** Nothing is left for the adjustment to change: no remaining session of the step has a dose, nothing remains to cancel. */
  NOTHING_TO_ADJUST = 'NOTHING_TO_ADJUST',
  /** The plan's sessions no longer match its template, so the engine cannot place them again (a cascade, a shift). */
  PLAN_TEMPLATE_MISMATCH = 'PLAN_TEMPLATE_MISMATCH',
  /** The plan has ended early: nothing is added to it (book a new one). */
  PLAN_ENDED = 'PLAN_ENDED',
}

registerErrorCodes('adjustments', AdjustmentErrorCode, {
  SESSION_NOT_ADJUSTABLE: 409,
  NOTHING_TO_ADJUST: 409,
  PLAN_TEMPLATE_MISMATCH: 409,
  PLAN_ENDED: 409,
});

export class AdjustmentError extends DomainError {
  constructor(code: AdjustmentErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, [], extensions);
  }
}
