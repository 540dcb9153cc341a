import { sessionView } from '../sessions/session-view.js';
import type { SessionEntity } from '../sessions/entities/session.entity.js';
import type { PlacedSession } from '../scheduling/engine/types.js';
import type { PlanDto, SessionViewDto } from './dto/plan.dto.js';
import type { PlanEntity } from './entities/plan.entity.js';
import { planEtag } from './plan-etag.js';
import type { ClinicSetup } from '../clinics/clinics.repository.js';

/** A session (placed by the engine, or booked) as the API shows it, in the clinic's zone. */
export function sessionViewOf(setup: ClinicSetup, s: PlacedSession | SessionEntity): SessionViewDto {
  return sessionView({ timezone: setup.clinic.timezone, chairs: setup.chairs, staff: setup.staff }, s);
}

/** A plan with its sessions as the API shows it, with its ETag. */
export function planView(setup: ClinicSetup, plan: PlanEntity, sessions: SessionEntity[]): PlanDto {
  return {
    id: plan.id,
    clinicId: plan.clinicId,
    patientId: plan.patientId,
    protocolId: plan.protocolId,
    protocolVersion: plan.protocolVersion,
    timezone: setup.clinic.timezone,
    status: plan.status,
    version: plan.version,
    etag: planEtag(plan.version),
    earliestStart: plan.earliestStart,
    tailoring: plan.tailoring as unknown as Record<string, unknown>,
    createdAt: plan.createdAt.toISOString(),
    sessions: sessions.map((s) => sessionViewOf(setup, s)),
  };
}
