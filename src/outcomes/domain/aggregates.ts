import { MEASURES, type Measure } from './facts.js';
import type { OperationsRow } from './operations.js';
import { normaliseReason, OTHER_REASON, type VersionOutcomes } from './report.js';
import {
  countCell,
  protectPartition,
  rateOf,
  shareOf,
  summaryCell,
  SUPPRESSION_THRESHOLD,
  type Cell,
  type CountCell,
  type ShareCell,
  type SummaryAggregate,
  type SummaryCell,
} from './stats.js';

/**
 * The outcomes report from its aggregated rows (a few hundred for any number of plans; made by
 * `aggregateCohort` from the cohort's outcome facts, cohort.ts), with the same figures as
 * `versionOutcomes` computes from per-plan facts read from the raw rows (which stays as the
 * reference the tests hold the report to). Suppression, partitions and order are decided here.
 */

/** One aggregated row of the outcomes report; which columns are set depends on `sec`. */
export interface AggregateRow {
  /**
   * `plans` (k1 status, or null for all), `reason` (k1 the raw end-early reason, with patientIds),
   * `sessions` (k1 kind, k2 bucket), `infusions` (k1 infusion n), `halved`, `adverse` (k1 term,
   * k2 severity), `adverse.other` (events of terms seen in fewer than 5 patients), and the
   * summaries: `adherence` (k1 step key, k2 kind), `dose.planned` / `dose.given` (k1 infusion n
   * or `all`, k2 unit), `observation` (k1 infusion n, k2 measure), `change` (k1 measure).
   */
  sec: string;
  version: number;
  k1: string | null;
  k2: string | null;
  n: number | null;
  patients: number | null;
  /** A summary: n, patients, the sum in ascending order, min, max, then the quantiles at .25, .5, .75 and .9. */
  s: (number | null)[] | null;
  hits: number | null;
  hitPatients: number | null;
  missPatients: number | null;
  /** Opaque patient numbers, only to count distinct patients across rows; never in a report. */
  patientIds: string[] | null;
}

const SUPPRESSED = { suppressed: true as const };
const ZERO: CountCell = { count: 0, patients: 0 };

/** The summary cell of a summary row (suppressed when it describes fewer than 5 patients, or is missing). */
export function summaryOf(r: AggregateRow | undefined): Cell<SummaryCell> {
  const s = r?.s;
  if (!s || !s[0]) return SUPPRESSED;
  const num = (i: number) => s[i] ?? 0;
  return summaryCell({
    n: num(0),
    patients: num(1),
    sum: num(2),
    min: num(3),
    max: num(4),
    q: [num(5), num(6), num(7), num(8)],
  });
}

const countOfRow = (r: AggregateRow | undefined): Cell<CountCell> => (r ? countCell(r.n ?? 0, r.patients ?? 0) : ZERO);

