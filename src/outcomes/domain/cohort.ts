import type { AggregateRow } from './aggregates.js';
import { MEASURES, type PlanStatus } from './facts.js';
import { quantileSorted, sortedValues } from './stats.js';

/**
 * The outcomes report's aggregates from the cohort's outcome facts: one small row per plan, kept
 * by the database in the writing transaction (`plan_outcome_facts`, migration OutcomeFacts). The
 * rows have the shape the former aggregate statement returned (`AggregateRow`), so that
 * `versionFromAggregates` decides suppression, partitions and order as before; the summaries are
 * the type-7 quantiles of `quantileSorted` and sums taken in ascending order, as `summarize` does.
 */

/** Values per infusion in `OutcomeFactsDoc.i`: dose unit, planned amount, given amount (in that unit), the four scores. */
export const INFUSION_STRIDE = 3 + MEASURES.length;

/**
 * The JSON part of a plan's outcome facts (`plan_outcome_facts.doc`). Its lists are flat (row
 * after row, a fixed number of values each), which parses faster than an array per row.
 */
export interface OutcomeFactsDoc {
  /** The reason of the latest end-early adjustment, if any. */
  r: string | null;
  /** Sessions per kind and report status (`open`, `completed`, `no_show`, `cancelled`, `skipped`, `ended`): kind, status, n. */
  c: (string | number)[];
  /**
   * The completed infusions in order of start (infusion n first at (n − 1) × INFUSION_STRIDE):
   * dose unit, planned amount, given amount in that unit, craving, cows, phq9, gad7; null where missing.
   */
  i: (string | number | null)[];
  /** Per completed occurrence of a repeating step after its first: step key, kind, |gap − target| in days. */
  g: (string | number)[];
  /** Distinct (term, severity) per completed infusion: term, severity. */
  a: (string | null)[];
}

/** One plan of the cohort: its patient (a number within the cohort, or an id as read), version, status, and facts. */
export interface CohortPlan<P = number> {
  patient: P;
  version: number;
  status: PlanStatus;
  facts: OutcomeFactsDoc;
}

/** The plans with their patients numbered 0, 1, … (the numbers `aggregateCohort` counts distinct patients by). */
export function numberPatients(plans: readonly CohortPlan<string>[]): CohortPlan[] {
  const numbers = new Map<string, number>();
  return plans.map((p) => {
    let n = numbers.get(p.patient);
    if (n === undefined) numbers.set(p.patient, (n = numbers.size));
    return { patient: n, version: p.version, status: p.status, facts: p.facts };
  });
}

/**
 * Counts distinct patients (small integers) without a set per group: each count stamps the
 * patients it has seen with its own number.
 */
class Distinct {
  private stamps = new Int32Array(64);
  private stamp = 0;
  count(patients: readonly number[]): number {
    this.stamp++;
    let n = 0;
    for (const p of patients) {
      if (p >= this.stamps.length) {
        const grown = new Int32Array(Math.max(p + 1, this.stamps.length * 2));
        grown.set(this.stamps);
        this.stamps = grown;
      }
      if (this.stamps[p] !== this.stamp) {
        this.stamps[p] = this.stamp;
        n++;
      }
    }
    return n;
  }
}

/** Values of one summary with the patient (a small integer) of each. */
class Sample {
  readonly values: number[] = [];
  readonly patients: number[] = [];
  add(value: number | null, patient: number): void {
    if (value === null) return;
    this.values.push(value);
    this.patients.push(patient);
  }
  /** n, distinct patients, the sum in ascending order, min, max, then the quantiles at .25, .5, .75 and .9. */
  summary(distinct: Distinct): (number | null)[] {
    const n = this.values.length;
    if (n === 0) return [0, 0, null, null, null];
    // Numeric order (no -0 or NaN occurs here).
    const sorted = sortedValues(this.values);
    let sum = 0;
    for (const v of sorted) sum += v;
    return [
      n,
      distinct.count(this.patients),
      sum,
      sorted[0],
      sorted[n - 1],
      quantileSorted(sorted, 0.25),
      quantileSorted(sorted, 0.5),
      quantileSorted(sorted, 0.75),
      quantileSorted(sorted, 0.9),
    ];
  }
}

/** A count of items and of their distinct patients. */
class Tally {
  n = 0;
  readonly patients: number[] = [];
  add(patient: number, n = 1): void {
    this.n += n;
    this.patients.push(patient);
  }
}

/** The entry of `key` in `map`, made by `make` when missing. */
function entry<K, T>(map: Map<K, T>, key: K, make: () => T): T {
  let g = map.get(key);
  if (g === undefined) {
    g = make();
    map.set(key, g);
  }
  return g;
}

const ROW: Omit<AggregateRow, 'sec' | 'version'> = {
  k1: null,
  k2: null,
  n: null,
  patients: null,
  s: null,
  hits: null,
  hitPatients: null,
  missPatients: null,
  patientIds: null,
};

interface DoseGroup {
  idx: number | null;
  planned: Sample;
  given: Sample;
}
const doseGroup = (idx: number | null): DoseGroup => ({ idx, planned: new Sample(), given: new Sample() });

