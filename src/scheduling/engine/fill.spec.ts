import { epochMinute, makeRequest, weekly } from './fixtures.js';
import { schedule } from './schedule.js';
import type { BookedSession, ScheduleRequest, ScheduleResult } from './types.js';

/*
 * The demo clinic filled as a front desk fills it (issue 13): one new patient after another, each
 * asking for the demo series with a first session within 14 days of Monday 2026-12-07. Until the
 * clinic is full every request is planned; after that every refusal is true (no single first day
 * in the window admits a plan) and names an earliest start that does.
 */

const MON_FRI = [1, 2, 3, 4, 5];
const DAY_MS = 86_400_000;
const addDays = (date: string, n: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);

/** The demo clinic's shape (src/seed/demo-seed.ts): 4 chairs, 3 nurses with 2 seats, a physician, a therapist, the holiday closures. */
function demoRequest(booked: BookedSession[], patientId: string, over: Partial<ScheduleRequest> = {}): ScheduleRequest {
  return makeRequest({
    staff: [
      {
        id: 'nurse-1',
        name: 'N1',
        role: 'nurse',
        availability: [...weekly(MON_FRI, '08:00', '18:00'), ...weekly([6], '09:00', '14:00')],
        maxConcurrentPatients: 2,
      },
      {
        id: 'nurse-2',
        name: 'N2',
        role: 'nurse',
        availability: weekly(MON_FRI, '08:00', '18:00'),
        maxConcurrentPatients: 2,
      },
      {
        id: 'nurse-3',
        name: 'N3',
        role: 'nurse',
        availability: [...weekly([2, 3, 4, 5], '10:00', '18:00'), ...weekly([6], '09:00', '14:00')],
        maxConcurrentPatients: 2,
      },
      {
        id: 'doc',
        name: 'Dr',
        role: 'physician',
        availability: weekly(MON_FRI, '09:00', '17:00'),
        maxConcurrentPatients: 1,
      },
      {
        id: 'ther',
        name: 'T',
        role: 'therapist',
        availability: [...weekly(MON_FRI, '09:00', '18:00'), ...weekly([6], '09:00', '13:00')],
        maxConcurrentPatients: 1,
      },
    ],
    closures: [
      { startDate: '2026-12-24', endDate: '2026-12-24', startTime: null, endTime: null, reason: 'Christmas Eve' },
      { startDate: '2026-12-25', endDate: '2026-12-25', startTime: null, endTime: null, reason: 'Christmas Day' },
      { startDate: '2027-01-01', endDate: '2027-01-01', startTime: null, endTime: null, reason: "New Year's Day" },
    ],
    booked,
    patient: { id: patientId, unavailable: [], unavailableDates: [], preferredTimes: [] },
    earliestStart: '2026-12-07',
    startWindowDays: 14,
    now: epochMinute('2026-12-03T10:00'),
    ...over,
  });
}

const oneDay = (booked: BookedSession[], patientId: string, date: string) =>
  schedule(demoRequest(booked, patientId, { earliestStart: date, startWindowDays: 1 }));

describe('the demo clinic filled one patient after another (issue 13)', () => {
  it('plans every request a single first day of its window admits, and every refusal names the true earliest start', () => {
    const booked: BookedSession[] = [];
    let planned = 0;
    let refused = 0;
    let maxNodes = 0;
    for (let p = 0; p < 28; p++) {
      const patient = `patient-${p}`;
      const result: ScheduleResult = schedule(demoRequest(booked, patient));
      maxNodes = Math.max(maxNodes, result.nodes);
      if (result.kind === 'planned') {
        planned++;
        for (const s of result.sessions)
          booked.push({
            start: s.start,
            end: s.occupiedUntil,
            chairId: s.chairId,
            staffId: s.staffId,
            patientId: patient,
            staffSeat: s.staffSeat,
          });
        booked.sort((a, b) => a.start - b.start);
        continue;
      }
      refused++;
      expect(result.binding.code).not.toBe('SEARCH_LIMIT');
      // No first day in the window admits a plan...
      for (let d = 0; d < 14; d++)
        expect([addDays('2026-12-07', d), oneDay(booked, patient, addDays('2026-12-07', d)).kind]).toEqual([
          addDays('2026-12-07', d),
          'infeasible',
        ]);
      // ...the earliest start named does, and no day before it does.
      expect(result.earliestStart).not.toBeNull();
      const earliest = result.earliestStart!;
      expect(oneDay(booked, patient, earliest).kind).toBe('planned');
      for (let date = addDays('2026-12-07', 14); date < earliest; date = addDays(date, 1))
        expect([date, oneDay(booked, patient, date).kind]).toEqual([date, 'infeasible']);
    }
    // Today's engine gave up (SEARCH_LIMIT) from the 13th patient on; the clinic takes 20 (the Christmas closures included).
    expect(planned).toBeGreaterThanOrEqual(18);
    expect(refused).toBeGreaterThan(0);
    // Every answer, plan or refusal, is a small search.
    expect(maxNodes).toBeLessThan(5_000);
  });
});
