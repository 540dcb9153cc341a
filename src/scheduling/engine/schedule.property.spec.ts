import fc from 'fast-check';
import { DateTime, IANAZone } from 'luxon';
import type { Gap, ProtocolStep, StepAttachment, StepStaffRole } from '../../protocols/domain/protocol-step.js';
import { tailor } from '../../protocols/domain/tailor.js';
import { schedule as scheduleV1 } from '../../../test/engine-frozen/schedule-v1.js';
import { differentialCases, epochMinute, makeRequest } from './fixtures.js';
import { horizonDaysFor, schedule } from './schedule.js';
import { BookingIndex } from './booking-index.js';
import type {
  BookedSession,
  EngineChair,
  EngineClosure,
  EngineStaff,
  PlacedSession,
  ScheduleRequest,
  ScheduleResult,
  SessionToPlace,
  WeeklyInterval,
} from './types.js';

/*
 * Property tests of the scheduling engine against an independent checker.
 *
 * `violations` re-states every rule of SPEC "Scheduling rules" as the engine documents them,
 * without any of the engine's code: local times are converted with luxon's zone offsets only,
 * through `localToEpoch` / `localOf` written here. `bruteForce` enumerates every (start, chair,
 * staff) of tiny instances. The properties:
 *   (a) every 'planned' result has every session and breaks no rule; every refusal names a session,
 *       and an earliest start it reports is past the window and gives a plan when asked from there;
 *   (b) on tiny instances the engine plans iff brute force finds a plan, and reports the same
 *       earliest workable start;
 *   (c) the same request gives the same result;
 *   (d) with heavy existing bookings: a refusal only when no single first day of the window admits
 *       a plan (the engine asked day by day, and brute force on tiny cases), and the earliest start
 *       it names admits one while no earlier day does;
 *   (e) plans identical to the engine before issue 13 (frozen in test/engine-frozen) wherever that one planned.
 * Each runs for zones whose clocks change by an hour away from midnight, for Lord Howe (30-minute
 * change) and for Havana/Santiago (change at midnight), with dates next to the changes.
 *
 * ENGINE_PROPERTY_RUNS=2000 runs every property ten times as often (default 200).
 */

// ---------------------------------------------------------------------------------------------
// Local time, independently of the engine
// ---------------------------------------------------------------------------------------------

const DAY_MS = 86_400_000;
const toMinutes = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
};
const addDays = (date: string, n: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
const daysBetween = (from: string, to: string) =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
const isoUtc = (m: number) => new Date(m * 60000).toISOString();

const zones = new Map<string, IANAZone>();
const zoneOf = (name: string) => {
  let z = zones.get(name);
  if (!z) zones.set(name, (z = IANAZone.create(name)));
  return z;
};
/** UTC offset in minutes at an instant (epoch minutes). */
const offsetAt = (zone: string, u: number) => zoneOf(zone).offset(u * 60000);

const l2eCache = new Map<string, { at: number | null; after: number }>();
/**
 * Local wall time → instant. `at`: the first occurrence, or null when the time does not exist;
 * `after`: the same, except that a time inside a gap gives the first instant after the gap (how
 * a bound of an interval that falls into the skipped hour is read).
 */
function localToEpoch(zone: string, date: string, minute: number): { at: number | null; after: number } {
  const key = `${zone}|${date}|${minute}`;
  const hit = l2eCache.get(key);
  if (hit) return hit;
  const wall = Date.parse(`${date}T00:00:00Z`) / 60000 + minute;
  // The offsets in force 30 h either side: every zone used here changes at most once within 60 h,
  // and the instants of a wall time lie within 14 h of it.
  const offsets = [...new Set([offsetAt(zone, wall - 30 * 60), offsetAt(zone, wall + 30 * 60)])];
  const valid = offsets.map((o) => wall - o).filter((u) => offsetAt(zone, u) === wall - u);
  let out: { at: number | null; after: number };
  if (valid.length) {
    const at = Math.min(...valid);
    out = { at, after: at };
  } else {
    // In a gap: the transition instant lies between wall - max(offset) and wall - min(offset).
    let lo = wall - Math.max(...offsets);
    let hi = wall - Math.min(...offsets);
    const before = offsetAt(zone, lo);
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (offsetAt(zone, mid) === before) lo = mid;
      else hi = mid;
    }
    out = { at: null, after: hi };
  }
  l2eCache.set(key, out);
  return out;
}

interface Local {
  date: string;
  minute: number;
  weekday: number;
}
const localCache = new Map<string, Local>();
/** Instant → local date, wall minute and ISO weekday. */
function localOf(zone: string, u: number): Local {
  const key = `${zone}|${u}`;
  let hit = localCache.get(key);
  if (!hit) {
    const dt = DateTime.fromMillis(u * 60000, { zone });
    hit = { date: dt.toISODate()!, minute: dt.hour * 60 + dt.minute, weekday: dt.weekday };
    if (localCache.size > 500_000) localCache.clear();
    localCache.set(key, hit);
  }
  return hit;
}

/** A weekly interval on a date as instants [start, end); bounds inside a gap move past it. */
function spanOn(zone: string, date: string, start: string, end: string): [number, number] {
  const a = localToEpoch(zone, date, toMinutes(start)).after;
  const e = toMinutes(end);
  const b = e >= 1440 ? localToEpoch(zone, addDays(date, 1), e - 1440).after : localToEpoch(zone, date, e).after;
  return [a, b];
}

const overlaps = (a0: number, a1: number, b0: number, b1: number) => a0 < b1 && b0 < a1;

// ---------------------------------------------------------------------------------------------
// The independent checker
// ---------------------------------------------------------------------------------------------

/**
 * Every rule a plan breaks, in words. With `partial`, sessions missing from the plan are not
 * reported and constraints are checked only where both sessions are placed (used by the brute
 * force to prune; every rule is monotone, so a partial plan's violations stay in any extension).
 * The start window bounds the plan's start, its first session; `rootDate`, when given, replaces
 * it: the plan must start on exactly that date (checked on complete plans only).
 */
