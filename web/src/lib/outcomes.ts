/**
 * The protocol page's comparison of two versions, without the DOM: which versions to compare by
 * default, the headline figures of each, and the small line charts (craving and COWS by infusion,
 * one line per version) as SVG coordinates. A suppressed cell (fewer than 5 patients) is a gap in a
 * line, never a zero; the server decides what is suppressed.
 */

export interface Suppressed {
  suppressed: true;
}
export type Cell<T> = T | Suppressed;
export interface CountCell {
  count: number;
  patients: number;
}
export interface SummaryCell {
  n: number;
  patients: number;
  mean: number;
  median: number;
  q1: number;
  q3: number;
  p90: number;
  min: number;
  max: number;
}
export interface ShareCell {
  n: number;
  patients: number;
  count: number;
  share: number;
}

export type ChartMeasure = 'craving' | 'cows';
export type Statistic = 'median' | 'mean';

/** What the page reads of `GET /v1/protocols/{id}/outcomes` (one entry of `versions`). */
export interface VersionReport {
  version: number;
  plans: { started: Cell<CountCell>; completed: Cell<CountCell>; endedEarly: Cell<CountCell> };
  adherence: { stepKey: string; kind: string; absDeviationDays: Cell<SummaryCell> }[];
  observations: {
    byInfusion: ({ infusion: number } & Record<ChartMeasure, Cell<SummaryCell>>)[];
    cravingHalved: Cell<ShareCell>;
  };
}

/** What the page reads of `GET /v1/outcomes/operations` (one row). */
export interface OperationsRow {
  protocolId: string;
  version: number;
  month: string;
  noShowRate: Cell<ShareCell>;
}

export const isSuppressed = (c: Cell<object> | undefined): c is Suppressed => !!c && 'suppressed' in c;

/** A version has data when any plan of it started in the period (a suppressed count is 1–4 plans). */
export const hasData = (v: VersionReport): boolean =>
  isSuppressed(v.plans.started) || (v.plans.started as CountCell).count > 0;

/** The two versions to compare first: the latest two with data, else the latest two; older first. */
export function defaultPair(versions: VersionReport[]): number[] {
  const all = versions.map((v) => v.version).sort((a, b) => b - a);
  const withData = versions
    .filter(hasData)
    .map((v) => v.version)
    .sort((a, b) => b - a);
  const pick = withData.length >= 2 ? withData.slice(0, 2) : [...new Set([...withData, ...all])].slice(0, 2);
  return pick.sort((a, b) => a - b);
}

const SUPPRESSED_TEXT = 'fewer than 5 patients';
const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;
const num = (x: number) => String(Math.round(x * 100) / 100);

/** One headline figure as shown: the text, and whether it is suppressed. */
export interface Figure {
  label: string;
  text: string;
  suppressed: boolean;
}

const count = (label: string, c: Cell<CountCell>): Figure =>
  isSuppressed(c)
    ? { label, text: SUPPRESSED_TEXT, suppressed: true }
    : { label, text: String(c.count), suppressed: false };
const share = (label: string, c: Cell<ShareCell> | undefined): Figure =>
  !c
    ? { label, text: '—', suppressed: false }
    : isSuppressed(c)
      ? { label, text: SUPPRESSED_TEXT, suppressed: true }
      : { label, text: `${pct(c.share)} (${c.count} of ${c.n})`, suppressed: false };

/**
 * The headline figures of a version: plans started, completed, ended early; adherence (mean
 * |actual − target gap| of the infusions, else of the first repeating step); no-show rate (from the
 * operations row of the version over the whole period); share with craving fallen by half or more.
 */
export function headline(v: VersionReport, noShow: Cell<ShareCell> | undefined): Figure[] {
  const adh = v.adherence.find((a) => a.kind === 'infusion') ?? v.adherence[0];
  const adherence: Figure = !adh
    ? { label: 'Adherence', text: '—', suppressed: false }
    : isSuppressed(adh.absDeviationDays)
      ? { label: 'Adherence', text: SUPPRESSED_TEXT, suppressed: true }
      : {
          label: 'Adherence',
          text: `${num(adh.absDeviationDays.mean)} days off target (mean, ${adh.absDeviationDays.n} gaps)`,
          suppressed: false,
        };
  return [
    count('Plans started', v.plans.started),
    count('Completed', v.plans.completed),
    count('Ended early', v.plans.endedEarly),
    adherence,
    share('No-show rate', noShow),
    share('Craving fell ≥ 50 %', v.observations.cravingHalved),
  ];
}

