import {
  chart,
  defaultPair,
  headline,
  niceMax,
  noShowByVersion,
  type SummaryCell,
  type VersionReport,
} from '../../web/src/lib/outcomes.js';

// The protocol page's version comparison without a browser: the default pair of versions, the
// headline figures, and the chart geometry with suppressed cells as gaps (never as zero).

const S = { suppressed: true as const };
const cell = (median: number, mean = median): SummaryCell => ({
  n: 10,
  patients: 10,
  mean,
  median,
  q1: median,
  q3: median,
  p90: median,
  min: median,
  max: median,
});
const version = (
  v: number,
  started: number | 'S',
  craving: (number | 'S')[] = [],
  cows: (number | 'S')[] = [],
): VersionReport => ({
  version: v,
  plans: {
    started: started === 'S' ? S : { count: started, patients: started },
    completed: { count: 6, patients: 6 },
    endedEarly: S,
  },
  adherence: [
    { stepKey: 'intake', kind: 'consult', absDeviationDays: cell(9) },
    { stepKey: 'infusion', kind: 'infusion', absDeviationDays: { ...cell(0.5), mean: 0.4567, n: 40 } },
  ],
  observations: {
    byInfusion: craving.map((c, i) => ({
      infusion: i + 1,
      craving: c === 'S' ? S : cell(c, c + 0.5),
      cows: cows[i] === undefined || cows[i] === 'S' ? S : cell(cows[i] as number),
    })),
    cravingHalved: { n: 16, patients: 16, count: 6, share: 0.375 },
  },
});

describe('outcomes comparison: which versions', () => {
  it('defaults to the latest two versions with data, older first (a suppressed count is data)', () => {
    expect(defaultPair([version(1, 16), version(2, 'S'), version(3, 0)])).toEqual([1, 2]);
    expect(defaultPair([version(1, 16), version(2, 16), version(3, 4), version(4, 0)])).toEqual([2, 3]);
  });
  it('falls back to the latest versions when fewer than two have data', () => {
    expect(defaultPair([version(1, 0), version(2, 3), version(3, 0)])).toEqual([2, 3]);
    expect(defaultPair([version(1, 0)])).toEqual([1]);
    expect(defaultPair([])).toEqual([]);
  });
});

describe('outcomes comparison: headline figures', () => {
  it('counts, adherence of the infusions, the no-show rate and the craving halved share; suppressed cells in words', () => {
    const v = version(2, 16);
    const noShow = noShowByVersion(
      [
        { protocolId: 'p', version: 2, month: '2026-05', noShowRate: S },
        { protocolId: 'p', version: 2, month: 'all', noShowRate: { n: 200, patients: 16, count: 9, share: 0.045 } },
        { protocolId: 'q', version: 2, month: 'all', noShowRate: S },
      ],
      'p',
    );
    expect(headline(v, noShow.get(2))).toEqual([
      { label: 'Plans started', text: '16', suppressed: false },
      { label: 'Completed', text: '6', suppressed: false },
      { label: 'Ended early', text: 'fewer than 5 patients', suppressed: true },
      { label: 'Adherence', text: '0.46 days off target (mean, 40 gaps)', suppressed: false },
      { label: 'No-show rate', text: '4.5 % (9 of 200)', suppressed: false },
      { label: 'Craving fell ≥ 50 %', text: '37.5 % (6 of 16)', suppressed: false },
    ]);
    expect(headline(v, S)[4]).toEqual({ label: 'No-show rate', text: 'fewer than 5 patients', suppressed: true });
  });
});

describe('outcomes comparison: charts', () => {
  it('one series per version, a point per figure, suppressed cells as gaps that break the line', () => {
    const c = chart([version(1, 16, [8, 7, 'S', 5, 4]), version(2, 16, [8, 6, 4])], 'craving', 'median', {
      width: 320,
      height: 180,
    });
    const [a, b] = c.series;
    expect(a.points.map((p) => [p.infusion, p.value])).toEqual([
      [1, 8],
      [2, 7],
      [4, 5],
      [5, 4],
    ]);
    expect(a.gaps).toEqual([3]);
    expect(a.segments.map((s) => s.map((p) => p.infusion))).toEqual([
      [1, 2],
      [4, 5],
    ]);
    // Version 2 has no fourth or fifth infusion: absent, not suppressed.
    expect(b.points).toHaveLength(3);
    expect(b.gaps).toEqual([]);
    expect(b.values.slice(3)).toEqual([
      { infusion: 4, value: null },
      { infusion: 5, value: null },
    ]);
    expect(c.hasGaps).toBe(true);
    // Geometry: infusion 1 at the left edge, 5 at the right; the craving scale tops at 10.
    expect(c.yMax).toBe(10);
    // Plot 12…150 high: 8 of 10 lies at 150 − 0.8 × 138 = 39.6.
    expect(c.plot).toEqual({ left: 36, right: 308, top: 12, bottom: 150 });
    expect(a.points[0]).toMatchObject({ x: 36, y: 39.6 });
    expect(a.points[3].x).toBe(c.plot.right);
    expect(c.xTicks.map((t) => t.infusion)).toEqual([1, 2, 3, 4, 5]);
    expect(c.yTicks.map((t) => t.value)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(c.yTicks[0].y).toBe(c.plot.bottom);
  });

  it('the mean instead of the median; COWS on a scale just above its data', () => {
    const v = version(1, 16, [8, 6], [14, 'S']);
    expect(chart([v], 'craving', 'mean').series[0].points.map((p) => p.value)).toEqual([8.5, 6.5]);
    const cows = chart([v], 'cows', 'median');
    expect(cows.yMax).toBe(15);
    expect(cows.series[0].gaps).toEqual([2]);
    expect(cows.series[0].segments).toHaveLength(1);
  });

  it('nice maxima', () => {
    expect(niceMax(14, 48)).toBe(15);
    expect(niceMax(3.2, 10)).toBe(10);
    expect(niceMax(23, 48)).toBe(25);
    expect(niceMax(47, 48)).toBe(48);
    expect(niceMax(0, 48)).toBe(10);
  });
});
