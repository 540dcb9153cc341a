import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { Actor } from '../common/auth/actor.js';
import { PatientError, PatientErrorCode } from '../patients/patients.errors.js';
import type { PlanDto, PlanPreviewDto, PlanRequestDto } from './dto/plan.dto.js';
import { PlanError, PlanErrorCode } from './plans.errors.js';
import { BookingService } from './booking/booking.service.js';
import type { BookResult } from './booking/booking-flow.js';

export type { BookResult } from './booking/booking-flow.js';
import { PlanningService } from './planning.service.js';
import { planView } from './plan-view.js';
import { PlansRepository } from './plans.repository.js';
import { ClinicsRepository } from '../clinics/clinics.repository.js';
import { PatientsRepository } from '../patients/patients.repository.js';

/** Plans of a patient, and the preview and booking of whole series (planning.service.ts, booking/). */
@Injectable()
export class PlansService {
  constructor(
    private readonly repo: PlansRepository,
    private readonly clinics: ClinicsRepository,
    private readonly patients: PatientsRepository,
    private readonly planning: PlanningService,
    private readonly booking: BookingService,
    private readonly audit: AuditService,
  ) {}

  /** The plan that booking would make, without writing it (the read of patient data is audited). */
  preview(actor: Actor, dto: PlanRequestDto): Promise<PlanPreviewDto> {
    return this.planning.preview(actor, dto);
  }

  /**
   * Books the whole series in one transaction, or nothing. The database refuses any overlap on a
   * chair, a staff seat or the patient; if another booking won the race, the series is planned
   * once more under the clinic's schedule lock, where it cannot lose again.
   */
  book(actor: Actor, dto: PlanRequestDto, idempotencyKey?: string): Promise<BookResult> {
    return this.booking.book(actor, dto, idempotencyKey);
  }

  async get(actor: Actor, id: string): Promise<PlanDto> {
    const plan = await this.repo.findPlan(id, actor.clinicId);
    if (!plan) throw new PlanError(PlanErrorCode.PLAN_NOT_FOUND, 'No such plan.');
    const [setup, sessions] = await Promise.all([
      this.clinics.setup(plan.clinicId),
      this.repo.sessionsOf(plan.clinicId, [plan.id]),
    ]);
    await this.audit.recordRead(actor, {
      clinicId: plan.clinicId,
      action: 'plan.read',
      entityType: 'plan',
      entityId: plan.id,
      patientId: plan.patientId,
    });
    return planView(setup, plan, sessions);
  }

  async listForPatient(actor: Actor, patientId: string): Promise<{ items: PlanDto[] }> {
    const patient = await this.patients.findById(patientId, actor.clinicId);
    if (!patient) throw new PatientError(PatientErrorCode.PATIENT_NOT_FOUND, 'No such patient.');
    const plans = await this.repo.plansOfPatient(patient.clinicId, patient.id);
    const [setup, sessions] = await Promise.all([
      this.clinics.setup(patient.clinicId),
      this.repo.sessionsOf(
        patient.clinicId,
        plans.map((p) => p.id),
      ),
    ]);
    await this.audit.recordRead(actor, {
      clinicId: patient.clinicId,
      action: 'plan.list',
      entityType: 'patient',
      entityId: patient.id,
      patientId: patient.id,
    });
    return {
      items: plans.map((p) =>
        planView(
          setup,
          p,
          sessions.filter((s) => s.planId === p.id),
        ),
      ),
    };
  }
}