/** The no-show rate of each version over the whole period, from the operations rows. */
export function noShowByVersion(rows: OperationsRow[], protocolId: string): Map<number, Cell<ShareCell>> {
  return new Map(
    rows.filter((r) => r.protocolId === protocolId && r.month === 'all').map((r) => [r.version, r.noShowRate]),
  );
}

export interface ChartPoint {
  infusion: number;
  value: number;
  x: number;
  y: number;
}
export interface ChartSeries {
  version: number;
  /** Every infusion n with its value, or null where the cell is suppressed or absent. */
  values: { infusion: number; value: number | null }[];
  /** The points drawn. */
  points: ChartPoint[];
  /** Polylines: runs of consecutive infusions with a value (a gap breaks the line). */
  segments: ChartPoint[][];
  /** Infusions whose cell is suppressed. */
  gaps: number[];
}
export interface Chart {
  width: number;
  height: number;
  plot: { left: number; right: number; top: number; bottom: number };
  xTicks: { infusion: number; x: number }[];
  yTicks: { value: number; y: number }[];
  yMax: number;
  series: ChartSeries[];
  /** True when any version has a gap (the page then says why). */
  hasGaps: boolean;
}

/** The scale's top: a short scale (craving, 0–10) whole; a long one (COWS, 0–48) to a round number just above the data. */
export function niceMax(dataMax: number, scaleMax: number): number {
  if (scaleMax <= 10) return scaleMax;
  if (!(dataMax > 0)) return 10;
  for (const step of [1, 2, 5, 10, 20, 25, 50]) {
    const top = Math.ceil(dataMax / step) * step;
    if (top / step <= 5) return Math.min(scaleMax, top);
  }
  return scaleMax;
}

export const SCALE_MAX: Record<ChartMeasure, number> = { craving: 10, cows: 48 };

/** The chart of one measure (its mean or median by infusion n) for the given versions. */
export function chart(
  versions: VersionReport[],
  measure: ChartMeasure,
  statistic: Statistic,
  size: { width: number; height: number } = { width: 320, height: 180 },
): Chart {
  const plot = { left: 36, right: size.width - 12, top: 12, bottom: size.height - 30 };
  const infusions = Math.max(1, ...versions.flatMap((v) => v.observations.byInfusion.map((b) => b.infusion)));
  const values = versions.map((v) => {
    const by = new Map(v.observations.byInfusion.map((b) => [b.infusion, b[measure]]));
    return [...Array(infusions)].map((_, i) => {
      const c = by.get(i + 1);
      return { infusion: i + 1, value: c && !isSuppressed(c) ? c[statistic] : null, suppressed: isSuppressed(c) };
    });
  });
  const dataMax = Math.max(0, ...values.flat().map((p) => p.value ?? 0));
  const yMax = niceMax(dataMax, SCALE_MAX[measure]);
  const x = (infusion: number) =>
    infusions === 1
      ? (plot.left + plot.right) / 2
      : plot.left + ((infusion - 1) / (infusions - 1)) * (plot.right - plot.left);
  const y = (value: number) => plot.bottom - (Math.min(value, yMax) / yMax) * (plot.bottom - plot.top);
  const round = (n: number) => Math.round(n * 10) / 10;
  const series = versions.map((v, k) => {
    const points: ChartPoint[] = [];
    const segments: ChartPoint[][] = [];
    let run: ChartPoint[] = [];
    for (const p of values[k]) {
      if (p.value === null) {
        if (run.length) segments.push(run);
        run = [];
        continue;
      }
      const pt = { infusion: p.infusion, value: p.value, x: round(x(p.infusion)), y: round(y(p.value)) };
      points.push(pt);
      run.push(pt);
    }
    if (run.length) segments.push(run);
    return {
      version: v.version,
      values: values[k].map(({ infusion, value }) => ({ infusion, value })),
      points,
      segments,
      gaps: values[k].filter((p) => p.suppressed).map((p) => p.infusion),
    };
  });
  const step = infusions > 12 ? Math.ceil(infusions / 12) : 1;
  const yStep = yMax <= 10 ? 2 : yMax <= 25 ? 5 : 10;
  return {
    width: size.width,
    height: size.height,
    plot,
    xTicks: [...Array(infusions)]
      .map((_, i) => i + 1)
      .filter((i) => (i - 1) % step === 0)
      .map((i) => ({ infusion: i, x: round(x(i)) })),
    yTicks: [...Array(Math.floor(yMax / yStep) + 1)].map((_, i) => ({ value: i * yStep, y: round(y(i * yStep)) })),
    yMax,
    series,
    hasGaps: series.some((s) => s.gaps.length > 0),
  };
}