function violations(
  req: ScheduleRequest,
  plan: PlacedSession[],
  opts: { partial?: boolean; rootDate?: string } = {},
): string[] {
  const out: string[] = [];
  const zone = req.timezone;
  const g = req.granularityMinutes ?? 15;
  const window = req.startWindowDays ?? 14;
  const byRef = new Map<string, PlacedSession>();
  for (const p of plan) {
    if (byRef.has(p.ref)) out.push(`${p.ref}: placed twice`);
    byRef.set(p.ref, p);
  }
  const wanted = new Map(req.sessions.map((s) => [s.ref, s]));
  for (const p of plan) if (!wanted.has(p.ref)) out.push(`${p.ref}: not a session of the request`);
  if (!opts.partial) for (const s of req.sessions) if (!byRef.has(s.ref)) out.push(`${s.ref}: missing from the plan`);

  if (!opts.partial && plan.length > 0) {
    const first = plan.reduce((a, b) => (b.start < a.start ? b : a));
    const date = localOf(zone, first.start).date;
    if (opts.rootDate !== undefined) {
      if (date !== opts.rootDate) out.push(`${first.ref}: the plan starts ${date}, not on ${opts.rootDate}`);
    } else if (daysBetween(req.earliestStart, date) >= window)
      out.push(`${first.ref}: ${date} is outside the ${window}-day start window`);
  }

  const chairIds = new Set(req.chairs.map((c) => c.id));
  const staffById = new Map(req.staff.map((s) => [s.id, s]));

  for (const s of req.sessions) {
    const p = byRef.get(s.ref);
    if (!p) continue;
    const at = localOf(zone, p.start);
    const r = s.ref;
    // What the session is
    if (
      p.stepKey !== s.stepKey ||
      p.occurrence !== s.occurrence ||
      p.occurrences !== s.occurrences ||
      p.kind !== s.kind ||
      p.label !== s.label
    ) {
      out.push(`${r}: identity fields differ from the request`);
    }
    if (JSON.stringify(p.dose) !== JSON.stringify(s.dose)) out.push(`${r}: dose differs from the request`);
    if (p.end !== p.start + s.durationMinutes) out.push(`${r}: end ${p.end} ≠ start + ${s.durationMinutes}`);
    if (p.occupiedUntil !== p.end + s.recoveryMinutes)
      out.push(`${r}: occupiedUntil ≠ end + ${s.recoveryMinutes} recovery`);
    const occ: [number, number] = [p.start, p.start + s.durationMinutes + s.recoveryMinutes];
    // Reported local time, candidate grid, existing and first occurrence
    const hhmm = `${String(Math.floor(at.minute / 60)).padStart(2, '0')}:${String(at.minute % 60).padStart(2, '0')}`;
    if (p.localDate !== at.date || p.localTime !== hhmm)
      out.push(`${r}: reported ${p.localDate} ${p.localTime} but starts ${at.date} ${hhmm} local (${isoUtc(p.start)})`);
    if (at.minute % g !== 0) out.push(`${r}: ${hhmm} is not a multiple of ${g} minutes`);
    if (localToEpoch(zone, at.date, at.minute).at !== p.start)
      out.push(`${r}: ${isoUtc(p.start)} is the second occurrence of ${at.date} ${hhmm}`);
    // Time
    if (p.start < req.now) out.push(`${r}: starts before now`);
    if (at.date < req.earliestStart) out.push(`${r}: ${at.date} is before earliestStart ${req.earliestStart}`);

    // Opening hours and closures
    const open = req.openingHours
      .filter((w) => w.weekday === at.weekday)
      .map((w) => spanOn(zone, at.date, w.start, w.end));
    if (!open.some(([a, b]) => a <= occ[0] && occ[1] <= b))
      out.push(`${r}: ${at.date} ${hhmm}+${occ[1] - occ[0]}min is not inside one opening interval`);
    for (const c of req.closures) {
      const a = localToEpoch(zone, c.startDate, c.startTime ? toMinutes(c.startTime) : 0).after;
      const endMin = c.endTime ? toMinutes(c.endTime) : 1440;
      const b =
        endMin >= 1440
          ? localToEpoch(zone, addDays(c.endDate, 1), endMin - 1440).after
          : localToEpoch(zone, c.endDate, endMin).after;
      if (overlaps(occ[0], occ[1], a, b)) out.push(`${r}: overlaps closure '${c.reason}'`);
    }
    if (s.weekdays && !s.weekdays.includes(at.weekday)) out.push(`${r}: weekday ${at.weekday} not allowed`);
    // Patient
    if (req.patient.unavailableDates.includes(at.date)) out.push(`${r}: patient unavailable on ${at.date}`);
    for (const w of req.patient.unavailable.filter((x) => x.weekday === at.weekday)) {
      const [a, b] = spanOn(zone, at.date, w.start, w.end);
      if (overlaps(occ[0], occ[1], a, b)) out.push(`${r}: patient unavailable ${w.start}–${w.end}`);
    }
    for (const b of req.booked)
      if (b.patientId === req.patient.id && overlaps(occ[0], occ[1], b.start, b.end))
        out.push(`${r}: patient already booked ${isoUtc(b.start)}`);
    // Chair
    if (s.needsChair) {
      if (!p.chairId || !chairIds.has(p.chairId)) out.push(`${r}: needs a chair, got ${p.chairId}`);
      else
        for (const b of req.booked)
          if (b.chairId === p.chairId && overlaps(occ[0], occ[1], b.start, b.end))
            out.push(`${r}: ${p.chairId} booked ${isoUtc(b.start)}`);
    } else if (p.chairId !== null) out.push(`${r}: needs no chair, got ${p.chairId}`);
    // Staff
    if (s.staffRole) {
      const st = p.staffId ? staffById.get(p.staffId) : undefined;
      if (!st || st.role !== s.staffRole) out.push(`${r}: needs a ${s.staffRole}, got ${p.staffId}`);
      else {
        const hours = st.availability
          .filter((w) => w.weekday === at.weekday)
          .map((w) => spanOn(zone, at.date, w.start, w.end));
        if (!hours.some(([a, b]) => a <= occ[0] && occ[1] <= b))
          out.push(`${r}: ${st.id} is not available for all of it`);
        const spans = [
          ...req.booked.filter((b) => b.staffId === st.id).map((b) => [b.start, b.end]),
          ...plan.filter((q) => q.staffId === st.id && q.ref !== p.ref).map((q) => [q.start, q.occupiedUntil]),
        ].filter(([a, b]) => overlaps(occ[0], occ[1], a, b));
        for (const t of [occ[0], ...spans.map(([a]) => a).filter((a) => a > occ[0] && a < occ[1])]) {
          const n = 1 + spans.filter(([a, b]) => a <= t && t < b).length;
          if (n > st.maxConcurrentPatients) {
            out.push(`${r}: ${st.id} has ${n} patients at ${isoUtc(t)} (limit ${st.maxConcurrentPatients})`);
            break;
          }
        }
      }
    } else if (p.staffId !== null) out.push(`${r}: needs no staff, got ${p.staffId}`);
    // Gaps
    for (const c of s.constraints) {
      const a = byRef.get(c.ref);
      if (!a) continue;
      const aDate = localOf(zone, a.start).date;
      if (c.sameDay && aDate !== at.date) out.push(`${r}: not on the same day as ${c.ref}`);
      const diff =
        c.gap.unit === 'days'
          ? c.relation === 'after'
            ? daysBetween(aDate, at.date)
            : daysBetween(at.date, aDate)
          : c.relation === 'after'
            ? p.start - a.occupiedUntil
            : a.start - p.occupiedUntil;
      const [lo, hi] = c.gap.unit === 'days' ? [c.gap.min, c.gap.max] : [c.gap.min * 60, c.gap.max * 60];
      if (diff < lo || diff > hi)
        out.push(
          `${r}: gap ${c.relation} ${c.ref} is ${diff} ${c.gap.unit === 'days' ? 'days' : 'minutes'}, outside [${lo}, ${hi}]`,
        );
    }
  }
  // The patient is never in two places; a chair never holds two of the plan's sessions
  const sorted = [...plan].sort((x, y) => x.start - y.start);
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      const x = sorted[i];
      const y = sorted[j];
      if (overlaps(x.start, x.occupiedUntil, y.start, y.occupiedUntil))
        out.push(`${x.ref} and ${y.ref} overlap (patient in two places)`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Brute force on tiny instances
// ---------------------------------------------------------------------------------------------

/** Days after earliestStart that any plan can reach (roots within `rootDays`). */
function reachDays(sessions: SessionToPlace[], rootDays: number): number {
  let reach = rootDays;
  for (const s of sessions) {
    for (const c of s.constraints) {
      const occupy = s.durationMinutes + s.recoveryMinutes;
      reach += c.gap.unit === 'days' ? c.gap.max : Math.ceil((c.gap.max * 60 + 2 * occupy) / 1440) + 1;
    }
  }
  return reach + 2;
}

/**
 * Is there any valid plan? Enumerates every (start, chair, staff) for every session — starts are
 * the first occurrences of local wall times on the granularity grid — and backtracks on the
 * checker's partial verdict.
 */
function bruteForce(req: ScheduleRequest, opts: { rootDate?: string } = {}): PlacedSession[] | null {
  const g = req.granularityMinutes ?? 15;
  const rootDays = opts.rootDate ? daysBetween(req.earliestStart, opts.rootDate) + 1 : (req.startWindowDays ?? 14);
  const days = reachDays(req.sessions, rootDays);
  const candidates: PlacedSession[][] = req.sessions.map((s) => {
    const list: PlacedSession[] = [];
    for (let k = 0; k < days; k++) {
      const date = addDays(req.earliestStart, k);
      for (let wall = 0; wall < 1440; wall += g) {
        const start = localToEpoch(req.timezone, date, wall).at;
        if (start === null) continue;
        const chairs = s.needsChair ? req.chairs.map((c) => c.id) : [null];
        const staff = s.staffRole ? req.staff.filter((st) => st.role === s.staffRole).map((st) => st.id) : [null];
        for (const chairId of chairs) {
          for (const staffId of staff) {
            const p: PlacedSession = {
              ref: s.ref,
              stepKey: s.stepKey,
              occurrence: s.occurrence,
              occurrences: s.occurrences,
              kind: s.kind,
              label: s.label,
              start,
              end: start + s.durationMinutes,
              occupiedUntil: start + s.durationMinutes + s.recoveryMinutes,
              localDate: date,
              localTime: `${String(Math.floor(wall / 60)).padStart(2, '0')}:${String(wall % 60).padStart(2, '0')}`,
              chairId,
              staffId,
              dose: s.dose,
            };
            if (violations(req, [p], { partial: true, rootDate: opts.rootDate }).length === 0) list.push(p);
          }
        }
      }
    }
    return list;
  });
  const chosen: PlacedSession[] = [];
  const go = (i: number): boolean => {
    if (i === req.sessions.length) return violations(req, chosen, { rootDate: opts.rootDate }).length === 0;
    for (const p of candidates[i]) {
      chosen.push(p);
      if (violations(req, chosen, { partial: true, rootDate: opts.rootDate }).length === 0 && go(i + 1)) return true;
      chosen.pop();
    }
    return false;
  };
  return go(0) ? [...chosen] : null;
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

/** Zones whose clocks change by a whole hour away from midnight (or never), and dates next to those changes. */
const ZONES_WHOLE_HOUR: [string, string[]][] = [
  [
    'America/New_York',
    ['2026-03-06', '2026-03-07', '2026-03-08', '2026-10-30', '2026-10-31', '2026-11-01', '2026-06-10'],
  ],
  ['Europe/London', ['2026-03-27', '2026-03-29', '2026-10-24', '2026-10-25']],
  ['Asia/Kolkata', ['2026-03-07', '2026-12-30']],
  ['UTC', ['2026-02-26', '2026-07-01']],
];
/** A zone whose clocks change by 30 minutes (at 02:00). */
const ZONES_HALF_HOUR: [string, string[]][] = [
  ['Australia/Lord_Howe', ['2026-04-03', '2026-04-04', '2026-04-05', '2026-10-02', '2026-10-03', '2026-10-04']],
];
/** Zones whose clocks change at local midnight. */
const ZONES_AT_MIDNIGHT: [string, string[]][] = [
  ['America/Havana', ['2026-03-06', '2026-03-07', '2026-03-08', '2026-10-30', '2026-10-31', '2026-11-01']],
  ['America/Santiago', ['2026-04-02', '2026-04-03', '2026-04-04', '2026-09-04', '2026-09-05', '2026-09-06']],
];
const zoneAndDate = (table: [string, string[]][]) =>
  fc.constantFrom(...table.flatMap(([z, ds]) => ds.map((d) => [z, d] as const)));

/** `arb` with probability `p`, else null. */
const maybe = <T>(arb: fc.Arbitrary<T>, p: number): fc.Arbitrary<T | null> =>
  fc.oneof(
    { weight: Math.round(p * 100), arbitrary: arb },
    { weight: Math.round((1 - p) * 100), arbitrary: fc.constant(null) },
  );

const hhmmOf = (m: number) =>
  m === 1440 ? '24:00' : `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
/** An interval [start, end) on a quarter-hour grid, ending by 24:00 (longer ones likelier); sometimes the whole day. */
const interval = (minStart = 0, maxStart = 22 * 60, maxLen = 14 * 60) =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constant(['00:00', '24:00'] as const) },
    {
      weight: 5,
      arbitrary: fc
        .tuple(
          fc.integer({ min: minStart / 15, max: maxStart / 15 }),
          fc.integer({ min: 1, max: maxLen / 15 }),
          fc.integer({ min: 1, max: maxLen / 15 }),
        )
        .map(([a, l1, l2]) => [hhmmOf(a * 15), hhmmOf(Math.min(1440, (a + Math.max(l1, l2)) * 15))] as const),
    },
  );
const weeklyArb = (maxLength: number, iv = interval()) =>
  fc
    .array(fc.tuple(fc.integer({ min: 1, max: 7 }), iv), { maxLength })
    .map((list): WeeklyInterval[] => list.map(([weekday, [start, end]]) => ({ weekday, start, end })));
/** Open on most days: each weekday gets an interval with probability 0.8, and a second one with 0.25. */
const openingArb = (iv = interval()) =>
  fc
    .array(maybe(fc.tuple(iv, maybe(iv, 0.25)), 0.8), { minLength: 7, maxLength: 7 })
    .map((days): WeeklyInterval[] =>
      days.flatMap((d, i) =>
        d === null ? [] : [d[0], ...(d[1] ? [d[1]] : [])].map(([start, end]) => ({ weekday: i + 1, start, end })),
      ),
    );

const ROLES: StepStaffRole[] = ['nurse', 'physician', 'therapist'];

const gapArb = (unit: 'days' | 'hours'): fc.Arbitrary<Gap> =>
  (unit === 'days'
    ? fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 100 }))
    : fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 100 }))
  ).map(([min, span, t]) => ({ min, max: min + span, target: min + Math.round((span * t) / 100), unit }));

interface StepSpec {
  duration: number;
  recovery: number;
  needsChair: boolean;
  staffRole: StepStaffRole | null;
  repeat: number;
  spacing: Gap;
  sameTimeOfDay: boolean;
  weekdays: number[] | null;
  /** For steps after the first: none, `after` an earlier step, or attached to one. */
  link:
    | { type: 'none' }
    | { type: 'after'; to: number; gap: Gap }
    | { type: 'attached'; to: number; position: 'after' | 'before'; gap: Gap; sameDay: boolean };
}

const stepArb = (opts: { maxRepeat: number; durations: number[] }): fc.Arbitrary<StepSpec> =>
  fc.record({
    duration: fc.constantFrom(...opts.durations),
    recovery: fc.constantFrom(0, 0, 15, 30, 60),
    needsChair: fc.boolean(),
    staffRole: maybe(fc.constantFrom<StepStaffRole>('nurse', 'nurse', 'nurse', 'physician', 'therapist'), 0.7),
    repeat: fc.integer({ min: 1, max: opts.maxRepeat }),
    spacing: fc.oneof(gapArb('days'), gapArb('hours')),
    sameTimeOfDay: fc.boolean(),
    weekdays: maybe(fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 3, maxLength: 7 }), 0.25),
    link: fc.oneof(
      fc.constant({ type: 'none' as const }),
      fc.record({ type: fc.constant('after' as const), to: fc.nat(), gap: fc.oneof(gapArb('days'), gapArb('hours')) }),
      fc.record({
        type: fc.constant('attached' as const),
        to: fc.nat(),
        position: fc.constantFrom('after' as const, 'before' as const),
        gap: fc.oneof(gapArb('hours'), gapArb('days')),
        sameDay: fc.boolean(),
      }),
    ),
  });

/** Steps as a template; links point at earlier non-attached steps (else the step stands alone). */
function toSteps(specs: StepSpec[], singleRoot: boolean): ProtocolStep[] {
  const steps: ProtocolStep[] = [];
  specs.forEach((sp, i) => {
    const roots = steps.filter((s) => !s.attachedTo);
    const step: ProtocolStep = {
      key: `s${i}`,
      kind: i === 0 ? 'consult' : 'infusion',
      label: `Step ${i}`,
      durationMinutes: sp.duration,
      recoveryMinutes: sp.recovery,
      needsChair: sp.needsChair,
      staffRole: sp.staffRole,
      repeat: sp.repeat,
      spacing: sp.spacing,
      sameTimeOfDay: sp.sameTimeOfDay,
      ...(sp.weekdays ? { weekdays: [...sp.weekdays].sort() } : {}),
    };
    let link = sp.link;
    if (i > 0 && singleRoot && link.type === 'none') link = { type: 'after', to: 0, gap: sp.spacing };
    if (i > 0 && link.type === 'after') step.after = { step: roots[link.to % roots.length].key, gap: link.gap };
    if (i > 0 && link.type === 'attached') {
      const attachedTo: StepAttachment = {
        step: roots[link.to % roots.length].key,
        position: link.position,
        gap: link.gap,
        sameDay: link.sameDay,
      };
      step.attachedTo = attachedTo;
      step.repeat = 1;
      delete step.spacing;
    }
    if (step.repeat === 1) delete step.spacing;
    steps.push(step);
  });
  return steps;
}

function sessionsOf(steps: ProtocolStep[]): SessionToPlace[] {
  const t = tailor(steps, { weightKg: 70 });
  if (!t.ok) throw new Error(`tailor refused a generated template: ${JSON.stringify(t.errors)}`);
  return t.sessions;
}

interface Clinic {
  zone: string;
  earliestStart: string;
  granularity: number;
  opening: WeeklyInterval[];
  closures: EngineClosure[];
  chairs: EngineChair[];
  staff: EngineStaff[];
  booked: BookedSession[];
  patient: ScheduleRequest['patient'];
  now: number;
  window: number;
  probe: number;
  /** The clinic's levelling (issue 17); unset: off. */
  levelling?: 'balanced';
}

const closureArb = (earliestStart: string, days: number) =>
  fc
    .record({
      from: fc.integer({ min: 0, max: days - 1 }),
      len: fc.constantFrom(0, 0, 0, 1, 2),
      startTime: maybe(fc.integer({ min: 0, max: 95 }), 0.6),
      endTime: maybe(fc.integer({ min: 1, max: 96 }), 0.6),
    })
    .map(({ from, len, startTime, endTime }): EngineClosure => {
      let s = startTime;
      let e = endTime;
      if (len === 0 && s !== null && e !== null && e <= s) [s, e] = [e - 1, s + 1];
      return {
        startDate: addDays(earliestStart, from),
        endDate: addDays(earliestStart, from + len),
        startTime: s === null ? null : hhmmOf(s * 15),
        endTime: e === null ? null : hhmmOf(e * 15),
        reason: `closure ${from}`,
      };
    });

const clinicArb = (o: {
  zones: [string, string[]][];
  granularity: fc.Arbitrary<number>;
  window: fc.Arbitrary<number>;
  extraProbe: fc.Arbitrary<number>;
  maxChairs: number;
  maxStaff: number;
  maxBooked: number;
  iv?: fc.Arbitrary<readonly [string, string]>;
}): fc.Arbitrary<Clinic> =>
  fc
    .tuple(zoneAndDate(o.zones), o.granularity, o.window, o.extraProbe)
    .chain(([[zone, earliestStart], granularity, window, extra]) => {
      const probe = window + extra;
      const days = probe + 3;
      const base = localToEpoch(zone, earliestStart, 0).after;
      const chairs = fc
        .integer({ min: 1, max: o.maxChairs })
        .map((n) => Array.from({ length: n }, (_, i) => ({ id: `chair-${i + 1}`, name: `Chair ${i + 1}` })));
      return fc
        .record({
          opening: openingArb(o.iv),
          closures: fc.array(closureArb(earliestStart, days), { maxLength: 2 }),
          chairs,
          staffSpecs: fc.array(
            fc.record({
              role: fc.constantFrom(...ROLES),
              // Mostly staff-1 a nurse, staff-2 a physician, staff-3 a therapist
              sameAsIndex: fc.constantFrom(true, true, false),
              max: fc.integer({ min: 1, max: 3 }),
              // Whenever the clinic is open; or those hours, some days off and some starting later; or hours of their own
              availability: fc.oneof(
                { weight: 3, arbitrary: fc.constant({ kind: 'opening' as const }) },
                {
                  weight: 3,
                  arbitrary: fc.record({
                    kind: fc.constant('trimmed' as const),
                    off: fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }),
                    later: fc.integer({ min: 0, max: 8 }),
                  }),
                },
                { weight: 1, arbitrary: fc.record({ kind: fc.constant('own' as const), hours: openingArb(o.iv) }) },
              ),
            }),
            { minLength: Math.min(2, o.maxStaff), maxLength: o.maxStaff },
          ),
          bookedSpecs: fc.array(
            fc.record({
              at: fc.integer({ min: 0, max: (days * 1440) / 15 }),
              len: fc.integer({ min: 1, max: 16 }),
              chair: maybe(fc.nat(), 0.6),
              staff: maybe(fc.nat(), 0.6),
              own: fc.boolean(),
            }),
            { maxLength: o.maxBooked },
          ),
          unavailable: weeklyArb(2, interval(0, 22 * 60, 4 * 60)),
          unavailableDates: fc
            .uniqueArray(fc.integer({ min: 0, max: days - 1 }), { maxLength: 1 })
            .map((l) => l.map((k) => addDays(earliestStart, k))),
          preferredTimes: weeklyArb(3, interval(6 * 60, 18 * 60, 4 * 60)),
          nowOffset: fc.oneof(fc.constant(-1440), fc.integer({ min: -120, max: 1440 + 720 })),
        })
        .map((r): Clinic => {
          const staff: EngineStaff[] = r.staffSpecs.map((s, i) => ({
            id: `staff-${i + 1}`,
            name: `Staff ${i + 1}`,
            role: s.sameAsIndex ? ROLES[i] : s.role,
            availability:
              s.availability.kind === 'opening'
                ? r.opening
                : s.availability.kind === 'own'
                  ? s.availability.hours
                  : trimmed(r.opening, s.availability.off, s.availability.later),
            maxConcurrentPatients: s.max,
          }));
          const booked: BookedSession[] = r.bookedSpecs.map((b) => ({
            start: base + b.at * 15,
            end: base + b.at * 15 + b.len * 15,
            chairId: b.chair === null ? null : r.chairs[b.chair % r.chairs.length].id,
            staffId: b.staff === null ? null : staff[b.staff % staff.length].id,
            patientId: b.own ? 'patient-1' : 'patient-2',
          }));
          return {
            zone,
            earliestStart,
            granularity,
            opening: r.opening,
            closures: r.closures,
            chairs: r.chairs,
            staff,
            booked,
            patient: {
              id: 'patient-1',
              unavailable: r.unavailable,
              unavailableDates: r.unavailableDates,
              preferredTimes: r.preferredTimes,
            },
            now: base + r.nowOffset,
            window,
            probe,
          };
        });
    });

/** Opening hours with some weekdays off and every interval starting `later` quarter-hours later. */
function trimmed(opening: WeeklyInterval[], off: boolean[], later: number): WeeklyInterval[] {
  return opening
    .filter((w) => !off[w.weekday - 1] || off.every(Boolean))
    .map((w) => ({ ...w, start: hhmmOf(Math.min(toMinutes(w.start) + later * 15, toMinutes(w.end) - 15)) }));
}

function requestOf(c: Clinic, sessions: SessionToPlace[], maxNodes = 20_000): ScheduleRequest {
  return {
    timezone: c.zone,
    openingHours: c.opening,
    closures: c.closures,
    chairs: c.chairs,
    staff: c.staff,
    booked: c.booked,
    patient: c.patient,
    sessions,
    earliestStart: c.earliestStart,
    now: c.now,
    granularityMinutes: c.granularity,
    startWindowDays: c.window,
    probeDays: c.probe,
    horizonDays: horizonDaysFor(sessions, c.probe),
    maxNodes,
    ...(c.levelling ? { levelling: c.levelling } : {}),
  };
}

const describePlan = (r: ScheduleResult) =>
  r.kind === 'planned'
    ? r.sessions
        .map(
          (s) => `${s.ref} ${s.localDate} ${s.localTime} (${isoUtc(s.start)}) ${s.chairId ?? '-'} ${s.staffId ?? '-'}`,
        )
        .join('; ')
    : `infeasible ${JSON.stringify(r.binding)} earliestStart=${r.earliestStart}`;

// ---------------------------------------------------------------------------------------------
// The checker itself must catch broken plans (otherwise the properties prove nothing)
// ---------------------------------------------------------------------------------------------

describe('the independent checker', () => {
  const steps: ProtocolStep[] = [
    {
      key: 'inf',
      kind: 'infusion',
      label: 'Infusion',
      durationMinutes: 60,
      recoveryMinutes: 30,
      needsChair: true,
      staffRole: 'nurse',
      repeat: 2,
      spacing: { min: 1, target: 2, max: 3, unit: 'days' },
    },
  ];
  const sessions = sessionsOf(steps);
  const clinic: Clinic = {
    zone: 'America/New_York',
    earliestStart: '2026-11-02', // Monday
    granularity: 15,
    opening: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, start: '08:00', end: '18:00' })),
    closures: [],
    chairs: [{ id: 'chair-1', name: 'Chair 1' }],
    staff: [
      {
        id: 'n',
        name: 'N',
        role: 'nurse',
        availability: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, start: '08:00', end: '18:00' })),
        maxConcurrentPatients: 1,
      },
    ],
    booked: [],
    patient: { id: 'patient-1', unavailable: [], unavailableDates: [], preferredTimes: [] },
    now: 0,
    window: 7,
    probe: 7,
  };
  const req = requestOf(clinic, sessions);
  const at = (date: string, time: string) => localToEpoch('America/New_York', date, toMinutes(time)).at!;
  const place = (s: SessionToPlace, date: string, time: string, extra: Partial<PlacedSession> = {}): PlacedSession => {
    const start = at(date, time);
    return {
      ref: s.ref,
      stepKey: s.stepKey,
      occurrence: s.occurrence,
      occurrences: s.occurrences,
      kind: s.kind,
      label: s.label,
      start,
      end: start + s.durationMinutes,
      occupiedUntil: start + s.durationMinutes + s.recoveryMinutes,
      localDate: date,
      localTime: time,
      chairId: 'chair-1',
      staffId: 'n',
      dose: s.dose,
      ...extra,
    };
  };
  const good = [place(sessions[0], '2026-11-02', '10:00'), place(sessions[1], '2026-11-04', '10:00')];

  it('accepts a valid plan', () => {
    expect(violations(req, good)).toEqual([]);
  });

  it.each<[string, ScheduleRequest, PlacedSession[], RegExp]>([
    ['a missing session', req, [good[0]], /missing/],
    ['a gap too long', req, [good[0], place(sessions[1], '2026-11-06', '10:00')], /gap after inf#1 is 4 days/],
    ['a start after closing', req, [good[0], place(sessions[1], '2026-11-04', '16:45')], /opening interval/],
    ['a weekend', req, [good[0], place(sessions[1], '2026-11-07', '10:00')], /opening interval/],
    ['an off-grid start', req, [good[0], place(sessions[1], '2026-11-04', '10:05')], /multiple of 15/],
    ['a wrong local time', req, [good[0], { ...good[1], localTime: '11:00' }], /reported/],
    ['a start before now', { ...req, now: at('2026-11-03', '00:00') }, good, /before now/],
    [
      'a root outside the window',
      { ...req, startWindowDays: 1 },
      [place(sessions[0], '2026-11-03', '10:00'), place(sessions[1], '2026-11-05', '10:00')],
      /start window/,
    ],
    [
      'a closure',
      {
        ...req,
        closures: [
          { startDate: '2026-11-04', endDate: '2026-11-04', startTime: '11:00', endTime: '12:00', reason: 'x' },
        ],
      },
      good,
      /closure/,
    ],
    [
      'a booked chair',
      {
        ...req,
        booked: [
          {
            start: at('2026-11-04', '11:00'),
            end: at('2026-11-04', '11:15'),
            chairId: 'chair-1',
            staffId: null,
            patientId: 'p2',
          },
        ],
      },
      good,
      /chair-1 booked/,
    ],
    [
      'a staff member at capacity',
      {
        ...req,
        booked: [
          {
            start: at('2026-11-04', '11:15'),
            end: at('2026-11-04', '12:00'),
            chairId: null,
            staffId: 'n',
            patientId: 'p2',
          },
        ],
      },
      good,
      /2 patients/,
    ],
    [
      'the patient booked elsewhere',
      {
        ...req,
        booked: [
          {
            start: at('2026-11-04', '09:00'),
            end: at('2026-11-04', '10:15'),
            chairId: null,
            staffId: null,
            patientId: 'patient-1',
          },
        ],
      },
      good,
      /patient already booked/,
    ],
    [
      'a patient unavailable date',
      { ...req, patient: { ...req.patient, unavailableDates: ['2026-11-04'] } },
      good,
      /unavailable on/,
    ],
    [
      'a patient unavailable time',
      { ...req, patient: { ...req.patient, unavailable: [{ weekday: 3, start: '11:00', end: '11:30' }] } },
      good,
      /patient unavailable 11:00/,
    ],
    [
      'a staff member not working',
      {
        ...req,
        staff: [
          {
            ...req.staff[0],
            availability: [
              { weekday: 3, start: '10:30', end: '18:00' },
              { weekday: 1, start: '08:00', end: '18:00' },
            ],
          },
        ],
      },
      good,
      /not available/,
    ],
    ['recovery ignored', req, [good[0], { ...good[1], occupiedUntil: good[1].end }], /occupiedUntil/],
    [
      'the patient in two places',
      req,
      [
        good[0],
        {
          ...good[1],
          start: good[0].start + 60,
          end: good[0].start + 120,
          occupiedUntil: good[0].start + 150,
          localDate: '2026-11-02',
          localTime: '11:00',
        },
      ],
      /overlap/,
    ],
  ])('finds %s', (_name, request, plan, pattern) => {
    const found = violations(request, plan);
    expect(found.some((v) => pattern.test(v))).toBe(true);
  });

  it('reads an ambiguous local time as its first occurrence and flags the second', () => {
    const first = localToEpoch('America/New_York', '2026-11-01', 90);
    expect(isoUtc(first.at!)).toBe('2026-11-01T05:30:00.000Z');
    const nonexistent = localToEpoch('America/New_York', '2026-03-08', 150);
    expect(nonexistent.at).toBeNull();
    expect(isoUtc(nonexistent.after)).toBe('2026-03-08T07:00:00.000Z');
    const lordHowe = localToEpoch('Australia/Lord_Howe', '2026-10-04', 135);
    expect(lordHowe.at).toBeNull();
    expect(isoUtc(lordHowe.after)).toBe('2026-10-03T15:30:00.000Z');
    const havana = localToEpoch('America/Havana', '2026-11-01', 30);
    expect(isoUtc(havana.at!)).toBe('2026-11-01T04:30:00.000Z');
  });

  it('finds a plan by brute force when one exists, and none when the gap cannot be kept', () => {
    const tiny = { ...req, granularityMinutes: 60, startWindowDays: 2 };
    expect(bruteForce(tiny)).not.toBeNull();
    const closedAfter = {
      ...tiny,
      closures: [{ startDate: '2026-11-04', endDate: '2026-11-06', startTime: null, endTime: null, reason: 'x' }],
    };
    // inf#1 on 11-02 or 11-03, inf#2 1–3 days later but 11-04…11-06 are closed: only 11-03 → none, 11-02 → 11-03
    const plan = bruteForce(closedAfter);
    expect(plan?.map((p) => p.localDate)).toEqual(['2026-11-02', '2026-11-03']);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/** More runs on demand: ENGINE_PROPERTY_RUNS=2000 multiplies every numRuns below by 10. */
const runs = (n: number) => Math.round((n * Number(process.env.ENGINE_PROPERTY_RUNS ?? 200)) / 200);

const templateArb = (o: { maxSteps: number; maxRepeat: number; durations: number[]; singleRoot: boolean }) =>
  fc
    .array(stepArb(o), { minLength: 1, maxLength: o.maxSteps })
    .map((specs) => sessionsOf(toSteps(specs, o.singleRoot)));

function checkPlanned(req: ScheduleRequest, result: ScheduleResult): void {
  if (result.kind !== 'planned') return;
  const found = violations(req, result.sessions);
  if (found.length) throw new Error(`plan breaks rules: ${found.join(' | ')}\nplan: ${describePlan(result)}`);
  expect(result.sessions).toHaveLength(req.sessions.length);
  // Sorted by start
  for (let i = 1; i < result.sessions.length; i++)
    expect(result.sessions[i].start).toBeGreaterThanOrEqual(result.sessions[i - 1].start);
}

/** A refusal names a session of the request; an earliest start it reports lies past the window and does give a plan. */
function checkRefusal(req: ScheduleRequest, result: ScheduleResult): void {
  if (result.kind !== 'infeasible') return;
  expect(req.sessions.map((s) => s.ref)).toContain(result.binding.ref);
  expect(result.binding.message.length).toBeGreaterThan(0);
  if (result.earliestStart !== null) {
    const k = daysBetween(req.earliestStart, result.earliestStart);
    // The window bounds the first independent session; a session attached 'before' it may come
    // up to its gap's reach earlier, so the reported (first-session) date may precede the window's end.
    const beforeReach = Math.max(
      0,
      ...req.sessions.flatMap((s) =>
        s.constraints
          .filter((c) => c.relation === 'before')
          .map((c) => (c.gap.unit === 'days' ? c.gap.max : Math.ceil((c.gap.max * 60 + 1440) / 1440))),
      ),
    );
    expect(k).toBeGreaterThanOrEqual((req.startWindowDays ?? 14) - beforeReach);
    expect(k).toBeLessThan(req.probeDays ?? 120);
    if (result.binding.code === 'SEARCH_LIMIT') return;
    // A session attached 'before' its anchor may fall on the day before the reported date; that
    // case has its own hand-written test in schedule.spec.ts ("earliestStart … 'before' attachment").
    if (req.sessions.some((s) => s.constraints.some((c) => c.relation === 'before' && !c.sameDay))) return;
    const later = { ...req, earliestStart: result.earliestStart };
    const again = schedule(later);
    if (again.kind === 'infeasible' && again.binding.code !== 'SEARCH_LIMIT') {
      throw new Error(`reported earliestStart ${result.earliestStart}, but from that date: ${describePlan(again)}`);
    }
    checkPlanned(later, again);
  }
}

const mainClinic = (zones: [string, string[]][]) =>
  clinicArb({
    zones,
    granularity: fc.constantFrom(15, 30, 60),
    window: fc.integer({ min: 2, max: 5 }),
    extraProbe: fc.integer({ min: 0, max: 3 }),
    maxChairs: 3,
    maxStaff: 3,
    maxBooked: 8,
  });
const mainTemplate = templateArb({
  maxSteps: 3,
  maxRepeat: 3,
  durations: [15, 30, 45, 50, 60, 90, 120],
  singleRoot: false,
});

/** A clinic for a pinned example: open `opening`, one nurse there all that time, nothing booked. */
function exampleClinic(
  zone: string,
  earliestStart: string,
  opening: WeeklyInterval[],
  o: Partial<Clinic> = {},
): Clinic {
  return {
    zone,
    earliestStart,
    granularity: 15,
    opening,
    closures: [],
    chairs: [{ id: 'chair-1', name: 'Chair 1' }],
    staff: [{ id: 'staff-1', name: 'Staff 1', role: 'nurse', availability: opening, maxConcurrentPatients: 1 }],
    booked: [],
    patient: { id: 'patient-1', unavailable: [], unavailableDates: [], preferredTimes: [] },
    now: localToEpoch(zone, earliestStart, 0).after - 1440,
    window: 2,
    probe: 3,
    ...o,
  };
}
const plainStep = (o: Partial<ProtocolStep>): ProtocolStep => ({
  key: 's0',
  kind: 'consult',
  label: 'Step 0',
  durationMinutes: 15,
  recoveryMinutes: 0,
  needsChair: false,
  staffRole: null,
  repeat: 1,
  ...o,
});

/*
 * Counterexamples fast-check found, pinned so that they are checked on every run (they fail
 * until the engine handles these zones; see the hand-written cases in zone-calendar.spec.ts and
 * schedule.spec.ts):
 * - Havana, 2026-03-08, open Sunday 00:00–00:15: the engine plans 00:00 "2026-03-08", which is
 *   04:00Z = 23:00 on 2026-03-07 (midnight does not exist that day in Havana).
 * - Havana, 2026-10-31 16:00 + 30 min, then a session 5–8 hours later: 00:00 on 2026-11-01 (its first
 *   occurrence, 04:00Z) is 7.5 h later, but the engine reads 00:00 as 05:00Z (8.5 h) and refuses.
 * - Lord Howe, 2026-10-04, open 01:00–02:15 (02:00–02:29 does not exist): the engine lets a
 *   90-minute session run from 01:00 (14:30Z) until 03:00 (16:00Z), past closing (02:30 = 15:30Z).
 */
const MIDNIGHT_EXAMPLE_A: [Clinic, SessionToPlace[]] = [
  exampleClinic('America/Havana', '2026-03-08', [{ weekday: 7, start: '00:00', end: '00:15' }], {
    window: 5,
    probe: 8,
  }),
  sessionsOf([plainStep({})]),
];
const MIDNIGHT_EXAMPLE_B: [Clinic, SessionToPlace[]] = [
  exampleClinic(
    'America/Havana',
    '2026-10-31',
    [
      { weekday: 6, start: '00:00', end: '01:00' },
      { weekday: 6, start: '14:00', end: '17:00' },
      { weekday: 7, start: '00:00', end: '01:00' },
    ],
    { granularity: 60, window: 2, probe: 4 },
  ),
  sessionsOf([plainStep({ durationMinutes: 30, repeat: 2, spacing: { min: 5, target: 5, max: 8, unit: 'hours' } })]),
];
const HALF_HOUR_EXAMPLE: [Clinic, SessionToPlace[]] = [
  exampleClinic('Australia/Lord_Howe', '2026-10-04', [{ weekday: 7, start: '01:00', end: '02:15' }]),
  sessionsOf([plainStep({ durationMinutes: 90 })]),
];

const tinyClinic = (zones: [string, string[]][]) =>
  clinicArb({
    zones,
    granularity: fc.constant(60),
    window: fc.integer({ min: 1, max: 2 }),
    extraProbe: fc.integer({ min: 0, max: 2 }),
    maxChairs: 2,
    maxStaff: 2,
    maxBooked: 5,
    iv: fc.oneof(
      { weight: 1, arbitrary: fc.constant(['00:00', '24:00'] as const) },
      {
        weight: 6,
        arbitrary: fc
          .tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 5 }))
          .map(([a, len]) => [hhmmOf(a * 60), hhmmOf(Math.min(1440, (a + len) * 60))] as const),
      },
    ),
  });
const tinyTemplate = templateArb({ maxSteps: 2, maxRepeat: 2, durations: [30, 60, 90, 120], singleRoot: true }).filter(
  (s) => s.length <= 2,
);

/** Engine vs brute force on one tiny instance: same feasibility, same earliest workable start. */
function compareWithBruteForce(clinic: Clinic, sessions: SessionToPlace[]): 'planned' | 'infeasible' {
  const req = requestOf(clinic, sessions, 1_000_000);
  const result = schedule(req);
  checkPlanned(req, result);
  const witness = bruteForce(req);
  if (result.kind === 'infeasible' && witness) {
    throw new Error(
      `engine refused (${describePlan(result)}) but this plan satisfies every rule: ${witness.map((p) => `${p.ref} ${p.localDate} ${p.localTime} (${isoUtc(p.start)}) ${p.chairId ?? '-'} ${p.staffId ?? '-'}`).join('; ')}`,
    );
  }
  if (result.kind === 'planned') expect(witness).not.toBeNull();
  if (result.kind === 'infeasible') {
    // The earliest first day that would work, by brute force: a plan starting on that very day.
    let earliest: string | null = null;
    for (let k = req.startWindowDays!; k < req.probeDays! && earliest === null; k++) {
      const date = addDays(req.earliestStart, k);
      if (bruteForce(req, { rootDate: date })) earliest = date;
    }
    expect({ earliestStart: result.earliestStart }).toEqual({ earliestStart: earliest });
  }
  return result.kind;
}

function planIsValid(clinic: Clinic, sessions: SessionToPlace[]): 'planned' | 'infeasible' {
  const req = requestOf(clinic, sessions);
  const result = schedule(req);
  checkPlanned(req, result);
  checkRefusal(req, result);
  return result.kind;
}

describe('schedule: (a) every planned result satisfies every rule, for random clinics and templates', () => {
  it('zones whose clocks change by an hour away from midnight (New York, London), Kolkata, UTC', () => {
    const kinds = { planned: 0, infeasible: 0 };
    fc.assert(
      fc.property(mainClinic(ZONES_WHOLE_HOUR), mainTemplate, (clinic, sessions) => {
        kinds[planIsValid(clinic, sessions)]++;
      }),
      { numRuns: runs(200) },
    );
    // The generators must produce a fair share of plans, or the property says little.
    expect(kinds.planned).toBeGreaterThan(runs(200) / 5);
  });

  it('Lord Howe, whose clocks change by 30 minutes', () => {
    fc.assert(
      fc.property(mainClinic(ZONES_HALF_HOUR), mainTemplate, (clinic, sessions) => {
        planIsValid(clinic, sessions);
      }),
      { numRuns: runs(100), examples: [HALF_HOUR_EXAMPLE] },
    );
  });

  it('Havana and Santiago, whose clocks change at midnight', () => {
    fc.assert(
      fc.property(mainClinic(ZONES_AT_MIDNIGHT), mainTemplate, (clinic, sessions) => {
        planIsValid(clinic, sessions);
      }),
      { numRuns: runs(100), examples: [MIDNIGHT_EXAMPLE_A] },
    );
  });
});

describe('schedule: (b) on tiny instances, a refusal only when brute force finds no plan either, and the same earliest workable start', () => {
  it('zones whose clocks change by an hour away from midnight, Kolkata, UTC', () => {
    const kinds = { planned: 0, infeasible: 0 };
    fc.assert(
      fc.property(tinyClinic(ZONES_WHOLE_HOUR), tinyTemplate, (clinic, sessions) => {
        kinds[compareWithBruteForce(clinic, sessions)]++;
      }),
      { numRuns: runs(150) },
    );
    expect(kinds.planned).toBeGreaterThan(runs(150) / 10);
    expect(kinds.infeasible).toBeGreaterThan(runs(150) / 10);
  });

  it('Lord Howe', () => {
    fc.assert(
      fc.property(tinyClinic(ZONES_HALF_HOUR), tinyTemplate, (clinic, sessions) => {
        compareWithBruteForce(clinic, sessions);
      }),
      { numRuns: runs(60), examples: [HALF_HOUR_EXAMPLE] },
    );
  });

  it('Havana and Santiago', () => {
    fc.assert(
      fc.property(tinyClinic(ZONES_AT_MIDNIGHT), tinyTemplate, (clinic, sessions) => {
        compareWithBruteForce(clinic, sessions);
      }),
      { numRuns: runs(100), examples: [MIDNIGHT_EXAMPLE_B] },
    );
  });
});

describe('schedule: (c) determinism', () => {
  it('the same request, a deep copy of it, or its bookings and unavailable dates in another order give the same result', () => {
    fc.assert(
      fc.property(
        mainClinic([...ZONES_WHOLE_HOUR, ...ZONES_HALF_HOUR, ...ZONES_AT_MIDNIGHT]),
        mainTemplate,
        fc.nat(),
        (clinic, sessions, seed) => {
          const req = requestOf(clinic, sessions);
          const first = schedule(req);
          expect(schedule(req)).toEqual(first);
          expect(schedule(structuredClone(req))).toEqual(first);
          const rot = <T>(xs: T[]) => xs.map((_, i) => xs[(i + seed) % xs.length]);
          const shuffled = {
            ...req,
            booked: rot([...req.booked].reverse()),
            patient: { ...req.patient, unavailableDates: [...req.patient.unavailableDates].reverse() },
          };
          const again = schedule(shuffled);
          if (first.kind === 'planned') expect(again).toEqual(first);
          else {
            expect(again.kind).toBe('infeasible');
            if (again.kind === 'infeasible')
              expect([again.binding.code, again.binding.ref, again.earliestStart]).toEqual([
                first.binding.code,
                first.binding.ref,
                first.earliestStart,
              ]);
          }
        },
      ),
      { numRuns: runs(100) },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// (d) completeness on busy clinics, (e) the same plans as before
// ---------------------------------------------------------------------------------------------

const busyClinic = (zones: [string, string[]][], maxBooked: number) =>
  clinicArb({
    zones,
    granularity: fc.constantFrom(30, 60),
    window: fc.integer({ min: 2, max: 5 }),
    extraProbe: fc.integer({ min: 1, max: 4 }),
    maxChairs: 3,
    maxStaff: 3,
    maxBooked,
  });
const linkedTemplate = templateArb({ maxSteps: 3, maxRepeat: 3, durations: [30, 60, 90], singleRoot: true });

/** The same request asked for one first day only: `k` days after its earliest start. */
function oneDayOf(req: ScheduleRequest, k: number): ScheduleRequest {
  return {
    ...req,
    earliestStart: addDays(req.earliestStart, k),
    startWindowDays: 1,
    probeDays: 1,
    horizonDays: horizonDaysFor(req.sessions, 1),
  };
}

/** A refusal is true day by day, and its earliest start is the first day that admits a plan. */
function refusalIsTrue(clinic: Clinic, sessions: SessionToPlace[]): 'planned' | 'infeasible' | 'gaveUp' {
  const req = requestOf(clinic, sessions, 50_000);
  const result = schedule(req);
  checkPlanned(req, result);
  if (result.kind === 'planned') return 'planned';
  // SEARCH_LIMIT stays as the guard against adversarial input (issue 13). Random instances can be
  // that: seed -465098292 gave up on 15-minute opening windows at midnight in America/Santiago,
  // whose clocks change at midnight. Such give-ups are counted and must stay rare; realistic
  // streams never give up (test/api/fill.spec.ts, fill.spec.ts, npm run bench:fill).
  if (result.binding.code === 'SEARCH_LIMIT') return 'gaveUp';
  const window = req.startWindowDays!;
  for (let k = 0; k < window; k++) {
    const one = schedule(oneDayOf(req, k));
    if (one.kind === 'planned')
      throw new Error(
        `refused (${describePlan(result)}), but a first day ${addDays(req.earliestStart, k)} gives ${describePlan(one)}`,
      );
  }
  const e = result.earliestStart === null ? req.probeDays! : daysBetween(req.earliestStart, result.earliestStart);
  for (let k = window; k < e; k++) {
    const one = schedule(oneDayOf(req, k));
    if (one.kind === 'planned')
      throw new Error(
        `earliest start ${result.earliestStart}, but ${addDays(req.earliestStart, k)} gives ${describePlan(one)}`,
      );
  }
  if (result.earliestStart !== null) {
    const atIt = oneDayOf(req, e);
    const again = schedule(atIt);
    if (again.kind !== 'planned')
      throw new Error(`earliest start ${result.earliestStart} named, but asked from it: ${describePlan(again)}`);
    checkPlanned(atIt, again);
  }
  return 'infeasible';
}

describe('schedule: (d) on clinics with heavy existing bookings, a refusal only when no first day in the window admits a plan', () => {
  it('asked day by day: every day of the window refused, the earliest start plans, no day before it does', () => {
    const kinds = { planned: 0, infeasible: 0, gaveUp: 0 };
    fc.assert(
      fc.property(busyClinic([...ZONES_WHOLE_HOUR, ...ZONES_AT_MIDNIGHT], 40), linkedTemplate, (clinic, sessions) => {
        kinds[refusalIsTrue(clinic, sessions)]++;
      }),
      { numRuns: runs(150) },
    );
    expect(kinds.planned).toBeGreaterThan(runs(150) / 10);
    expect(kinds.infeasible).toBeGreaterThan(runs(150) / 10);
    expect(kinds.gaveUp).toBeLessThanOrEqual(Math.ceil(runs(150) / 50));
  });

  it('brute force on tiny busy instances: the same feasibility and earliest start', () => {
    const kinds = { planned: 0, infeasible: 0 };
    const tinyBusy = clinicArb({
      zones: ZONES_WHOLE_HOUR,
      granularity: fc.constant(60),
      window: fc.integer({ min: 1, max: 3 }),
      extraProbe: fc.integer({ min: 0, max: 2 }),
      maxChairs: 2,
      maxStaff: 2,
      maxBooked: 16,
      iv: fc
        .tuple(fc.integer({ min: 6, max: 14 }), fc.integer({ min: 2, max: 6 }))
        .map(([a, len]) => [hhmmOf(a * 60), hhmmOf((a + len) * 60)] as const),
    });
    fc.assert(
      fc.property(tinyBusy, tinyTemplate, (clinic, sessions) => {
        kinds[compareWithBruteForce(clinic, sessions)]++;
      }),
      { numRuns: runs(60) },
    );
    expect(kinds.infeasible).toBeGreaterThan(runs(60) / 10);
  });
});

describe('schedule: (e) the same plans as the engine before issue 13 wherever it planned', () => {
  it('random clinics, templates and bookings (light and heavy)', () => {
    let compared = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          mainClinic([...ZONES_WHOLE_HOUR, ...ZONES_HALF_HOUR, ...ZONES_AT_MIDNIGHT]),
          busyClinic(ZONES_WHOLE_HOUR, 30),
        ),
        mainTemplate,
        (clinic, sessions) => {
          const req = requestOf(clinic, sessions);
          const before = scheduleV1(req);
          if (before.kind !== 'planned') return;
          compared++;
          const now = schedule(req);
          expect(now.kind).toBe('planned');
          if (now.kind === 'planned') expect(now.sessions).toEqual(before.sessions);
        },
      ),
      { numRuns: runs(150) },
    );
    expect(compared).toBeGreaterThan(runs(150) / 4);
  });
});

describe('schedule: (f) bookings given as a kept BookingIndex give the same answer as the list', () => {
  it('random clinics, templates and bookings; the index built at once, or by additions and removals', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          mainClinic([...ZONES_WHOLE_HOUR, ...ZONES_HALF_HOUR, ...ZONES_AT_MIDNIGHT]),
          busyClinic(ZONES_WHOLE_HOUR, 30),
        ),
        mainTemplate,
        fc.nat(),
        (clinic, sessions, seed) => {
          const req = requestOf(clinic, sessions);
          const expected = schedule(req);
          // At once, in another order.
          const atOnce = BookingIndex.of([...req.booked].reverse());
          expect(schedule({ ...req, booked: [], bookedIndex: atOnce })).toEqual(expected);
          // Kept up to date: every booking added, with strangers added and removed again in between
          // (a stranger overlapping everything would change the answer if it stayed).
          const kept = new BookingIndex();
          const strangers = req.booked.map((b, i) => ({ ...b, start: b.start - i, end: b.end + 1 }));
          req.booked.forEach((b, i) => {
            if ((seed >> (i % 30)) & 1) kept.add(strangers[i]);
            kept.add(b);
          });
          for (const s of strangers) kept.remove(s);
          expect(kept.size).toBe(req.booked.length);
          expect(schedule({ ...req, booked: [], bookedIndex: kept })).toEqual(expected);
        },
      ),
      { numRuns: runs(100) },
    );
  });
});

describe("schedule: (g) levelling 'balanced' only reorders: every plan valid, every refusal true (issue 17)", () => {
  const balanced = <T extends Clinic>(arb: fc.Arbitrary<T>) =>
    arb.map((c) => ({ ...c, levelling: 'balanced' as const }));

  it('random clinics and templates: every planned result satisfies every rule, and plans when off plans', () => {
    const kinds = { planned: 0, infeasible: 0 };
    fc.assert(
      fc.property(
        balanced(
          fc.oneof(
            mainClinic([...ZONES_WHOLE_HOUR, ...ZONES_HALF_HOUR, ...ZONES_AT_MIDNIGHT]),
            busyClinic(ZONES_WHOLE_HOUR, 40),
          ),
        ),
        mainTemplate,
        (clinic, sessions) => {
          kinds[planIsValid(clinic, sessions)]++;
          const on = schedule(requestOf(clinic, sessions));
          const off = schedule(requestOf({ ...clinic, levelling: undefined }, sessions));
          // Order only: what plans without levelling plans with it.
          expect(on.kind).toBe(off.kind);
        },
      ),
      { numRuns: runs(200) },
    );
    expect(kinds.planned).toBeGreaterThan(runs(200) / 5);
  });

  it('the demo protocol on a demo-shaped clinic with random bookings: every plan valid, many levelled', () => {
    let differing = 0;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            day: fc.integer({ min: 0, max: 20 }),
            q: fc.integer({ min: 32, max: 68 }),
            len: fc.integer({ min: 2, max: 12 }),
            chair: fc.integer({ min: 1, max: 4 }),
            nurse: fc.constantFrom(null, 'nurse-a', 'nurse-b'),
          }),
          { minLength: 60, maxLength: 200 },
        ),
        fc.integer({ min: 0, max: 6 }),
        (specs, offset) => {
          const day0 = epochMinute('2026-12-07T00:00');
          const booked: BookedSession[] = specs.map((b, i) => ({
            start: day0 + b.day * 1440 + b.q * 15,
            end: day0 + b.day * 1440 + (b.q + b.len) * 15,
            chairId: `chair-${b.chair}`,
            staffId: b.nurse,
            patientId: `other-${i}`,
          }));
          const off = makeRequest({ earliestStart: addDays('2026-12-07', offset), booked, startWindowDays: 7 });
          const on = { ...off, levelling: 'balanced' as const };
          const [a, b] = [schedule(off), schedule(on)];
          checkPlanned(on, b);
          expect(b.kind).toBe(a.kind);
          if (JSON.stringify(a) !== JSON.stringify(b)) differing++;
        },
      ),
      { numRuns: runs(100) },
    );
    expect(differing).toBeGreaterThan(runs(100) / 4);
  });

  it('the differential cases of levelling-off.spec.ts: every balanced plan valid', () => {
    for (const req of differentialCases()) {
      const on = { ...req, levelling: 'balanced' as const };
      checkPlanned(on, schedule(on));
    }
  });

  it('on tiny instances, a refusal only when brute force finds no plan either', () => {
    const kinds = { planned: 0, infeasible: 0 };
    fc.assert(
      fc.property(balanced(tinyClinic(ZONES_WHOLE_HOUR)), tinyTemplate, (clinic, sessions) => {
        kinds[compareWithBruteForce(clinic, sessions)]++;
      }),
      { numRuns: runs(150) },
    );
    expect(kinds.planned).toBeGreaterThan(runs(150) / 10);
    expect(kinds.infeasible).toBeGreaterThan(runs(150) / 10);
  });

  it('on busy clinics, asked day by day: every day of the window refused, the earliest start plans', () => {
    const kinds = { planned: 0, infeasible: 0, gaveUp: 0 };
    fc.assert(
      fc.property(
        balanced(busyClinic([...ZONES_WHOLE_HOUR, ...ZONES_AT_MIDNIGHT], 40)),
        linkedTemplate,
        (clinic, sessions) => {
          kinds[refusalIsTrue(clinic, sessions)]++;
        },
      ),
      { numRuns: runs(150) },
    );
    expect(kinds.planned).toBeGreaterThan(runs(150) / 10);
    expect(kinds.infeasible).toBeGreaterThan(runs(150) / 10);
    expect(kinds.gaveUp).toBeLessThanOrEqual(Math.ceil(runs(150) / 50));
  });
});
