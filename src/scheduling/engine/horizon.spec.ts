import type { SessionToPlace } from '../../protocols/domain/tailor.js';
import { epochMinute, makeRequest, weekly } from './fixtures.js';
import { beforeReachDays, horizonDaysFor, schedule } from './schedule.js';

// A session attached 2–5 days *before* its anchor: the anchor may fall up to 5 days after the
// plan's start, so the calendar must reach that far (found by the property tests, seed 806617380).
const base = {
  occurrence: 1,
  occurrences: 1,
  durationMinutes: 30,
  recoveryMinutes: 0,
  needsChair: false,
  staffRole: null,
  dose: null,
  sameTimeOfDay: false,
};
const sessions: SessionToPlace[] = [
  { ...base, ref: 's0#1', stepKey: 's0', kind: 'consult', label: 'Consult', weekdays: [1, 2, 3], constraints: [] },
  {
    ...base,
    ref: 's1#1',
    stepKey: 's1',
    kind: 'assessment',
    label: 'Prep',
    weekdays: null,
    constraints: [
      { ref: 's0#1', relation: 'before', gap: { min: 2, max: 5, target: 2, unit: 'days' }, sameDay: false },
    ],
  },
];

describe('the calendar a request needs', () => {
  it('reaches as far as a before-attachment can push the independent session', () => {
    expect(beforeReachDays(sessions)).toBe(5);
    expect(horizonDaysFor(sessions, 1)).toBeGreaterThanOrEqual(1 + 5 + 1);
  });

  it('so that a plan starting with the prep on Wednesday and the consult on Monday is found', () => {
    const result = schedule(
      makeRequest({
        sessions,
        openingHours: weekly([1, 2, 3, 4, 5, 6, 7], '09:00', '10:00'),
        earliestStart: '2026-06-10', // a Wednesday
        now: epochMinute('2026-06-01T00:00'),
        startWindowDays: 1,
        probeDays: 1,
        horizonDays: horizonDaysFor(sessions, 1),
      }),
    );
    expect(result.kind).toBe('planned');
    if (result.kind === 'planned') {
      expect(result.sessions.map((p) => `${p.ref} ${p.localDate}`)).toEqual(['s1#1 2026-06-10', 's0#1 2026-06-15']);
    }
  });
});
