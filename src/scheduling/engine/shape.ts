/**
 * The template's shape and the small helpers every part of the engine shares: defaults, local
 * times as minutes, weekly rules by weekday, the day window a gap allows, how far a plan reaches
 * (span, 'before' reach, horizon) and the order in which the search places sessions.
 */
import type { Span } from './intervals.js';
import type { BindingCode, PlacedSession, SessionConstraint, SessionToPlace, WeeklyInterval } from './types.js';

export const DEFAULT_GRANULARITY = 15;
export const DEFAULT_START_WINDOW = 14;
export const DEFAULT_PROBE_DAYS = 120;
export const DEFAULT_MAX_NODES = 50_000;
/** The whole request stops after this many times the per-first-day budget. */
export const TOTAL_BUDGET_FACTOR = 8;

export const toMinutes = (hhmm: string) => {
  // "HH:mm" by character codes (the only form stored); anything else the general way.
  if (hhmm.length === 5 && hhmm.charCodeAt(2) === 58) {
    const h1 = hhmm.charCodeAt(0) - 48;
    const h2 = hhmm.charCodeAt(1) - 48;
    const m1 = hhmm.charCodeAt(3) - 48;
    const m2 = hhmm.charCodeAt(4) - 48;
    if (h1 >= 0 && h1 <= 9 && h2 >= 0 && h2 <= 9 && m1 >= 0 && m1 <= 9 && m2 >= 0 && m2 <= 9)
      return (h1 * 10 + h2) * 60 + m1 * 10 + m2;
  }
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
};

/** Weekly rules as local minute pairs [start, end, start, end, …] per ISO weekday (index 1–7), in their order. */
export function byWeekday(list: WeeklyInterval[]): number[][] {
  const out: number[][] = [[], [], [], [], [], [], [], []];
  for (const w of list) {
    const bucket = out[w.weekday];
    if (bucket !== undefined && Number.isInteger(w.weekday)) bucket.push(toMinutes(w.start), toMinutes(w.end));
  }
  return out;
}

/** Reason codes in a fixed order, for counting refusals in an array. */
export const CODES: BindingCode[] = [
  'CLOSED',
  'CLOSURE',
  'WEEKDAY_NOT_ALLOWED',
  'PATIENT_UNAVAILABLE',
  'PATIENT_BUSY',
  'NO_CHAIR',
  'NO_STAFF',
  'STAFF_AT_CAPACITY',
  'IN_THE_PAST',
  'GAP',
  'SEARCH_LIMIT',
  'STARTS_AT_LIMIT',
];
export const [
  ,
  R_CLOSURE,
  ,
  R_PATIENT_UNAVAILABLE,
  R_PATIENT_BUSY,
  R_NO_CHAIR,
  R_NO_STAFF,
  R_STAFF_AT_CAPACITY,
  R_IN_THE_PAST,
  ,
  ,
  R_STARTS_AT_LIMIT,
] = CODES.map((_, i) => i);

/** A booking as the staff index holds it. */
export type SeatSpan = Span & { staffSeat?: number | null };
/** A placed session's time and resources, as a dead end remembers it. */
export const signature = (p: PlacedSession | null) =>
  p === null ? '' : `${p.start}|${p.chairId}|${p.staffId}|${p.staffSeat ?? ''}`;
export const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/**
 * A start time that passes every rule not involving the plan's own sessions. Which chairs and
 * staff are free is worked out only when the search looks at the slot (most are never looked at).
 */
export interface Slot {
  start: number;
  wall: number;
  chairs?: string[];
  staff?: string[];
}

export interface DayEval {
  slots: Slot[];
  /** Why the other start times were refused, counted per code (first failing rule). */
  reasons: Map<BindingCode, number>;
  /** For CLOSURE: the closure's reason. */
  closure?: string;
}

/** How many days past an anchor a dependent may fall, as a superset for day-level pruning. */
export function dayWindow(c: SessionConstraint, anchorDay: number): [number, number] {
  if (c.sameDay) return [anchorDay, anchorDay];
  if (c.gap.unit === 'days') {
    return c.relation === 'after'
      ? [anchorDay + c.gap.min, anchorDay + c.gap.max]
      : [anchorDay - c.gap.max, anchorDay - c.gap.min];
  }
  const spread = Math.ceil((c.gap.max * 60 + 2 * 1440) / 1440);
  return c.relation === 'after' ? [anchorDay, anchorDay + spread] : [anchorDay - spread, anchorDay];
}

/** Days the plan can span after its first session, with every gap at its maximum. */
export function planSpanDays(sessions: SessionToPlace[]): number {
  const offset = new Map<string, number>();
  let span = 0;
  for (const s of sessions) {
    let at = 0;
    for (const c of s.constraints) {
      const base = offset.get(c.ref) ?? 0;
      const [, hi] = dayWindow(c, base);
      at = Math.max(at, hi);
    }
    offset.set(s.ref, at);
    span = Math.max(span, at);
  }
  return span + 1;
}

/**
 * How many days a session attached 'before' (directly or in a chain) can precede the independent
 * session it hangs on: that session may start that much after the plan's start.
 */
export function beforeReachDays(sessions: SessionToPlace[]): number {
  const reach = new Map<string, number>();
  let most = 0;
  for (const s of sessions) {
    let r = 0;
    for (const c of s.constraints) {
      const base = reach.get(c.ref) ?? 0;
      // How far before its anchor a 'before' session can fall: the low end of its day window.
      const own = c.relation === 'before' ? -dayWindow(c, 0)[0] : 0;
      r = Math.max(r, base + own);
    }
    reach.set(s.ref, r);
    most = Math.max(most, r);
  }
  return most;
}

/** Calendar days the engine needs for a request: start window and probing, plus the plan's span and before-reach. */
export function horizonDaysFor(sessions: SessionToPlace[], probeDays = DEFAULT_PROBE_DAYS): number {
  return probeDays + beforeReachDays(sessions) + planSpanDays(sessions) + 2;
}

/**
 * Order of placement: each session right after the one it depends on, smaller dependent
 * subtrees first, so that an attached session (therapy after an infusion) is placed before the
 * chain moves on and the search never has to undo far.
 */
export function placementOrder(sessions: SessionToPlace[]): number[] {
  const index = new Map(sessions.map((s, i) => [s.ref, i]));
  const children: number[][] = sessions.map(() => []);
  const roots: number[] = [];
  sessions.forEach((s, i) => {
    const anchor = s.constraints.length ? index.get(s.constraints[0].ref) : undefined;
    if (anchor === undefined) roots.push(i);
    else children[anchor].push(i);
  });
  const size: number[] = sessions.map(() => 1);
  for (let i = sessions.length - 1; i >= 0; i--) for (const c of children[i]) size[i] += size[c];
  const order: number[] = [];
  const visit = (i: number) => {
    order.push(i);
    for (const c of [...children[i]].sort((a, b) => size[a] - size[b] || a - b)) visit(c);
  };
  roots.forEach(visit);
  return order;
}
