import fc from 'fast-check';
import { epochMinute, makeRequest, weekly } from './fixtures.js';
import { horizonDaysFor, schedule } from './schedule.js';
import type { BookedSession, ScheduleRequest } from './types.js';

// Levelling ('balanced'): among the times a day allows, a session holding a chair prefers the one
// when the fewest chairs are occupied. 'off' (or unset) plans exactly as before.

type ProtocolStep = NonNullable<NonNullable<Parameters<typeof makeRequest>[0]>['steps']>[number];

const CHAIR_STEP: ProtocolStep = {
  key: 'infusion',
  kind: 'infusion',
  label: 'Infusion',
  durationMinutes: 40,
  recoveryMinutes: 20,
  needsChair: true,
  staffRole: 'nurse',
  repeat: 1,
} as ProtocolStep;

/** Chairs 1–3 taken 08:00–12:00 on Monday 2026-12-07 (New York). */
const MORNING_RUSH: BookedSession[] = [1, 2, 3].map((n) => ({
  start: epochMinute('2026-12-07T08:00'),
  end: epochMinute('2026-12-07T12:00'),
  chairId: `chair-${n}`,
  staffId: null,
  patientId: `other-${n}`,
}));

const one = (o: Partial<ScheduleRequest> = {}) => {
  const req = makeRequest({ steps: [CHAIR_STEP], earliestStart: '2026-12-07', booked: MORNING_RUSH, ...o });
  return { ...req, horizonDays: horizonDaysFor(req.sessions) };
};

const startOf = (req: ScheduleRequest) => {
  const r = schedule(req);
  if (r.kind !== 'planned') throw new Error(`refused: ${JSON.stringify(r.binding)}`);
  return `${r.sessions[0].localDate} ${r.sessions[0].localTime}`;
};

describe('levelling', () => {
  it('off (or unset) takes the earliest time; balanced the first time the chairs are emptiest (in quarter chairs), the same day', () => {
    expect(startOf(one())).toBe('2026-12-07 08:00');
    expect(startOf(one({ levelling: 'off' }))).toBe('2026-12-07 08:00');
    // Until 12:00 a start finds part of the rush over its hour (11:45: three chairs for 15 minutes, 0.75
    // chairs on average, three quarters); from 12:00 none.
    expect(startOf(one({ levelling: 'balanced' }))).toBe('2026-12-07 12:00');
  });

  it("an explicit preferred start and the patient's preferred times still win over levelling", () => {
    const req = one({ levelling: 'balanced' });
    expect(startOf({ ...req, prefer: { 'infusion#1': epochMinute('2026-12-07T09:00') } })).toBe('2026-12-07 09:00');
    expect(
      startOf({
        ...req,
        patient: { ...req.patient, preferredTimes: weekly([1], '08:00', '10:00') },
      }),
    ).toBe('2026-12-07 08:00');
  });

  describe('across days: a gap within one day of its target goes to the emptier day', () => {
    // Two infusions 1–4 days apart (target 2); the first on Monday 2026-12-07.
    const TWO: ProtocolStep = {
      ...CHAIR_STEP,
      repeat: 2,
      spacing: { min: 1, target: 2, max: 4, unit: 'days' },
    } as ProtocolStep;
    /** Chairs 1–3 taken all day on the given dates. */
    const fullDays = (...dates: string[]): BookedSession[] =>
      dates.flatMap((date) =>
        [1, 2, 3].map((n) => ({
          start: epochMinute(`${date}T08:00`),
          end: epochMinute(`${date}T18:00`),
          chairId: `chair-${n}`,
          staffId: null,
          patientId: `other-${date}-${n}`,
        })),
      );
    const second = (o: Partial<ScheduleRequest>) => {
      const req = makeRequest({ steps: [TWO], earliestStart: '2026-12-07', startWindowDays: 1, ...o });
      const r = schedule({ ...req, horizonDays: horizonDaysFor(req.sessions) });
      if (r.kind !== 'planned') throw new Error(`refused: ${JSON.stringify(r.binding)}`);
      return r.sessions.map((x) => x.localDate);
    };

    it('off keeps the target day however full; balanced takes the day before when it is emptier', () => {
      const booked = fullDays('2026-12-09');
      expect(second({ booked })).toEqual(['2026-12-07', '2026-12-09']);
      expect(second({ booked, levelling: 'off' })).toEqual(['2026-12-07', '2026-12-09']);
      expect(second({ booked, levelling: 'balanced' })).toEqual(['2026-12-07', '2026-12-08']);
    });

    it('the day after when the day before is full too, never further than one day from the target', () => {
      expect(second({ booked: fullDays('2026-12-08', '2026-12-09'), levelling: 'balanced' })).toEqual([
        '2026-12-07',
        '2026-12-10',
      ]);
      // All three full: the target again (equally full days are ties, kept in the order without levelling).
      expect(second({ booked: fullDays('2026-12-08', '2026-12-09', '2026-12-10'), levelling: 'balanced' })).toEqual([
        '2026-12-07',
        '2026-12-09',
      ]);
    });

    it('a day is emptier only by a whole tenth of its chair-hours; an explicit preferred start still wins', () => {
      // One chair for an hour on the target day: 1/40 of its chair-hours, a tie with the empty days.
      const hour: BookedSession = {
        start: epochMinute('2026-12-09T12:00'),
        end: epochMinute('2026-12-09T13:00'),
        chairId: 'chair-4',
        staffId: null,
        patientId: 'other',
      };
      expect(second({ booked: [hour], levelling: 'balanced' })).toEqual(['2026-12-07', '2026-12-09']);
      const booked = fullDays('2026-12-09');
      expect(
        second({ booked, levelling: 'balanced', prefer: { 'infusion#2': epochMinute('2026-12-09T17:00') } }),
      ).toEqual(['2026-12-07', '2026-12-09']);
    });
  });

  it('is deterministic, and off plans exactly as unset on random bookings', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            day: fc.integer({ min: 0, max: 6 }),
            q: fc.integer({ min: 32, max: 68 }),
            len: fc.integer({ min: 1, max: 16 }),
            chair: fc.integer({ min: 1, max: 4 }),
          }),
          { maxLength: 40 },
        ),
        fc.boolean(),
        (specs, ketamine) => {
          const day0 = epochMinute('2026-12-07T00:00');
          const booked: BookedSession[] = specs.map((b, i) => ({
            start: day0 + b.day * 1440 + b.q * 15,
            end: day0 + b.day * 1440 + (b.q + b.len) * 15,
            chairId: `chair-${b.chair}`,
            staffId: null,
            patientId: `other-${i}`,
          }));
          const base = makeRequest({
            earliestStart: '2026-12-07',
            booked,
            ...(ketamine ? {} : { steps: [CHAIR_STEP] }),
          });
          const req = { ...base, horizonDays: horizonDaysFor(base.sessions) };
          const unset = schedule(req);
          expect(schedule({ ...req, levelling: 'off' })).toEqual(unset);
          const balanced = schedule({ ...req, levelling: 'balanced' });
          expect(schedule(structuredClone({ ...req, levelling: 'balanced' as const }))).toEqual(balanced);
          // Order only: a day that plans without levelling plans with it.
          expect(balanced.kind).toBe(unset.kind);
          if (balanced.kind === 'planned') {
            // No chair double-booked against the bookings.
            for (const s of balanced.sessions) {
              if (s.chairId === null) continue;
              for (const b of booked)
                if (b.chairId === s.chairId) expect(b.start < s.occupiedUntil && s.start < b.end).toBe(false);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
