import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import type { Actor } from '../common/auth/actor.js';
import { Clock } from '../common/clock/clock.js';
import { ForbiddenError, ValidationFailedError } from '../common/errors/common.errors.js';
import { requireIfMatch, staleResource } from '../common/http/etag.js';
import { planEtag } from '../plans/plan-etag.js';
import { PlanError, PlanErrorCode } from '../plans/plans.errors.js';
import { PlansRepository } from '../plans/plans.repository.js';
import { SessionError, SessionErrorCode } from '../sessions/sessions.errors.js';
import type { AdjustmentListDto } from './adjustments.controller.js';
import { AdjustmentLog, AdjustmentWrites } from './adjustment-log.repository.js';
import { planChanges, type ChangeRequest } from './domain/plan-changes.js';
import { CLINICAL_TYPES, type AdjustmentResultDto, type AdjustPlanDto } from './dto/adjust.dto.js';


@Injectable()
export class AdjustmentsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly plans: PlansRepository,
    private readonly log: AdjustmentLog,
    private readonly writes: AdjustmentWrites,
    private readonly audit: AuditService,
    private readonly clock: Clock,
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

  /**
   * Previews or commits one adjustment. The plan row is locked and its version checked against
   * If-Match; the changes are computed by a pure function from the plan as it is, so the commit
   * writes exactly what the preview showed for that version. The entry is appended to the log.
   */
  async adjust(actor: Actor, planId: string, ifMatch: string | undefined, dto: AdjustPlanDto, preview: boolean): Promise<{ body: AdjustmentResultDto; etag: string }> {
    const clinical = CLINICAL_TYPES.includes(dto.type);
    if (clinical && actor.role === 'front_desk') throw new ForbiddenError(`Only clinicians and admins may ${dto.type.replace('_', ' ')}.`);
    if (clinical && !dto.reason) throw new ValidationFailedError([{ field: 'reason', message: `a reason is required for ${dto.type}` }]);
    return this.dataSource.transaction(async (m) => {
      const plan = await this.writes.lockPlan(m, planId, actor.clinicId);
      if (!plan) throw new PlanError(PlanErrorCode.PLAN_NOT_FOUND, 'No such plan.');
      requireIfMatch(ifMatch, planEtag(plan.version));
      const [sessions, steps] = await Promise.all([this.writes.sessions(m, plan), this.writes.versionSteps(m, plan)]);
      const outcome = planChanges({ ...dto, reason: dto.reason ?? '' } as ChangeRequest, sessions, steps, plan.tailoring.weightKg ?? null);
      if (!outcome.ok) {
        if (outcome.kind === 'invalid') throw new ValidationFailedError([{ field: outcome.field, message: outcome.message }]);
        if (outcome.kind === 'not_found') throw new SessionError(SessionErrorCode.SESSION_NOT_FOUND, outcome.message);
        throw new SessionError(SessionErrorCode.INVALID_TRANSITION, outcome.message, outcome.currentStatus ? { currentStatus: outcome.currentStatus } : {});
      }
      const changes = outcome.changes.map((c) => ({ sessionId: c.session.id, ref: c.session.ref, before: c.before, after: c.after }));
      if (preview) {
        return { body: { type: dto.type, preview: true, planVersion: plan.version, planStatus: outcome.planStatus, changes }, etag: planEtag(plan.version) };
      }
      const at = this.clock.now().toJSDate();
      for (const c of outcome.changes) {
        if (c.effect.kind === 'cancel') await this.writes.cancel(m, sessions.find((s) => s.id === c.session.id)!, c.effect.reason, at);
        else await this.writes.setPlannedDose(m, sessions.find((s) => s.id === c.session.id)!, c.effect.dose, at);
      }
      if (outcome.planStatus !== plan.status) await this.writes.setPlanStatus(m, plan, outcome.planStatus);
      const version = await this.log.append(
        m,
        { clinicId: plan.clinicId, planId: plan.id, type: dto.type, reason: dto.reason ?? null, actorKeyId: actor.keyId, actorRole: actor.role, at, changes },
        plan.version,
      );
      if (version === null) throw staleResource();
      await this.audit.record(m, actor, { clinicId: plan.clinicId, action: `plan.${dto.type}`, entityType: 'plan', entityId: plan.id, patientId: plan.patientId });
      return { body: { type: dto.type, preview: false, planVersion: version, planStatus: outcome.planStatus, changes }, etag: planEtag(version) };
    });
  }
}