/** The report's aggregated rows (every version of the cohort), from its plans' facts. */
export function aggregateCohort(plans: readonly CohortPlan[], suppressionThreshold: number): AggregateRow[] {
  const out: AggregateRow[] = [];
  const push = (sec: string, version: number, fields: Partial<AggregateRow>) =>
    out.push({ ...ROW, sec, version, ...fields });
  const distinct = new Distinct();
  const patients = (t: Tally) => distinct.count(t.patients);
  const versions = [...new Set(plans.map((p) => p.version))].sort((a, b) => a - b);
  const M = MEASURES.length;

  for (const version of versions) {
    const statuses = new Map<string, Tally>();
    const all = new Tally();
    const reasons = new Map<string | null, Tally>();
    // kind → report status → sessions
    const buckets = new Map<string, Map<string, Tally>>();
    const infusions: { count: number; scores: Sample[] }[] = [];
    // unit → [all, infusion 1, infusion 2, …]
    const doses = new Map<string, DoseGroup[]>();
    const changes = MEASURES.map(() => new Sample());
    const halved = { eligible: new Tally(), hits: new Tally(), misses: new Tally() };
    const gaps = new Map<string, { kind: string; sample: Sample }>();
    // term → severity → events
    const adverse = new Map<string | null, Map<string | null, Tally>>();
    const first = new Array<number | null>(M);
    const last = new Array<number | null>(M);
    const seen = new Array<number>(M);

    for (const plan of plans) {
      if (plan.version !== version) continue;
      const pno = plan.patient;
      const f = plan.facts;
      all.add(pno);
      entry(statuses, plan.status, () => new Tally()).add(pno);
      if (plan.status === 'ended_early') entry(reasons, f.r, () => new Tally()).add(pno);
      for (let k = 0; k < f.c.length; k += 3) {
        const byStatus = entry(buckets, f.c[k] as string, () => new Map<string, Tally>());
        entry(byStatus, f.c[k + 1] as string, () => new Tally()).add(pno, f.c[k + 2] as number);
      }

      first.fill(null);
      last.fill(null);
      seen.fill(0);
      for (let k = 0, idx = 1; k < f.i.length; k += INFUSION_STRIDE, idx++) {
        const at = (infusions[idx - 1] ??= { count: 0, scores: MEASURES.map(() => new Sample()) });
        at.count++;
        for (let m = 0; m < M; m++) {
          const v = f.i[k + 3 + m] as number | null;
          if (v === null) continue;
          at.scores[m].add(v, pno);
          if (seen[m]++ === 0) first[m] = v;
          last[m] = v;
        }
        const unit = f.i[k] as string | null;
        if (unit === null || unit === '') continue;
        let groups = doses.get(unit);
        if (groups === undefined) doses.set(unit, (groups = [doseGroup(null)]));
        const planned = f.i[k + 1] as number | null;
        const given = f.i[k + 2] as number | null;
        const one = (groups[idx] ??= doseGroup(idx));
        one.planned.add(planned, pno);
        one.given.add(given, pno);
        groups[0].planned.add(planned, pno);
        groups[0].given.add(given, pno);
      }
      for (let m = 0; m < M; m++) if (seen[m] >= 2) changes[m].add(last[m]! - first[m]!, pno);
      const c = MEASURES.indexOf('craving');
      if (seen[c] >= 2 && first[c]! > 0) {
        halved.eligible.add(pno);
        (last[c]! <= first[c]! / 2 ? halved.hits : halved.misses).add(pno);
      }
      for (let k = 0; k < f.g.length; k += 3) {
        const kind = f.g[k + 1] as string;
        const g = entry(gaps, f.g[k] as string, () => ({ kind, sample: new Sample() }));
        if (kind < g.kind) g.kind = kind;
        g.sample.add(f.g[k + 2] as number, pno);
      }
      for (let k = 0; k < f.a.length; k += 2) {
        const bySeverity = entry(adverse, f.a[k], () => new Map<string | null, Tally>());
        entry(bySeverity, f.a[k + 1], () => new Tally()).add(pno);
      }
    }

    push('plans', version, { n: all.n, patients: patients(all) });
    for (const [status, t] of statuses) push('plans', version, { k1: status, n: t.n, patients: patients(t) });
    for (const [reason, t] of reasons)
      push('reason', version, {
        k1: reason,
        n: t.n,
        patients: patients(t),
        patientIds: [...new Set(t.patients)].map(String),
      });
    for (const [kind, byStatus] of buckets)
      for (const [bucket, t] of byStatus)
        push('sessions', version, { k1: kind, k2: bucket, n: t.n, patients: patients(t) });
    infusions.forEach(({ count, scores }, i) => {
      const k1 = String(i + 1);
      push('infusions', version, { k1, n: count });
      MEASURES.forEach((m, j) => push('observation', version, { k1, k2: m, s: scores[j].summary(distinct) }));
    });
    for (const [unit, groups] of doses)
      for (const d of groups) {
        if (d === undefined) continue;
        const k1 = d.idx === null ? 'all' : String(d.idx);
        push('dose.planned', version, { k1, k2: unit, s: d.planned.summary(distinct) });
        push('dose.given', version, { k1, k2: unit, s: d.given.summary(distinct) });
      }
    MEASURES.forEach((m, i) => push('change', version, { k1: m, s: changes[i].summary(distinct) }));
    push('halved', version, {
      n: halved.eligible.n,
      patients: patients(halved.eligible),
      hits: halved.hits.n,
      hitPatients: patients(halved.hits),
      missPatients: patients(halved.misses),
    });
    for (const [stepKey, g] of gaps)
      push('adherence', version, { k1: stepKey, k2: g.kind, s: g.sample.summary(distinct) });
    const rare = new Tally();
    for (const [term, bySeverity] of adverse)
      for (const [severity, t] of bySeverity) {
        const n = patients(t);
        push('adverse', version, { k1: term, k2: severity, n: t.n, patients: n });
        // Events of terms seen in fewer patients than the threshold: counted together, never named.
        if (n >= suppressionThreshold) continue;
        rare.n += t.n;
        rare.patients.push(...t.patients);
      }
    if (rare.n > 0) push('adverse.other', version, { n: rare.n, patients: patients(rare) });
  }
  return out;
}
