import type { PlanFact, SessionFact } from './facts.js';
import { operations } from './operations.js';

const session = (status: SessionFact['status'], chairMinutes: number): SessionFact => ({
  stepKey: 'infusion', kind: 'infusion', occurrence: 1, status, day: 0, startMin: 0, endMin: 40, chairMinutes, planned: null, given: null, scores: {}, adverse: [],
});

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
  sessions: [session('completed', 100), session('completed', 100), session(k % 2 ? 'no_show' : 'completed', k % 2 ? 0 : 100), session('scheduled', 100)],
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
    expect(all.chairHoursPerCompletedSeries).toMatchObject({ n: 6, patients: 6, mean: 4.167, median: 4.167, min: 3.333, max: 5 });
    // 0…9 days.
    expect(all.daysBookingToFirstSession).toMatchObject({ n: 10, median: 4.5, q1: 2.25, q3: 6.75, p90: 8.1, min: 0, max: 9 });
    // June has two plans: suppressed.
    expect(rows[1].plansStarted).toEqual({ suppressed: true });
  });
});
