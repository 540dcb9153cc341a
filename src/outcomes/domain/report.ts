import type { ProtocolStep } from '../../protocols/domain/protocol-step.js';
import { MEASURES, type GapTarget, type Measure, type PlanFact, type SessionFact } from './facts.js';
import {
  countCell,
  countOf,
  protectPartition,
  rateCell,
  shareCell,
  summarize,
  SUPPRESSION_THRESHOLD,
  type Cell,
  type CountCell,
  type Obs,
  type RateCell,
  type ShareCell,
  type SummaryCell,
} from './stats.js';

/** The report of one protocol version over the plans that started in the period. */
export interface VersionOutcomes {
  version: number;
  plans: {
    started: Cell<CountCell>;
    completed: Cell<CountCell>;
    endedEarly: Cell<CountCell>;
    /** Reasons shared by at least 5 patients, by name; the rest together as `other` (their text is never shown). */
    endedEarlyByReason: { reason: string; plans: Cell<CountCell> }[];
    running: Cell<CountCell>;
  };
  sessions: {
    kind: string;
    completed: Cell<CountCell>;
    noShow: Cell<CountCell>;
    cancelled: Cell<CountCell>;
    skipped: Cell<CountCell>;
    cancelledByEndEarly: Cell<CountCell>;
    open: Cell<CountCell>;
  }[];
  adherence: { stepKey: string; kind: string; absDeviationDays: Cell<SummaryCell> }[];
  dose: { infusion: number | 'all'; unit: string; planned: Cell<SummaryCell>; given: Cell<SummaryCell> }[];
  observations: {
    byInfusion: ({ infusion: number } & Record<Measure, Cell<SummaryCell>>)[];
    firstToLast: Record<Measure, Cell<SummaryCell>>;
    cravingHalved: Cell<ShareCell>;
  };
  adverseEvents: { completedInfusions: number; events: { term: string; severity: string; rate: Cell<RateCell> }[] };
}

export const OTHER_REASON = 'other';

/** The spacing target of each repeating step for one plan: the template's, or the plan's tailored one. */
export function spacingTargets(
  steps: ProtocolStep[],
  overrides: Record<string, number> | null,
): Record<string, GapTarget> {
  const out: Record<string, GapTarget> = {};
  for (const s of steps) {
    if (!s.spacing) continue;
    const o = overrides?.[s.key];
    out[s.key] = { target: typeof o === 'number' && Number.isFinite(o) ? o : s.spacing.target, unit: s.spacing.unit };
  }
  return out;
}

/**
 * How far each completed session lay from its spacing target: for every completed occurrence of
 * a repeating step, the gap to the previous completed occurrence of the same step in the same plan
 * (in days: local calendar days between the two actual starts; in hours: elapsed time from the end
 * of the earlier to the start of the later, in days), minus the target, in absolute value. A
 * session skipped or missed in between is part of the gap the patient lived.
 */
export function gapDeviations(plan: PlanFact): { stepKey: string; kind: string; deviation: number }[] {
  const out: { stepKey: string; kind: string; deviation: number }[] = [];
  const last = new Map<string, SessionFact>();
  const done = plan.sessions.filter((s) => s.status === 'completed').sort((a, b) => a.startMin - b.startMin);
  for (const s of done) {
    const target = plan.spacing[s.stepKey];
    const prev = last.get(s.stepKey);
    last.set(s.stepKey, s);
    if (!target || !prev) continue;
    const actualDays = target.unit === 'days' ? s.day - prev.day : (s.startMin - prev.endMin) / (24 * 60);
    const targetDays = target.unit === 'days' ? target.target : target.target / 24;
    out.push({ stepKey: s.stepKey, kind: s.kind, deviation: Math.abs(actualDays - targetDays) });
  }
  return out;
}

/** The plan's completed infusions in order: the patient's 1st, 2nd, … infusion received. */
const completedInfusions = (p: PlanFact): SessionFact[] =>
  p.sessions.filter((s) => s.kind === 'infusion' && s.status === 'completed').sort((a, b) => a.startMin - b.startMin);

/** An end-early reason as the report groups it: trimmed, spaces collapsed, lower case. */
export const normaliseReason = (text: string) => text.trim().replace(/\s+/g, ' ').toLowerCase();

