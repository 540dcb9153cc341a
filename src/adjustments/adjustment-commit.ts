import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { Actor } from '../common/auth/actor.js';
import { Clock } from '../common/clock/clock.js';
import { lockClinicSchedule } from '../common/database/schedule-lock.js';
import { staleResource } from '../common/http/etag.js';
import { planEtag } from '../plans/plan-etag.js';
import { AdjustmentLog, AdjustmentWrites } from './adjustment-log.repository.js';
import type { AdjustPlanDto } from './dto/adjust-request.dto.js';
import type { AdjustmentResultDto } from './dto/adjust-result.dto.js';
import type { PlanContext, Proposal } from './handlers/handler.js';

/**
 * The one way an adjustment ends, whatever its type: a preview is audited as a read of the
 * patient's plan and writes nothing; a commit takes the clinic's schedule lock, applies the
 * proposal, sets the plan's status, appends the log entry (raising the plan's version, refused with
 * 412 if the plan moved on) and audits the write, all in the caller's transaction.
 */
@Injectable()
export class AdjustmentCommit {
  constructor(
    private readonly log: AdjustmentLog,
    private readonly writes: AdjustmentWrites,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async finish(
    { m, plan }: PlanContext,
    actor: Actor,
    req: Pick<AdjustPlanDto, 'type' | 'reason'>,
    proposal: Proposal,
    preview: boolean,
  ): Promise<{ body: AdjustmentResultDto; etag: string }> {
    const audited = { clinicId: plan.clinicId, entityType: 'plan', entityId: plan.id, patientId: plan.patientId };
    const answer = (planVersion: number, changes: AdjustmentResultDto['changes']) => ({
      body: { type: req.type, preview, planVersion, planStatus: proposal.planStatus, changes },
      etag: planEtag(planVersion),
    });
    if (preview) {
      // The preview shows the patient's sessions and doses: a read of patient data.
      await this.audit.record(m, actor, { ...audited, action: 'plan.adjustments.preview' });
      return answer(plan.version, proposal.changes);
    }
    // Writes wait for the clinic's other schedule writers (bookings, adjustments): held from here to
    // the commit only, not while the engine plans (see lockClinicSchedule).
    await lockClinicSchedule(m, plan.clinicId);
    const at = this.clock.now().toJSDate();
    const written = await proposal.write(m, at);
    if (proposal.planStatus !== plan.status) await this.writes.setPlanStatus(m, plan, proposal.planStatus);
    const version = await this.log.append(
      m,
      {
        clinicId: plan.clinicId,
        planId: plan.id,
        type: req.type,
        reason: req.reason ?? null,
        actorKeyId: actor.keyId,
        actorRole: actor.role,
        at,
        changes: written.changes,
      },
      plan.version,
    );
    if (version === null) throw staleResource();
    await this.audit.record(m, actor, { ...audited, ...written.audited, action: `plan.${req.type}` });
    return answer(version, written.changes);
  }
}
