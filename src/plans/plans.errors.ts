import { DomainError } from '../common/errors/domain-error.js';

export enum PlanErrorCode {
  PLAN_NOT_FOUND = 'PLAN_NOT_FOUND',
  PLAN_INFEASIBLE = 'PLAN_INFEASIBLE',
  PROTOCOL_VERSION_RETIRED = 'PROTOCOL_VERSION_RETIRED',
  IDEMPOTENCY_KEY_REUSED = 'IDEMPOTENCY_KEY_REUSED',
  IDEMPOTENCY_IN_FLIGHT = 'IDEMPOTENCY_IN_FLIGHT',
  /** The patient already has an active series of this protocol (`activePlanId`); a clinician may book another on purpose. */
  ACTIVE_SERIES_EXISTS = 'ACTIVE_SERIES_EXISTS',
}

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
