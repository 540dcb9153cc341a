import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import type { Actor } from '../common/auth/actor.js';
import { PlanError, PlanErrorCode } from '../plans/plans.errors.js';
import { PlansRepository } from '../plans/plans.repository.js';
import type { AdjustmentListDto } from './adjustments.controller.js';
import { AdjustmentLog } from './adjustment-log.repository.js';

@Injectable()
export class AdjustmentsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly plans: PlansRepository,
    private readonly log: AdjustmentLog,
    private readonly audit: AuditService,
  ) {}

  async list(actor: Actor, planId: string): Promise<AdjustmentListDto> {
    const plan = await this.plans.findPlan(planId, actor.clinicId);
    if (!plan) throw new PlanError(PlanErrorCode.PLAN_NOT_FOUND, 'No such plan.');
    const rows = await this.log.list(plan.clinicId, plan.id);
    await this.dataSource.transaction((m) =>
      this.audit.record(m, actor, { clinicId: plan.clinicId, action: 'plan.adjustments.read', entityType: 'plan', entityId: plan.id, patientId: plan.patientId }),
    );
    return { items: rows.map((r) => ({ ...r, occurredAt: r.occurredAt.toISOString() })) };
  }
}
