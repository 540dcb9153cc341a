import type { ScheduleRequest } from '../scheduling/engine/types.js';
import type { ClinicSetup } from '../clinics/clinics.repository.js';

/** The clinic part of an engine request: zone, hours, closures (local, HH:mm), active chairs and staff, start limits. */
export function clinicForEngine(
  setup: ClinicSetup,
): Pick<
  ScheduleRequest,
  | 'timezone'
  | 'openingHours'
  | 'closures'
  | 'chairs'
  | 'staff'
  | 'maxStartsPerSlot'
  | 'maxStartsPerStaffPerSlot'
  | 'levelling'
> {
  return {
    timezone: setup.clinic.timezone,
    maxStartsPerSlot: setup.clinic.maxStartsPerSlot ?? null,
    maxStartsPerStaffPerSlot: setup.clinic.maxStartsPerNursePerSlot ?? null,
    levelling: setup.clinic.levelling ?? 'off',
    openingHours: setup.clinic.openingHours,
    closures: setup.closures.map((c) => ({
      startDate: c.startDate,
      endDate: c.endDate,
      startTime: c.startTime?.slice(0, 5) ?? null,
      endTime: c.endTime?.slice(0, 5) ?? null,
      reason: c.reason,
    })),
    chairs: setup.chairs.map((c) => ({ id: c.id, name: c.name })),
    staff: setup.staff.map((s) => ({
      id: s.id,
      name: s.name,
      role: s.role,
      availability: s.availability,
      maxConcurrentPatients: s.maxConcurrentPatients,
    })),
  };
}
