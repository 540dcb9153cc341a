import { DomainError } from '../common/errors/domain-error.js';
import { registerErrorCodes } from '../common/errors/error-codes.js';

export enum PlanErrorCode {
  PLAN_NOT_FOUND = 'PLAN_NOT_FOUND',
  PLAN_INFEASIBLE = 'PLAN_INFEASIBLE',
  PROTOCOL_VERSION_RETIRED = 'PROTOCOL_VERSION_RETIRED',
  /** The patient already has an active series of this protocol (`activePlanId`); a clinician may book another on purpose. */
  ACTIVE_SERIES_EXISTS = 'ACTIVE_SERIES_EXISTS',
}

registerErrorCodes('plans', PlanErrorCode, {
  PLAN_NOT_FOUND: 404,
  PLAN_INFEASIBLE: 422,
  PROTOCOL_VERSION_RETIRED: 422,
  ACTIVE_SERIES_EXISTS: 409,
});

/** The active-series refusal, naming the plan in the way. */
export const activeSeriesExists = (activePlanId: string | null) =>
  new PlanError(
    PlanErrorCode.ACTIVE_SERIES_EXISTS,
    `The patient already has an active series of this protocol${activePlanId ? ` (plan ${activePlanId})` : ''}: adjust or end that one, or have a clinician book another with allowConcurrentSeries: true.`,
    { activePlanId },
  );

export class PlanError extends DomainError {
  constructor(code: PlanErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, [], extensions);
  }
}