function endReasons(plans: PlanFact[]): { reason: string; plans: Cell<CountCell> }[] {
  const by = new Map<string, PlanFact[]>();
  for (const p of plans) {
    const r = p.endReason ? normaliseReason(p.endReason) : OTHER_REASON;
    const list = by.get(r) ?? [];
    by.set(r, list);
    list.push(p);
  }
  const named: { reason: string; plans: Cell<CountCell> }[] = [];
  const other: PlanFact[] = [];
  for (const [reason, ps] of [...by.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (reason !== OTHER_REASON && new Set(ps.map((p) => p.patient)).size >= SUPPRESSION_THRESHOLD)
      named.push({ reason, plans: countOf(ps) });
    else other.push(...ps);
  }
  if (other.length > 0) named.push({ reason: OTHER_REASON, plans: countOf(other) });
  return named;
}

function sessionsByKind(plans: PlanFact[]): VersionOutcomes['sessions'] {
  // Per kind and report status: how many sessions, and of which patients.
  const by = new Map<string, Map<string, { count: number; patients: Set<string> }>>();
  for (const p of plans) {
    for (const c of p.statusCounts) {
      const kind = by.get(c.kind) ?? new Map<string, { count: number; patients: Set<string> }>();
      by.set(c.kind, kind);
      const cell = kind.get(c.status) ?? { count: 0, patients: new Set<string>() };
      kind.set(c.status, cell);
      cell.count += c.n;
      cell.patients.add(p.patient);
    }
  }
  return [...by.keys()].sort().map((kind) => {
    const of = (...statuses: string[]) => {
      const cells = statuses.map((st) => by.get(kind)!.get(st)).filter((c) => c !== undefined);
      return countCell(
        cells.reduce((n, c) => n + c.count, 0),
        new Set(cells.flatMap((c) => [...c.patients])).size,
      );
    };
    return {
      kind,
      completed: of('completed'),
      noShow: of('no_show'),
      cancelled: of('cancelled'),
      skipped: of('skipped'),
      cancelledByEndEarly: of('ended'),
      open: of('scheduled', 'checked_in'),
    };
  });
}

function doses(plans: PlanFact[]): VersionOutcomes['dose'] {
  const groups = new Map<string, { infusion: number | 'all'; unit: string; planned: Obs[]; given: Obs[] }>();
  const add = (
    infusion: number | 'all',
    unit: string,
    planned: number | null,
    given: number | null,
    patient: string,
  ) => {
    const key = `${infusion}|${unit}`;
    const g = groups.get(key) ?? { infusion, unit, planned: [], given: [] };
    groups.set(key, g);
    if (planned !== null) g.planned.push({ value: planned, patient });
    if (given !== null) g.given.push({ value: given, patient });
  };
  for (const p of plans) {
    completedInfusions(p).forEach((s, i) => {
      const unit = s.planned?.unit ?? s.given?.unit;
      if (!unit) return;
      // Only amounts in the same unit are compared; a given dose in another unit is left out.
      const given = s.given && s.given.unit === unit ? s.given.amount : null;
      add(i + 1, unit, s.planned?.amount ?? null, given, p.patient);
      add('all', unit, s.planned?.amount ?? null, given, p.patient);
    });
  }
  return [...groups.values()]
    .sort((a, b) =>
      a.unit === b.unit
        ? a.infusion === 'all'
          ? 1
          : b.infusion === 'all'
            ? -1
            : a.infusion - b.infusion
        : a.unit.localeCompare(b.unit),
    )
    .map((g) => ({ infusion: g.infusion, unit: g.unit, planned: summarize(g.planned), given: summarize(g.given) }));
}

function observations(plans: PlanFact[]): VersionOutcomes['observations'] {
  const byIndex = new Map<number, Record<Measure, Obs[]>>();
  const firstLast: Record<Measure, Obs[]> = { craving: [], cows: [], phq9: [], gad7: [] };
  const halved: { patient: string; hit: boolean }[] = [];
  for (const p of plans) {
    const series: Record<Measure, number[]> = { craving: [], cows: [], phq9: [], gad7: [] };
    completedInfusions(p).forEach((s, i) => {
      const row = byIndex.get(i + 1) ?? { craving: [], cows: [], phq9: [], gad7: [] };
      byIndex.set(i + 1, row);
      for (const m of MEASURES) {
        const v = s.scores[m];
        if (v === undefined) continue;
        row[m].push({ value: v, patient: p.patient });
        series[m].push(v);
      }
    });
    for (const m of MEASURES) {
      const xs = series[m];
      if (xs.length >= 2) firstLast[m].push({ value: xs[xs.length - 1] - xs[0], patient: p.patient });
    }
    const c = series.craving;
    // A fall by half needs a first score above zero to fall from.
    if (c.length >= 2 && c[0] > 0) halved.push({ patient: p.patient, hit: c[c.length - 1] <= c[0] / 2 });
  }
  const summarise = (r: Record<Measure, Obs[]>) =>
    Object.fromEntries(MEASURES.map((m) => [m, summarize(r[m])])) as Record<Measure, Cell<SummaryCell>>;
  return {
    byInfusion: [...byIndex.entries()]
      .sort(([a], [b]) => a - b)
      .map(([infusion, r]) => ({ infusion, ...summarise(r) })),
    firstToLast: summarise(firstLast),
    cravingHalved: shareCell(halved),
  };
}

function adverseEvents(plans: PlanFact[]): VersionOutcomes['adverseEvents'] {
  let infusions = 0;
  const by = new Map<string, { term: string; severity: string; events: { patient: string }[] }>();
  for (const p of plans) {
    for (const s of completedInfusions(p)) {
      infusions++;
      for (const a of s.adverse) {
        const key = `${a.term}|${a.severity}`;
        const g = by.get(key) ?? { term: a.term, severity: a.severity, events: [] };
        by.set(key, g);
        g.events.push({ patient: p.patient });
      }
    }
  }
  const events = [...by.values()]
    .sort((a, b) => a.term.localeCompare(b.term) || a.severity.localeCompare(b.severity))
    .map((g) => ({ term: g.term, severity: g.severity, rate: rateCell(g.events, infusions) }))
    // A term seen in fewer than 5 patients is named nowhere: free text could itself identify someone.
    .filter((e) => !('suppressed' in e.rate));
  const rare = [...by.values()].filter((g) => new Set(g.events.map((e) => e.patient)).size < SUPPRESSION_THRESHOLD);
  if (rare.length > 0)
    events.push({
      term: OTHER_REASON,
      severity: 'any',
      rate: rateCell(
        rare.flatMap((g) => g.events),
        infusions,
      ),
    });
  return { completedInfusions: infusions, events };
}

/**
 * The outcomes of one version's plans (those that started in the period), computed plan by plan.
 * The service aggregates the cohort's outcome facts, kept by the database (cohort.ts, aggregates.ts);
 * this, fed from the raw rows, is the reference it is held to (test/api/outcomes-aggregates.spec.ts,
 * test/api/outcome-facts.spec.ts), kept simple and checked against hand-computed figures.
 */
export function versionOutcomes(version: number, plans: PlanFact[]): VersionOutcomes {
  const started = countOf(plans);
  const ended = plans.filter((p) => p.status === 'ended_early');
  const [completed, endedEarly, running] = protectPartition(started, [
    countOf(plans.filter((p) => p.status === 'completed')),
    countOf(ended),
    countOf(plans.filter((p) => p.status === 'active')),
  ]);
  const endedTotal = endedEarly;
  const reasons = endReasons(ended);
  const protectedReasons = protectPartition(
    endedTotal,
    reasons.map((r) => r.plans),
  );

  const deviations = new Map<string, { kind: string; obs: Obs[] }>();
  for (const p of plans) {
    for (const d of gapDeviations(p)) {
      const g = deviations.get(d.stepKey) ?? { kind: d.kind, obs: [] };
      deviations.set(d.stepKey, g);
      g.obs.push({ value: d.deviation, patient: p.patient });
    }
  }
  return {
    version,
    plans: {
      started,
      completed,
      endedEarly,
      endedEarlyByReason: reasons.map((r, i) => ({ reason: r.reason, plans: protectedReasons[i] })),
      running,
    },
    sessions: sessionsByKind(plans),
    adherence: [...deviations.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([stepKey, g]) => ({ stepKey, kind: g.kind, absDeviationDays: summarize(g.obs) })),
    dose: doses(plans),
    observations: observations(plans),
    adverseEvents: adverseEvents(plans),
  };
}
