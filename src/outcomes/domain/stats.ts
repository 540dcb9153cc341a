/**
 * The statistics of the outcomes report, and the small-cell suppression that keeps a report from
 * singling a patient out. Pure: numbers in, numbers out.
 *
 * Quantiles are Hyndman & Fan type 7 (linear interpolation between closest ranks: h = (n − 1)·p,
 * the default of R, NumPy and PostgreSQL's `percentile_cont`), so a statistician can reproduce
 * every figure from the CSV's inputs with the tools they already use.
 */

/** Cells describing fewer patients than this are suppressed. */
export const SUPPRESSION_THRESHOLD = 5;

export const QUANTILE_METHOD =
  'Hyndman & Fan type 7 (linear interpolation between closest ranks; R default, PostgreSQL percentile_cont)';

export interface Suppressed {
  suppressed: true;
}

export interface CountCell {
  count: number;
  patients: number;
}

export interface SummaryCell {
  /** How many values (sessions, gaps, plans) the figures summarise. */
  n: number;
  /** How many distinct patients those values come from. */
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
  /** Plans that could show the outcome (the denominator). */
  n: number;
  patients: number;
  count: number;
  /** count / n, 0–1. */
  share: number;
}

export interface RateCell {
  /** Events counted. */
  count: number;
  /** What they are counted per (e.g. completed infusions). */
  denominator: number;
  patients: number;
  per100: number;
}

export type Cell<T> = T | Suppressed;

export const isSuppressed = <T extends object>(c: Cell<T>): c is Suppressed => 'suppressed' in c;

const SUPPRESSED: Suppressed = Object.freeze({ suppressed: true as const });

/** Rounds for presentation (the report's figures, not their inputs): 3 significant decimals at most. */
export function round(x: number, places = 3): number {
  const f = 10 ** places;
  return Math.round(Number((x * f).toPrecision(12))) / f;
}

/**
 * The values in ascending numeric order, as a typed array. Values that are whole numbers, or
 * numbers of thousandths (doses), within a small range are placed by counting, five times faster
 * than sorting 2,500 of them; anything else is sorted (a typed array sorts numbers natively).
 * Either way the result holds the very same numbers. No NaN or -0 may occur.
 */
export function sortedValues(values: readonly number[]): Float64Array {
  return counted(values, 1) ?? counted(values, 1000) ?? new Float64Array(values).sort();
}

/** The values in order by counting multiples of 1/scale, or null when one is not such a multiple or the range is wide. */
function counted(values: readonly number[], scale: number): Float64Array | null {
  const n = values.length;
  if (n === 0) return new Float64Array(0);
  let min = values[0];
  let max = values[0];
  for (let i = 1; i < n; i++) {
    const v = values[i];
    if (v < min) min = v;
    else if (v > max) max = v;
  }
  const lo = Math.round(min * scale);
  const hi = Math.round(max * scale);
  if (hi - lo > COUNTING_RANGE) return null;
  const counts = new Int32Array(hi - lo + 1);
  for (let i = 0; i < n; i++) {
    const k = Math.round(values[i] * scale);
    // Placed as k / scale: only when that is exactly the value.
    if (k / scale !== values[i]) return null;
    counts[k - lo]++;
  }
  const sorted = new Float64Array(n);
  for (let j = 0, at = 0; j < counts.length; j++) {
    sorted.fill((j + lo) / scale, at, at + counts[j]);
    at += counts[j];
  }
  return sorted;
}
const COUNTING_RANGE = 4096;

/** Type-7 quantile of an ascending-sorted, non-empty array, p in [0, 1]. */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) throw new RangeError('quantile of no values');
  if (!(p >= 0 && p <= 1)) throw new RangeError(`p must lie in [0, 1], got ${p}`);
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('mean of no values');
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** A value with the (opaque) patient it belongs to, so a cell can count its patients. */
export interface Obs {
  value: number;
  patient: string;
}

const patientsOf = (obs: readonly { patient: string }[]): number => new Set(obs.map((o) => o.patient)).size;

/**
 * What a summary cell is made of, as PostgreSQL aggregates it (`count`, `count(DISTINCT patient)`,
 * `sum(value ORDER BY value)`, `percentile_cont(ARRAY[.25, .5, .75, .9])`, `min`, `max`) or as
 * `summarize` computes it from the values: the same figures, bit for bit (the sum is taken over the
 * values in ascending order, and percentile_cont interpolates exactly as `quantileSorted`).
 */
export interface SummaryAggregate {
  n: number;
  patients: number;
  /** The sum of the values, added in ascending order. */
  sum: number;
  /** Type-7 quantiles at 0.25, 0.5, 0.75 and 0.9. */
  q: readonly [number, number, number, number];
  min: number;
  max: number;
}

