import type { EntityManager } from 'typeorm';
import type { PlanEntity } from '../../plans/entities/plan.entity.js';
import type { ProtocolStep } from '../../protocols/domain/protocol-step.js';
import type { SessionEntity } from '../../sessions/entities/session.entity.js';
import type { SessionChange } from '../adjustment-log.repository.js';
import type { PlanStatus } from '../domain/plan-changes.js';
import type { AdjustPlanDto } from '../dto/adjust-request.dto.js';

/** The plan an adjustment is about, locked in the caller's transaction, with its sessions and template. */
export interface PlanContext {
  m: EntityManager;
  plan: PlanEntity;
  sessions: SessionEntity[];
  steps: ProtocolStep[];
}

/** A change per session as a preview shows it: an added session has no id yet. */
export type ProposedChange = Omit<SessionChange, 'sessionId'> & { sessionId: string | null };

/** What was written: the changes as the log keeps them, and the entity the audit row names (the plan by default). */
export interface Written {
  changes: SessionChange[];
  audited?: { entityType: 'session'; entityId: string };
}

/**
 * What a handler worked out, nothing written yet. The shared commit path previews it, or takes the
 * clinic's schedule lock, calls `write`, sets the plan's status, appends the log entry (refused if
 * the plan moved on) and audits.
 */
export interface Proposal {
  planStatus: PlanStatus;
  changes: ProposedChange[];
  /** The type's own writes, under the schedule lock, stamped `at`. */
  write(m: EntityManager, at: Date): Promise<Written>;
}

/** One handler per adjustment type: from the locked plan and the validated request, a proposal. */
export interface AdjustmentHandler<T extends AdjustPlanDto['type']> {
  propose(ctx: PlanContext, req: Extract<AdjustPlanDto, { type: T }>): Promise<Proposal>;
}
