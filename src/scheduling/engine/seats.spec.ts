import { tailor } from '../../protocols/domain/tailor.js';
import type { ProtocolStep } from '../../protocols/domain/protocol-step.js';
import { epochMinute, makeRequest, weekly } from './fixtures.js';
import { horizonDaysFor, schedule } from './schedule.js';
import type { BookedSession } from './types.js';

// A nurse who sees two patients at once, and bookings whose seats have fragmented: at 10:00–10:30
// only one other patient is ever there, yet seats 1 and 2 are each held for part of it.
const STEP: ProtocolStep = {
  key: 'check',
  kind: 'assessment',
  label: 'Check',
  durationMinutes: 30,
  recoveryMinutes: 0,
  needsChair: false,
  staffRole: 'nurse',
  repeat: 1,
};
const at = (hhmm: string) => epochMinute(`2026-12-07T${hhmm}`);
const booking = (from: string, to: string, seat?: number): BookedSession => ({
  start: at(from),
  end: at(to),
  chairId: null,
  staffId: 'nurse',
  patientId: 'someone else',
  ...(seat === undefined ? {} : { staffSeat: seat }),
});

function plan(withSeats: boolean) {
  const tailored = tailor([STEP], {});
  if (!tailored.ok) throw new Error('bad template');
  return schedule(
    makeRequest({
      sessions: tailored.sessions,
      openingHours: weekly([1], '09:00', '11:00'),
      staff: [
        {
          id: 'nurse',
          name: 'Nurse',
          role: 'nurse',
          availability: weekly([1], '09:00', '11:00'),
          maxConcurrentPatients: 2,
        },
      ],
      booked: [
        booking('09:00', '10:00', withSeats ? 1 : undefined),
        booking('09:00', '10:15', withSeats ? 2 : undefined),
        booking('10:15', '11:00', withSeats ? 1 : undefined),
      ],
      earliestStart: '2026-12-07',
      startWindowDays: 1,
      probeDays: 1,
      horizonDays: horizonDaysFor(tailored.sessions, 1),
    }),
  );
}

describe('staff seats', () => {
  it('with seats known, never offers a time at which no single seat is free (the database would refuse it)', () => {
    const result = plan(true);
    expect(result.kind).toBe('planned');
    if (result.kind !== 'planned') return;
    // 10:00 would overlap seat 2 (until 10:15) and seat 1 (from 10:15): no single seat is free for it.
    expect(result.sessions[0]).toMatchObject({ localTime: '10:15', staffId: 'nurse', staffSeat: 2 });
  });

  it('without seats, counts the patients at once', () => {
    const result = plan(false);
    expect(result.kind).toBe('planned');
    if (result.kind !== 'planned') return;
    expect(result.sessions[0]).toMatchObject({ localTime: '10:00', staffId: 'nurse' });
  });
});