/** The summary cell of an aggregate, or suppressed when it describes fewer than 5 patients (or none). */
export function summaryCell(a: SummaryAggregate): Cell<SummaryCell> {
  if (a.patients < SUPPRESSION_THRESHOLD || a.n === 0) return SUPPRESSED;
  return {
    n: a.n,
    patients: a.patients,
    mean: round(a.sum / a.n),
    median: round(a.q[1]),
    q1: round(a.q[0]),
    q3: round(a.q[2]),
    p90: round(a.q[3]),
    min: round(a.min),
    max: round(a.max),
  };
}

/** Mean, median, IQR, p90 and range of the values, or suppressed when they come from fewer than 5 patients (or none). */
export function summarize(obs: readonly Obs[]): Cell<SummaryCell> {
  const patients = patientsOf(obs);
  if (patients < SUPPRESSION_THRESHOLD) return SUPPRESSED;
  const sorted = obs.map((o) => o.value).sort((a, b) => a - b);
  let sum = 0;
  for (const v of sorted) sum += v;
  return summaryCell({
    n: sorted.length,
    patients,
    sum,
    q: [
      quantileSorted(sorted, 0.25),
      quantileSorted(sorted, 0.5),
      quantileSorted(sorted, 0.75),
      quantileSorted(sorted, 0.9),
    ],
    min: sorted[0],
    max: sorted[sorted.length - 1],
  });
}

/**
 * A count of things (plans, sessions) belonging to `patients` distinct patients. Zero is shown (it
 * describes nobody); 1–4 patients are suppressed.
 */
export function countCell(count: number, patients: number): Cell<CountCell> {
  if (count === 0) return { count: 0, patients: 0 };
  return patients < SUPPRESSION_THRESHOLD ? SUPPRESSED : { count, patients };
}

/** Count items by patient: how many, and from how many distinct patients. */
export function countOf(items: readonly { patient: string }[]): Cell<CountCell> {
  return countCell(items.length, patientsOf(items));
}

/** The share of `eligible` that are `hit`; suppressed when the eligible come from fewer than 5 patients, or the hits from 1–4. */
export function shareCell(eligible: readonly { patient: string; hit: boolean }[]): Cell<ShareCell> {
  const hits = eligible.filter((e) => e.hit);
  return shareOf({
    n: eligible.length,
    patients: patientsOf(eligible),
    hits: hits.length,
    hitPatients: patientsOf(hits),
    missPatients: patientsOf(eligible.filter((e) => !e.hit)),
  });
}

/** A share from its counts: `n` eligible items of `patients` patients, `hits` of them (of `hitPatients`), the rest of `missPatients`. */
export function shareOf(a: {
  n: number;
  patients: number;
  hits: number;
  hitPatients: number;
  missPatients: number;
}): Cell<ShareCell> {
  if (a.patients < SUPPRESSION_THRESHOLD || (a.hitPatients > 0 && a.hitPatients < SUPPRESSION_THRESHOLD))
    return SUPPRESSED;
  // Fewer than 5 patients without the outcome would be singled out as well (the complement).
  if (a.missPatients > 0 && a.missPatients < SUPPRESSION_THRESHOLD) return SUPPRESSED;
  return { n: a.n, patients: a.patients, count: a.hits, share: round(a.hits / a.n) };
}

/** Events per 100 of a denominator; suppressed when the events come from 1–4 patients. */
export function rateCell(events: readonly { patient: string }[], denominator: number): Cell<RateCell> {
  return rateOf(events.length, patientsOf(events), denominator);
}

/** `count` events of `patients` patients per 100 of `denominator`; suppressed when 1–4 patients. */
export function rateOf(count: number, patients: number, denominator: number): Cell<RateCell> {
  if (count > 0 && patients < SUPPRESSION_THRESHOLD) return SUPPRESSED;
  return {
    count,
    denominator,
    patients,
    per100: denominator === 0 ? 0 : round((100 * count) / denominator, 2),
  };
}

/**
 * Complementary suppression for a partition shown with its total (e.g. plans started = completed
 * + ended early + running): when exactly one part is suppressed, it could be worked out by
 * subtraction, so the smallest other non-zero part is suppressed too. Returns the parts in order.
 */
export function protectPartition(total: Cell<CountCell>, parts: Cell<CountCell>[]): Cell<CountCell>[] {
  if (isSuppressed(total)) return parts;
  const hidden = parts.filter((p) => isSuppressed(p)).length;
  if (hidden !== 1) return parts;
  let pick = -1;
  parts.forEach((p, i) => {
    if (!isSuppressed(p) && p.count > 0 && (pick < 0 || p.count < (parts[pick] as CountCell).count)) pick = i;
  });
  return pick < 0 ? parts : parts.map((p, i) => (i === pick ? SUPPRESSED : p));
}
