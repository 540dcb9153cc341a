import { zonedInstant } from './zoned-format.js';
import type { SessionViewDto } from '../plans/dto/plan.dto.js';
import type { PlacedSession } from '../scheduling/engine/types.js';
import type { SessionEntity } from './entities/session.entity.js';

export interface ViewContext {
  timezone: string;
  chairs: { id: string; name: string }[];
  staff: { id: string; name: string }[];
}

const fromMinute = (m: number) => new Date(m * 60000);

/**
 * How a session (booked, or only planned) is shown: instants with the clinic's offset, the local
 * date and time, chair and staff by name, and for a booked one its status and what happened.
 */
export function sessionView(ctx: ViewContext, s: PlacedSession | SessionEntity): SessionViewDto {
  const zone = ctx.timezone;
  const iso = (d: Date) => zonedInstant(d.getTime(), zone).iso;
  const entity = 'startsAt' in s;
  const start = zonedInstant(entity ? s.startsAt.getTime() : s.start * 60000, zone);
  const chair = s.chairId ? ctx.chairs.find((c) => c.id === s.chairId) : undefined;
  const staff = s.staffId ? ctx.staff.find((x) => x.id === s.staffId) : undefined;
  const view: SessionViewDto = {
    ...(entity ? { id: s.id, planId: s.planId, patientId: s.patientId } : {}),
    ref: s.ref,
    stepKey: s.stepKey,
    occurrence: s.occurrence,
    kind: s.kind,
    label: s.label,
    start: start.iso,
    end: iso(entity ? s.endsAt : fromMinute(s.end)),
    occupiedUntil: iso(entity ? s.occupiedUntil : fromMinute(s.occupiedUntil)),
    localDate: start.date,
    localTime: start.time,
    chair: s.chairId ? { id: s.chairId, name: chair?.name ?? '(inactive chair)' } : null,
    staff: s.staffId ? { id: s.staffId, name: staff?.name ?? '(inactive staff member)' } : null,
    dose: entity ? s.plannedDose : s.dose,
  };
  if (entity) {
    view.status = s.status;
    view.version = s.version;
    view.checkedInAt = s.checkedInAt ? iso(s.checkedInAt) : null;
    view.actualStart = s.actualStart ? iso(s.actualStart) : null;
    view.actualEnd = s.actualEnd ? iso(s.actualEnd) : null;
    view.doseGiven = s.doseGiven;
    view.statusReason = s.statusReason;
  }
  return view;
}
