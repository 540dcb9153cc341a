import { SessionEntity } from './entities/session.entity.js';

/** A `sessions` row as PostgreSQL returns it (snake_case columns) → the entity. */
export function sessionFromRow(r: Record<string, unknown>): SessionEntity {
  return Object.assign(new SessionEntity(), {
    clinicId: r.clinic_id as string,
    id: r.id as string,
    planId: r.plan_id as string,
    patientId: r.patient_id as string,
    ref: r.ref as string,
    stepKey: r.step_key as string,
    occurrence: r.occurrence as number,
    kind: r.kind as string,
    label: r.label as string,
    startsAt: r.starts_at as Date,
    endsAt: r.ends_at as Date,
    occupiedUntil: r.occupied_until as Date,
    chairId: r.chair_id as string | null,
    staffId: r.staff_id as string | null,
    staffSeat: r.staff_seat as number | null,
    status: r.status as SessionEntity['status'],
    plannedDose: r.planned_dose as SessionEntity['plannedDose'],
    checkedInAt: r.checked_in_at as Date | null,
    actualStart: r.actual_start as Date | null,
    actualEnd: r.actual_end as Date | null,
    doseGiven: r.dose_given as SessionEntity['doseGiven'],
    statusReason: r.status_reason as string | null,
    version: r.version as number,
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
  });
}