function endReasons(rows: AggregateRow[]): { reason: string; plans: Cell<CountCell> }[] {
  const by = new Map<string, { count: number; patients: Set<string> }>();
  for (const r of rows) {
    const key = r.k1 ? normaliseReason(r.k1) : OTHER_REASON;
    const g = by.get(key) ?? { count: 0, patients: new Set<string>() };
    by.set(key, g);
    g.count += r.n ?? 0;
    for (const p of r.patientIds ?? []) g.patients.add(p);
  }
  const named: { reason: string; plans: Cell<CountCell> }[] = [];
  const other = { count: 0, patients: new Set<string>() };
  for (const [reason, g] of [...by.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (reason !== OTHER_REASON && g.patients.size >= SUPPRESSION_THRESHOLD)
      named.push({ reason, plans: countCell(g.count, g.patients.size) });
    else {
      other.count += g.count;
      for (const p of g.patients) other.patients.add(p);
    }
  }
  if (other.count > 0) named.push({ reason: OTHER_REASON, plans: countCell(other.count, other.patients.size) });
  return named;
}

/** The outcomes of one version from its aggregated rows (those of other versions are ignored). */
export function versionFromAggregates(version: number, all: readonly AggregateRow[]): VersionOutcomes {
  const rows = all.filter((r) => r.version === version);
  const of = (sec: string) => rows.filter((r) => r.sec === sec);
  const find = (sec: string, k1: string | null, k2: string | null = null) =>
    rows.find((r) => r.sec === sec && r.k1 === k1 && r.k2 === k2);

  const started = countOfRow(find('plans', null));
  const [completed, endedEarly, running] = protectPartition(started, [
    countOfRow(find('plans', 'completed')),
    countOfRow(find('plans', 'ended_early')),
    countOfRow(find('plans', 'active')),
  ]);
  const reasons = endReasons(of('reason'));
  const protectedReasons = protectPartition(
    endedEarly,
    reasons.map((r) => r.plans),
  );

  const kinds = [...new Set(of('sessions').map((r) => r.k1!))].sort();
  const sessions = kinds.map((kind) => {
    const c = (bucket: string) => countOfRow(find('sessions', kind, bucket));
    return {
      kind,
      completed: c('completed'),
      noShow: c('no_show'),
      cancelled: c('cancelled'),
      skipped: c('skipped'),
      cancelledByEndEarly: c('ended'),
      open: c('open'),
    };
  });

  const adherence = of('adherence')
    .sort((a, b) => a.k1!.localeCompare(b.k1!))
    .map((r) => ({ stepKey: r.k1!, kind: r.k2!, absDeviationDays: summaryOf(r) }));

  const doseGroups = of('dose.planned').map((r) => ({
    infusion: r.k1 === 'all' ? ('all' as const) : Number(r.k1),
    unit: r.k2!,
    planned: summaryOf(r),
    given: summaryOf(find('dose.given', r.k1, r.k2)),
  }));
  const dose = doseGroups.sort((a, b) =>
    a.unit === b.unit
      ? a.infusion === 'all'
        ? 1
        : b.infusion === 'all'
          ? -1
          : a.infusion - b.infusion
      : a.unit.localeCompare(b.unit),
  );

  const infusions = of('infusions')
    .map((r) => ({ infusion: Number(r.k1), n: r.n ?? 0 }))
    .sort((a, b) => a.infusion - b.infusion);
  const completedInfusions = infusions.reduce((s, i) => s + i.n, 0);
  const byMeasure = (get: (m: Measure) => AggregateRow | undefined) =>
    Object.fromEntries(MEASURES.map((m) => [m, summaryOf(get(m))])) as Record<Measure, Cell<SummaryCell>>;
  const halved = find('halved', null);
  const cravingHalved: Cell<ShareCell> = shareOf({
    n: halved?.n ?? 0,
    patients: halved?.patients ?? 0,
    hits: halved?.hits ?? 0,
    hitPatients: halved?.hitPatients ?? 0,
    missPatients: halved?.missPatients ?? 0,
  });

  const events = of('adverse')
    .sort((a, b) => a.k1!.localeCompare(b.k1!) || a.k2!.localeCompare(b.k2!))
    .map((r) => ({ term: r.k1!, severity: r.k2!, rate: rateOf(r.n ?? 0, r.patients ?? 0, completedInfusions) }))
    // A term seen in fewer than 5 patients is named nowhere: free text could itself identify someone.
    .filter((e) => !('suppressed' in e.rate));
  const rare = find('adverse.other', null);
  if (rare && (rare.n ?? 0) > 0)
    events.push({
      term: OTHER_REASON,
      severity: 'any',
      rate: rateOf(rare.n ?? 0, rare.patients ?? 0, completedInfusions),
    });

  return {
    version,
    plans: {
      started,
      completed,
      endedEarly,
      endedEarlyByReason: reasons.map((r, i) => ({ reason: r.reason, plans: protectedReasons[i] })),
      running,
    },
    sessions,
    adherence,
    dose,
    observations: {
      byInfusion: infusions.map(({ infusion }) => ({
        infusion,
        ...byMeasure((m) => find('observation', String(infusion), m)),
      })),
      firstToLast: byMeasure((m) => find('change', m)),
      cravingHalved,
    },
    adverseEvents: { completedInfusions, events },
  };
}

/** One aggregated row of the operations statement: a protocol version in a month (null: the whole period). */
export interface OperationsAggregate {
  protocolId: string;
  version: number;
  month: string | null;
  plans: number;
  patients: number;
  /** Sessions due (completed or no-show), of how many patients; no-shows, of how many; patients with a completed one. */
  due: number;
  duePatients: number;
  missed: number;
  missedPatients: number;
  attendedPatients: number;
  chair: SummaryAggregate;
  days: SummaryAggregate;
}

/** Rows per protocol (in the given order), version and month, then the version over the whole period. */
export function operationsFromAggregates(
  protocols: { id: string; name: string }[],
  rows: OperationsAggregate[],
): OperationsRow[] {
  const out: OperationsRow[] = [];
  for (const pr of protocols) {
    const mine = rows.filter((r) => r.protocolId === pr.id);
    for (const v of [...new Set(mine.map((r) => r.version))].sort((a, b) => a - b)) {
      const ofVersion = mine.filter((r) => r.version === v);
      const months = ofVersion.filter((r) => r.month !== null).sort((a, b) => (a.month! < b.month! ? -1 : 1));
      for (const r of [...months, ...ofVersion.filter((x) => x.month === null)])
        out.push({
          protocolId: pr.id,
          protocolName: pr.name,
          version: v,
          month: r.month ?? 'all',
          plansStarted: countCell(r.plans, r.patients),
          noShowRate: shareOf({
            n: r.due,
            patients: r.duePatients,
            hits: r.missed,
            hitPatients: r.missedPatients,
            missPatients: r.attendedPatients,
          }),
          chairHoursPerCompletedSeries: summaryCell(r.chair),
          daysBookingToFirstSession: summaryCell(r.days),
        });
    }
  }
  return out;
}
