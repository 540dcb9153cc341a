import { DateTime } from 'luxon';
import { tailor, type Tailoring } from '../../protocols/domain/tailor.js';
import type { ProtocolStep } from '../../protocols/domain/protocol-step.js';
import { KETAMINE_PROTOCOL } from '../../seed/demo-protocol.js';
import { horizonDaysFor } from './schedule.js';
import type { ScheduleRequest, WeeklyInterval } from './types.js';

/** Test helpers for the engine: plain objects with overrides. */
export const weekly = (days: number[], start: string, end: string): WeeklyInterval[] =>
  days.map((weekday) => ({ weekday, start, end }));

export const epochMinute = (iso: string, zone = 'America/New_York') =>
  DateTime.fromISO(iso, { zone }).toMillis() / 60000;

export function makeRequest(
  overrides: Partial<ScheduleRequest> & { steps?: ProtocolStep[]; tailoring?: Tailoring } = {},
): ScheduleRequest {
  const { steps = KETAMINE_PROTOCOL.steps, tailoring = { weightKg: 80 }, ...rest } = overrides;
  const tailored = tailor(steps, tailoring);
  if (!tailored.ok) throw new Error(JSON.stringify(tailored.errors));
  const sessions = rest.sessions ?? tailored.sessions;
  const mon_fri = [1, 2, 3, 4, 5];
  return {
    timezone: 'America/New_York',
    openingHours: [...weekly(mon_fri, '08:00', '18:00'), ...weekly([6], '09:00', '14:00')],
    closures: [],
    chairs: [1, 2, 3, 4].map((n) => ({ id: `chair-${n}`, name: `Chair ${n}` })),
    staff: [
      {
        id: 'nurse-a',
        name: 'Nurse A',
        role: 'nurse',
        availability: [...weekly(mon_fri, '08:00', '18:00'), ...weekly([6], '09:00', '14:00')],
        maxConcurrentPatients: 2,
      },
      {
        id: 'nurse-b',
        name: 'Nurse B',
        role: 'nurse',
        availability: weekly(mon_fri, '08:00', '18:00'),
        maxConcurrentPatients: 2,
      },
      {
        id: 'doc',
        name: 'Dr. D',
        role: 'physician',
        availability: weekly(mon_fri, '09:00', '17:00'),
        maxConcurrentPatients: 1,
      },
      {
        id: 'ther',
        name: 'Therapist T',
        role: 'therapist',
        availability: [...weekly(mon_fri, '09:00', '18:00'), ...weekly([6], '09:00', '13:00')],
        maxConcurrentPatients: 1,
      },
    ],
    booked: [],
    patient: { id: 'patient-1', unavailable: [], unavailableDates: [], preferredTimes: [] },
    earliestStart: '2026-12-01',
    now: epochMinute('2026-11-25T10:00'),
    horizonDays: horizonDaysFor(sessions),
    ...rest,
    sessions,
  };
}
