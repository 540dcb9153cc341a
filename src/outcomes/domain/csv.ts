import type { OperationsRow } from './operations.js';
import type { VersionOutcomes } from './report.js';
import type { Cell } from './stats.js';

/** One CSV row: a version, what is measured, for which breakdown, and the cell's figures. */
export const CSV_COLUMNS = [
  'version',
  'section',
  'measure',
  'breakdown',
  'suppressed',
  'n',
  'patients',
  'count',
  'value',
  'mean',
  'median',
  'q1',
  'q3',
  'p90',
  'min',
  'max',
] as const;

type Row = Record<(typeof CSV_COLUMNS)[number], string | number | boolean | null>;

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled; a leading =,+,-,@ is neutralised for spreadsheets. */
export function csvField(v: string | number | boolean | null): string {
  if (v === null) return '';
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function cellRow(version: number | string, section: string, measure: string, breakdown: string, c: Cell<object>): Row {
  const r: Row = {
    version,
    section,
    measure,
    breakdown,
    suppressed: 'suppressed' in c,
    n: null,
    patients: null,
    count: null,
    value: null,
    mean: null,
    median: null,
    q1: null,
    q3: null,
    p90: null,
    min: null,
    max: null,
  };
  if ('suppressed' in c) return r;
  const x = c as Record<string, number>;
  r.n = x.n ?? x.denominator ?? null;
  r.patients = x.patients ?? null;
  r.count = x.count ?? null;
  r.value = x.share ?? x.per100 ?? null;
  for (const k of ['mean', 'median', 'q1', 'q3', 'p90', 'min', 'max'] as const) r[k] = x[k] ?? null;
  return r;
}

export function outcomesRows(versions: VersionOutcomes[]): Row[] {
  const rows: Row[] = [];
  for (const v of versions) {
    const at = (section: string, measure: string, breakdown: string, c: Cell<object>) =>
      rows.push(cellRow(v.version, section, measure, breakdown, c));
    at('plans', 'started', '', v.plans.started);
    at('plans', 'completed', '', v.plans.completed);
    at('plans', 'ended_early', '', v.plans.endedEarly);
    for (const r of v.plans.endedEarlyByReason) at('plans', 'ended_early_reason', r.reason, r.plans);
    at('plans', 'running', '', v.plans.running);
    for (const s of v.sessions) {
      at('sessions', 'completed', s.kind, s.completed);
      at('sessions', 'no_show', s.kind, s.noShow);
      at('sessions', 'cancelled', s.kind, s.cancelled);
      at('sessions', 'skipped', s.kind, s.skipped);
      at('sessions', 'cancelled_by_end_early', s.kind, s.cancelledByEndEarly);
      at('sessions', 'open', s.kind, s.open);
    }
    for (const a of v.adherence) at('adherence', 'abs_gap_deviation_days', a.stepKey, a.absDeviationDays);
    for (const d of v.dose) {
      at('dose', `planned_${d.unit}`, `infusion ${d.infusion}`, d.planned);
      at('dose', `given_${d.unit}`, `infusion ${d.infusion}`, d.given);
    }
    for (const o of v.observations.byInfusion) {
      at('observations', 'craving', `infusion ${o.infusion}`, o.craving);
      at('observations', 'cows', `infusion ${o.infusion}`, o.cows);
      at('observations', 'phq9', `infusion ${o.infusion}`, o.phq9);
      at('observations', 'gad7', `infusion ${o.infusion}`, o.gad7);
    }
    for (const m of ['craving', 'cows', 'phq9', 'gad7'] as const)
      at('observations', `${m}_change_first_to_last`, '', v.observations.firstToLast[m]);
    at('observations', 'craving_halved', '', v.observations.cravingHalved);
    for (const e of v.adverseEvents.events)
      at('adverse_events', 'per_100_infusions', `${e.term} (${e.severity})`, e.rate);
  }
  return rows;
}

export function operationsRows(rows: OperationsRow[]): Row[] {
  return rows.flatMap((r) => {
    const v = `${r.protocolName} v${r.version}`;
    return [
      cellRow(v, 'operations', 'plans_started', r.month, r.plansStarted),
      cellRow(v, 'operations', 'no_show_rate', r.month, r.noShowRate),
      cellRow(v, 'operations', 'chair_hours_per_completed_series', r.month, r.chairHoursPerCompletedSeries),
      cellRow(v, 'operations', 'days_booking_to_first_session', r.month, r.daysBookingToFirstSession),
    ];
  });
}

export function toCsv(rows: Row[]): string {
  return (
    [CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((c) => csvField(r[c])).join(','))].join('\r\n') + '\r\n'
  );
}
