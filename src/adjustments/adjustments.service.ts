import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import type { Actor } from '../common/auth/actor.js';
import { withRetries } from '../common/database/transactions.js';
import { requireIfMatch } from '../common/http/etag.js';
import { planEtag } from '../plans/plan-etag.js';
import { PlanError, PlanErrorCode } from '../plans/plans.errors.js';
import { PlansRepository } from '../plans/plans.repository.js';
import { AdjustmentLog, AdjustmentWrites } from './adjustment-log.repository.js';
import { AdjustmentCommit } from './adjustment-commit.js';
import type { AdjustPlanDto } from './dto/adjust-request.dto.js';
import type { AdjustmentListDto, AdjustmentResultDto } from './dto/adjust-result.dto.js';
import { AddHandler } from './handlers/add.handler.js';
import { CancelRemainingHandler } from './handlers/cancel-remaining.handler.js';
import { ChangeChairHandler } from './handlers/change-chair.handler.js';
import { ChangeDoseHandler } from './handlers/change-dose.handler.js';
import { ChangeStaffHandler } from './handlers/change-staff.handler.js';
import type { PlanContext, Proposal } from './handlers/handler.js';
import { RescheduleHandler } from './handlers/reschedule.handler.js';
import { SkipHandler } from './handlers/skip.handler.js';

@Injectable()
export class AdjustmentsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly plans: PlansRepository,
    private readonly log: AdjustmentLog,
    private readonly writes: AdjustmentWrites,
    private readonly audit: AuditService,
    private readonly commit: AdjustmentCommit,
    private readonly changeDose: ChangeDoseHandler,
    private readonly skip: SkipHandler,
    private readonly cancelRemaining: CancelRemainingHandler,
    private readonly changeChair: ChangeChairHandler,
    private readonly changeStaff: ChangeStaffHandler,
    private readonly reschedule: RescheduleHandler,
    private readonly add: AddHandler,
  ) {}

  async list(actor: Actor, planId: string): Promise<AdjustmentListDto> {
    const plan = await this.plans.findPlan(planId, actor.clinicId);
    if (!plan) throw new PlanError(PlanErrorCode.PLAN_NOT_FOUND, 'No such plan.');
    const rows = await this.log.list(plan.clinicId, plan.id);
    await this.audit.recordRead(actor, {
      clinicId: plan.clinicId,
      action: 'plan.adjustments.read',
      entityType: 'plan',
      entityId: plan.id,
      patientId: plan.patientId,
    });
    return { items: rows.map((r) => ({ ...r, occurredAt: r.occurredAt.toISOString() })) };
  }

  /**
   * Previews or commits one adjustment (the request validated for its type; clinical types are
   * refused to the front desk before that, by ClinicalAdjustmentGuard). The plan row is locked and
   * its version checked against If-Match; the type's handler works out the changes from the plan as
   * it is, so the commit writes exactly what the preview showed for that version; the shared commit
   * path writes them and appends the entry to the log.
   */
  async adjust(
    actor: Actor,
    planId: string,
    ifMatch: string | undefined,
    req: AdjustPlanDto,
    preview: boolean,
  ): Promise<{ body: AdjustmentResultDto; etag: string }> {
    return withRetries(() =>
      this.dataSource.transaction(async (m) => {
        const plan = await this.writes.lockPlan(m, planId, actor.clinicId);
        if (!plan) throw new PlanError(PlanErrorCode.PLAN_NOT_FOUND, 'No such plan.');
        requireIfMatch(ifMatch, planEtag(plan.version));
        const [sessions, steps] = await Promise.all([this.writes.sessions(m, plan), this.writes.versionSteps(m, plan)]);
        const ctx: PlanContext = { m, plan, sessions, steps };
        return this.commit.finish(ctx, actor, req, await this.propose(ctx, req), preview);
      }),
    );
  }

  /** The handler of the request's type; a type without one does not compile. */
  private propose(ctx: PlanContext, req: AdjustPlanDto): Promise<Proposal> {
    switch (req.type) {
      case 'change_dose':
        return this.changeDose.propose(ctx, req);
      case 'skip':
        return this.skip.propose(ctx, req);
      case 'cancel_remaining':
        return this.cancelRemaining.propose(ctx, req);
      case 'change_chair':
        return this.changeChair.propose(ctx, req);
      case 'change_staff':
        return this.changeStaff.propose(ctx, req);
      case 'reschedule':
        return this.reschedule.propose(ctx, req);
      case 'add':
        return this.add.propose(ctx, req);
      default: {
        const unhandled: never = req;
        throw new Error(`no handler for adjustment ${(unhandled as { type: string }).type}`);
      }
    }
  }
}
