/**
 * Free-slot listing: every start time in a date range at which one session of a given shape could
 * be booked now, with its free chairs and staff; the same day rules as the search, for one
 * session and no patient.
 */
import { DayRules } from './day-rules.js';
import type { ScheduleRequest, SessionToPlace } from './types.js';

export interface AvailabilityRequest extends Omit<
  ScheduleRequest,
  'sessions' | 'patient' | 'earliestStart' | 'horizonDays'
> {
  /** First and last local dates (inclusive). */
  from: string;
  to: string;
  durationMinutes: number;
  recoveryMinutes: number;
  needsChair: boolean;
  staffRole: string | null;
}

export interface FreeSlot {
  start: number;
  localDate: string;
  localTime: string;
  chairIds: string[];
  staffIds: string[];
}

/**
 * Every start time in [from, to] at which a session of this shape could be booked now: inside
 * opening hours, outside closures, with a free chair (if needed) and a staff member of the role
 * present and under their limit. The same rules as `schedule`, for one session and no patient.
 */
export function availableSlots(req: AvailabilityRequest): FreeSlot[] {
  const days = Math.round((Date.parse(`${req.to}T00:00:00Z`) - Date.parse(`${req.from}T00:00:00Z`)) / 86_400_000) + 1;
  const session: SessionToPlace = {
    ref: 'slot#1',
    stepKey: 'slot',
    occurrence: 1,
    occurrences: 1,
    kind: 'consult',
    label: 'Slot',
    durationMinutes: req.durationMinutes,
    recoveryMinutes: req.recoveryMinutes,
    needsChair: req.needsChair,
    staffRole: req.staffRole as SessionToPlace['staffRole'],
    dose: null,
    sameTimeOfDay: false,
    weekdays: null,
    constraints: [],
  };
  const rules = new DayRules({
    ...req,
    sessions: [session],
    patient: { id: '', unavailable: [], unavailableDates: [], preferredTimes: [] },
    earliestStart: req.from,
    horizonDays: days,
  });
  return rules.freeSlots(days);
}
