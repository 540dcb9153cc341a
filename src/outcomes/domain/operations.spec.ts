import type { PlanFact } from './facts.js';
import { operations } from './operations.js';

const counts = (k: number): PlanFact['statusCounts'] => [
  // Four infusions: two or three completed (100 chair minutes each), one missed on odd k, one scheduled.
  { kind: 'infusion', status: 'completed', n: k % 2 ? 2 : 3, chairMinutes: k % 2 ? 200 : 300 },
  ...(k % 2 ? [{ kind: 'infusion', status: 'no_show' as const, n: 1, chairMinutes: 0 }] : []),
  { kind: 'infusion', status: 'scheduled', n: 1, chairMinutes: 100 },
];

/** Ten plans in May, patients p0…p9: five missed one of four infusions, six completed. */
const plans: PlanFact[] = [...Array(10)].map((_, k) => ({
  version: 1,
  patient: `p${k}`,
  status: k < 6 ? 'completed' : 'active',
  endReason: null,
  bookedDay: 100,
  firstDay: 100 + k,
  month: k < 8 ? '2026-05' : '2026-06',
  spacing: {},
  statusCounts: counts(k),
  sessions: [],
}));

describe('operations', () => {
  const rows = operations([{ protocolId: 'x', protocolName: 'P', plans }]);

  it('a row per month (of the first session) and one for the whole period', () => {
    expect(rows.map((r) => r.month)).toEqual(['2026-05', '2026-06', 'all']);
  });

  it('no-show rate, chair-hours per completed series and days to the first session, by hand', () => {
    const all = rows[2];
    expect(all.plansStarted).toEqual({ count: 10, patients: 10 });
    // Sessions due: 30 (3 per plan), 5 missed.
    expect(all.noShowRate).toEqual({ n: 30, patients: 10, count: 5, share: 0.167 });
    // Completed plans p0…p5: 300 min (even k) or 200 min (odd k) of chair time → 5, 3.33, 5, 3.33, 5, 3.33 h.
    expect(all.chairHoursPerCompletedSeries).toMatchObject({
      n: 6,
      patients: 6,
      mean: 4.167,
      median: 4.167,
      min: 3.333,
      max: 5,
    });
    // 0…9 days.
    expect(all.daysBookingToFirstSession).toMatchObject({
      n: 10,
      median: 4.5,
      q1: 2.25,
      q3: 6.75,
      p90: 8.1,
      min: 0,
      max: 9,
    });
    // June has two plans: suppressed.
    expect(rows[1].plansStarted).toEqual({ suppressed: true });
  });
});
