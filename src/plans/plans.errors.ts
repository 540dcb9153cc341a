import { DomainError } from '../common/errors/domain-error.js';

export enum PlanErrorCode {
  PLAN_NOT_FOUND = 'PLAN_NOT_FOUND',
  PLAN_INFEASIBLE = 'PLAN_INFEASIBLE',
  PROTOCOL_VERSION_RETIRED = 'PROTOCOL_VERSION_RETIRED',
  IDEMPOTENCY_KEY_REUSED = 'IDEMPOTENCY_KEY_REUSED',
  IDEMPOTENCY_IN_FLIGHT = 'IDEMPOTENCY_IN_FLIGHT',
}

export class PlanError extends DomainError {
  constructor(code: PlanErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, [], extensions);
  }
}
