import type { WeeklyInterval } from '../../common/weekly-interval.js';
import type { SessionConstraint, SessionToPlace } from '../../protocols/domain/tailor.js';
import { peakOverlap, SpanIndex, type Span } from './intervals.js';
import type {
  BindingCode,
  BindingConstraint,
  EngineClosure,
  EngineStaff,
  FixedPlacement,
  PlacedSession,
  ScheduleRequest,
  ScheduleResult,
} from './types.js';
import { ZoneCalendar } from './zone-calendar.js';

const DEFAULT_GRANULARITY = 15;
const DEFAULT_START_WINDOW = 14;
const DEFAULT_PROBE_DAYS = 120;
const DEFAULT_MAX_NODES = 200_000;

const toMinutes = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
};
const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/**
 * A start time that passes every rule not involving the plan's own sessions. Which chairs and
 * staff are free is worked out only when the search looks at the slot (most are never looked at).
 */
interface Slot {
  start: number;
  wall: number;
  chairs?: string[];
  staff?: string[];
}

interface DayEval {
  slots: Slot[];
  /** Why the other start times were refused, counted per code (first failing rule). */
  reasons: Map<BindingCode, number>;
  /** For CLOSURE: the closure's reason. */
  closure?: string;
}

/** An occupied span of a staff member, with the seat it holds when known. */
type SeatSpan = Span & { staffSeat: number | null };

/** How many days past an anchor a dependent may fall, as a superset for day-level pruning. */
function dayWindow(c: SessionConstraint, anchorDay: number): [number, number] {
  if (c.sameDay) return [anchorDay, anchorDay];
  if (c.gap.unit === 'days') {
    return c.relation === 'after' ? [anchorDay + c.gap.min, anchorDay + c.gap.max] : [anchorDay - c.gap.max, anchorDay - c.gap.min];
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
function placementOrder(sessions: SessionToPlace[]): number[] {
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

class Scheduler {
  private readonly g: number;
  private readonly cal: ZoneCalendar;
  private readonly chairBusy = new Map<string, SpanIndex>();
  private readonly staffBusy = new Map<string, SpanIndex>();
  private readonly patientBusy: SpanIndex;
  private readonly dayEvals = new Map<string, DayEval>();
  private readonly feasible = new Map<string, boolean>();
  private readonly order: number[];
  private readonly posOf: number[];
  private readonly children: number[][];
  private readonly placed: (PlacedSession | null)[];
  private nodes = 0;
  private readonly maxNodes: number;
  /** Rejections caused by the plan's own sessions; a failure without any is memoised. */
  private inPlanRejections = 0;
  /** Positions whose remainder failed for given placements of the sessions it depends on. */
  private readonly failed = new Set<string>();
  /**
   * Per position: the already placed sessions that the remaining ones refer to, and whether any
   * refers to it in hours (then its exact start matters; otherwise only its day does).
   */
  private readonly frontier: { i: number; exact: boolean }[][];
  /** Deepest position reached in the search, and why candidates there failed. */
  private deepest = -1;
  private deepestReasons = new Map<BindingCode, number>();
  private deepestClosure: { date: string; reason: string } | undefined;
  /** Days refused at the deepest position only because a dependent could not follow. */
  private deepestLookahead: number[] = [];
  /** Dependents timed in hours that had no slot for a start tried at the deepest position. */
  private deepestHourChild = new Map<number, number>();

  constructor(private readonly req: ScheduleRequest) {
    this.g = req.granularityMinutes ?? DEFAULT_GRANULARITY;
    this.maxNodes = req.maxNodes ?? DEFAULT_MAX_NODES;
    this.cal = new ZoneCalendar(req.timezone, req.earliestStart, req.horizonDays);
    // One pass over the bookings, grouped by chair, staff member and this patient.
    const byChair = new Map<string, Span[]>(req.chairs.map((c) => [c.id, []]));
    const byStaff = new Map<string, Span[]>(req.staff.map((x) => [x.id, []]));
    const mine: Span[] = [];
    for (const b of req.booked) {
      if (b.chairId !== null) byChair.get(b.chairId)?.push(b);
      if (b.staffId !== null) byStaff.get(b.staffId)?.push(b);
      if (b.patientId === req.patient.id) mine.push(b);
    }
    for (const [id, spans] of byChair) this.chairBusy.set(id, new SpanIndex(spans));
    for (const [id, spans] of byStaff) this.staffBusy.set(id, new SpanIndex(spans));
    this.patientBusy = new SpanIndex(mine);
    this.order = placementOrder(req.sessions);
    this.posOf = [];
    this.order.forEach((i, pos) => (this.posOf[i] = pos));
    const index = new Map(req.sessions.map((s, i) => [s.ref, i]));
    this.children = req.sessions.map(() => []);
    req.sessions.forEach((s, i) => {
      for (const c of s.constraints) {
        const a = index.get(c.ref);
        if (a === undefined || a >= i) throw new Error(`session ${s.ref} depends on ${c.ref}, which is not listed before it`);
        this.children[a].push(i);
      }
    });
    this.placed = req.sessions.map(() => null);
    this.frontier = this.order.map((_, pos) => {
      const remaining = new Set(this.order.slice(pos));
      const anchors = new Map<number, boolean>();
      for (const i of remaining) {
        for (const c of req.sessions[i].constraints) {
          const a = index.get(c.ref)!;
          if (!remaining.has(a)) anchors.set(a, (anchors.get(a) ?? false) || c.gap.unit === 'hours');
        }
      }
      return [...anchors.entries()].sort((x, y) => x[0] - y[0]).map(([i, exact]) => ({ i, exact }));
    });
  }

  // ---- rules that do not involve the plan's own sessions, evaluated once per step and day ----

  /** Local wall-minute intervals of weekly rules on a weekday. */
  private weekly(list: WeeklyInterval[], weekday: number): [number, number][] {
    return list.filter((w) => w.weekday === weekday).map((w) => [toMinutes(w.start), toMinutes(w.end)]);
  }

  /** An interval bound: a wall time inside a skipped gap means the first instant after it. */
  private epochOf(day: number, wall: number): number {
    if (wall >= 1440) return day + 1 < this.cal.days.length ? this.cal.days[day + 1].startMinute : this.cal.endMinute;
    return this.cal.toEpochOrNext(day, wall);
  }

  private closuresOn(day: number): { span: Span; reason: string }[] {
    const date = this.cal.days[day].date;
    const out: { span: Span; reason: string }[] = [];
    for (const c of this.req.closures as EngineClosure[]) {
      if (date < c.startDate || date > c.endDate) continue;
      const from = c.startTime && date === c.startDate ? toMinutes(c.startTime) : 0;
      const to = c.endTime && date === c.endDate ? toMinutes(c.endTime) : 1440;
      out.push({ span: { start: this.epochOf(day, from), end: this.epochOf(day, to) }, reason: c.reason });
    }
    return out;
  }

  private evalDay(si: number, day: number): DayEval {
    const s = this.req.sessions[si];
    const key = `${s.stepKey}|${day}`;
    const cached = this.dayEvals.get(key);
    if (cached) return cached;
    const ev: DayEval = { slots: [], reasons: new Map() };
    const refuse = (code: BindingCode, n = 1) => ev.reasons.set(code, (ev.reasons.get(code) ?? 0) + n);
    this.dayEvals.set(key, ev);
    if (day < 0 || day >= this.cal.days.length) return ev;

    const d = this.cal.days[day];
    const opening = this.weekly(this.req.openingHours, d.weekday);
    if (opening.length === 0) return refuse('CLOSED'), ev;
    if (s.weekdays && !s.weekdays.includes(d.weekday)) return refuse('WEEKDAY_NOT_ALLOWED'), ev;
    if (this.req.patient.unavailableDates.includes(d.date)) return refuse('PATIENT_UNAVAILABLE'), ev;

    const closures = this.closuresOn(day);
    const patientOff = this.weekly(this.req.patient.unavailable, d.weekday).map(([a, b]) => ({ start: this.epochOf(day, a), end: this.epochOf(day, b) }));
    const staffOfRole = s.staffRole ? this.req.staff.filter((st) => st.role === s.staffRole) : [];
    const staffHours = new Map<string, Span[]>(
      staffOfRole.map((st) => [st.id, this.weekly(st.availability, d.weekday).map(([a, b]) => ({ start: this.epochOf(day, a), end: this.epochOf(day, b) }))]),
    );
    const occupy = s.durationMinutes + s.recoveryMinutes;

    for (const [open, close] of opening) {
      const closeAt = this.epochOf(day, close);
      for (let wall = Math.ceil(open / this.g) * this.g; wall < close; wall += this.g) {
        const start = this.cal.toEpoch(day, wall);
        if (start === null) continue; // skipped by a clock change: not a time anyone can be there
        const end = start + occupy;
        if (end > closeAt) break;
        if (start < this.req.now) { refuse('IN_THE_PAST'); continue; }
        const closure = closures.find((c) => c.span.start < end && start < c.span.end);
        if (closure) { refuse('CLOSURE'); ev.closure = closure.reason; continue; }
        if (patientOff.some((p) => p.start < end && start < p.end)) { refuse('PATIENT_UNAVAILABLE'); continue; }
        if (this.patientBusy.overlaps(start, end)) { refuse('PATIENT_BUSY'); continue; }
        if (s.needsChair && !this.req.chairs.some((c) => !this.chairBusy.get(c.id)!.overlaps(start, end))) { refuse('NO_CHAIR'); continue; }
        if (s.staffRole) {
          const present = staffOfRole.filter((st) => staffHours.get(st.id)!.some((h) => h.start <= start && end <= h.end));
          if (present.length === 0) { refuse('NO_STAFF'); continue; }
          if (!present.some((st) => this.underCapacity(st, start, end, []))) { refuse('STAFF_AT_CAPACITY'); continue; }
        }
        ev.slots.push({ start, wall });
      }
    }
    return ev;
  }

  /** Free chairs and present, unsaturated staff of a slot, worked out once when first needed. */
  private resourcesOf(si: number, day: number, slot: Slot): { chairs: string[]; staff: string[] } {
    if (!slot.chairs || !slot.staff) {
      const s = this.req.sessions[si];
      const end = slot.start + s.durationMinutes + s.recoveryMinutes;
      slot.chairs = s.needsChair ? this.req.chairs.filter((c) => !this.chairBusy.get(c.id)!.overlaps(slot.start, end)).map((c) => c.id) : [];
      const weekday = this.cal.days[day].weekday;
      slot.staff = s.staffRole
        ? this.req.staff
            .filter((st) => st.role === s.staffRole)
            .filter((st) =>
              this.weekly(st.availability, weekday).some(([a, b]) => this.epochOf(day, a) <= slot.start && end <= this.epochOf(day, b)),
            )
            .filter((st) => this.underCapacity(st, slot.start, end, []))
            .map((st) => st.id)
        : [];
    }
    return { chairs: slot.chairs, staff: slot.staff };
  }

  private underCapacity(st: EngineStaff, start: number, end: number, extra: SeatSpan[]): boolean {
    return this.freeSeat(st, start, end, extra) !== null;
  }

  /**
   * A seat for a session of `st` over [start, end): with seats known, the lowest seat that no
   * overlapping booking or plan session holds (the database's own rule); without, 0 when the
   * peak number of patients at once stays under the limit. null when there is none.
   */
  private freeSeat(st: EngineStaff, start: number, end: number, extra: SeatSpan[]): number | null {
    const busy = this.staffBusy.get(st.id)!;
    const booked = busy.overlapping(start, end) as (Span & { staffSeat?: number | null })[];
    const others = [...booked, ...extra.filter((x) => x.start < end && start < x.end)];
    if (booked.every((b) => typeof b.staffSeat === 'number') && extra.every((x) => typeof x.staffSeat === 'number')) {
      const taken = new Set(others.map((o) => o.staffSeat));
      for (let seat = 1; seat <= st.maxConcurrentPatients; seat++) if (!taken.has(seat)) return seat;
      return null;
    }
    return peakOverlap(others, start, end) + 1 <= st.maxConcurrentPatients ? 0 : null;
  }

  /**
   * Day-level look-ahead: can session `si` fall on `day` with every dependent still able to find
   * a day? A necessary condition (it ignores times of day and the plan's own sessions), cached.
   */
  private feasibleFrom(si: number, day: number): boolean {
    const key = `${si}|${day}`;
    const known = this.feasible.get(key);
    if (known !== undefined) return known;
    const fixed = this.fixedOf(si);
    let ok = fixed
      ? day === this.cal.dayIndexOf(fixed.start) && (!fixed.check || this.evalDay(si, day).slots.some((x) => x.start === fixed.start))
      : this.evalDay(si, day).slots.length > 0;
    for (const ci of this.children[si]) {
      if (!ok) break;
      const c = this.req.sessions[ci].constraints.find((x) => x.ref === this.req.sessions[si].ref)!;
      const [lo, hi] = dayWindow(c, day);
      let any = false;
      for (let d2 = Math.max(lo, 0); d2 <= Math.min(hi, this.cal.days.length - 1) && !any; d2++) any = this.feasibleFrom(ci, d2);
      ok = any;
    }
    this.feasible.set(key, ok);
    return ok;
  }

  // ---- the search ----

  private anchorOf(c: SessionConstraint): PlacedSession {
    const i = this.req.sessions.findIndex((s) => s.ref === c.ref);
    return this.placed[i]!;
  }

  private meets(c: SessionConstraint, start: number, end: number, day: number): boolean {
    const a = this.anchorOf(c);
    const aDay = this.cal.dayIndexOf(a.start);
    if (c.sameDay && aDay !== day) return false;
    if (c.gap.unit === 'days') {
      const diff = c.relation === 'after' ? day - aDay : aDay - day;
      return diff >= c.gap.min && diff <= c.gap.max;
    }
    const diff = c.relation === 'after' ? start - a.occupiedUntil : a.start - end;
    return diff >= c.gap.min * 60 && diff <= c.gap.max * 60;
  }

  /** Candidate days for a session, most preferred first. */
  private fixedOf(si: number): FixedPlacement | undefined {
    return this.req.fixed?.[this.req.sessions[si].ref];
  }

  private candidateDays(si: number, rootDays: [number, number]): number[] {
    const fixed = this.fixedOf(si);
    if (fixed) {
      const d = this.cal.dayIndexOf(fixed.start);
      return d >= 0 ? [d] : [];
    }
    const days = this.candidateDaysInOrder(si, rootDays);
    const prefer = this.req.prefer?.[this.req.sessions[si].ref];
    if (prefer === undefined) return days;
    // Move only as far as needed: the preferred day first, then the nearest, earlier before later.
    const preferred = this.cal.dayIndexOf(prefer);
    return [...days].sort((a, b) => Math.abs(a - preferred) - Math.abs(b - preferred) || a - b);
  }

  private candidateDaysInOrder(si: number, rootDays: [number, number]): number[] {
    const s = this.req.sessions[si];
    if (s.constraints.length === 0) {
      const out: number[] = [];
      // The first independent session may only be as late as the start allows; others anywhere in the window.
      const hi = si === this.order[0] ? Math.min(rootDays[1], this.startDays[1] + this.reach) : rootDays[1];
      for (let d = Math.max(rootDays[0], this.startDays[0]); d < hi; d++) out.push(d);
      return out;
    }
    let lo = 0;
    let hi = this.cal.days.length - 1;
    for (const c of s.constraints) {
      const [a, b] = dayWindow(c, this.cal.dayIndexOf(this.anchorOf(c).start));
      lo = Math.max(lo, a);
      hi = Math.min(hi, b);
    }
    const days: number[] = [];
    for (let d = lo; d <= hi; d++) days.push(d);
    const c = s.constraints[0];
    if (c.gap.unit !== 'days' || c.sameDay) return days;
    // Completion is measured against the targets: a day before the target does not delay the
    // plan, one after does. So: the target, then earlier days nearest first, then later ones.
    const aDay = this.cal.dayIndexOf(this.anchorOf(c).start);
    const gapOf = (d: number) => (c.relation === 'after' ? d - aDay : aDay - d);
    const rank = (d: number) => {
      const delta = gapOf(d) - c.gap.target;
      const late = c.relation === 'after' ? delta > 0 : delta < 0;
      return [late ? 1 : 0, Math.abs(delta)];
    };
    return days.sort((x, y) => {
      const [lx, dx] = rank(x);
      const [ly, dy] = rank(y);
      return lx - ly || dx - dy || x - y;
    });
  }

  /** Slots of a day ordered: nearest the gap target, same time of day, patient's preferred times, earliest. */
  private orderedSlots(si: number, day: number, slots: Slot[]): Slot[] {
    const s = this.req.sessions[si];
    const hourGap = s.constraints.find((c) => c.gap.unit === 'hours' && !c.sameDay) ?? s.constraints.find((c) => c.gap.unit === 'hours');
    let targetStart: number | undefined;
    if (hourGap) {
      const a = this.anchorOf(hourGap);
      targetStart = hourGap.relation === 'after' ? a.occupiedUntil + hourGap.gap.target * 60 : a.start - hourGap.gap.target * 60 - (s.durationMinutes + s.recoveryMinutes);
    }
    let refWall: number | undefined;
    if (s.sameTimeOfDay) {
      const first = this.placed.find((p) => p && p.stepKey === s.stepKey);
      if (first) refWall = toMinutes(first.localTime);
    }
    const weekday = this.cal.days[day].weekday;
    const preferred = this.weekly(this.req.patient.preferredTimes, weekday);
    const occupy = s.durationMinutes + s.recoveryMinutes;
    const prefPenalty = (wall: number) => (preferred.length === 0 || preferred.some(([a, b]) => a <= wall && wall + occupy <= b) ? 0 : 1);
    // A preferred start is a local time of day: across a clock change it stays 10:00, not the same instant.
    const prefer = this.req.prefer?.[s.ref];
    const preferDay = prefer === undefined ? -1 : this.cal.dayIndexOf(prefer);
    const preferWall = prefer === undefined || preferDay < 0 ? undefined : this.cal.wallMinute(preferDay, prefer);
    const key = (x: Slot): number[] => [
      preferWall === undefined ? 0 : Math.abs(x.wall - preferWall),
      targetStart === undefined ? 0 : Math.abs(x.start - targetStart),
      refWall === undefined ? 0 : Math.abs(x.wall - refWall),
      prefPenalty(x.wall),
      x.start,
    ];
    return [...slots].sort((x, y) => {
      const kx = key(x);
      const ky = key(y);
      for (let k = 0; k < kx.length; k++) if (kx[k] !== ky[k]) return kx[k] - ky[k];
      return 0;
    });
  }

  private note(pos: number, code: BindingCode, closure?: { date: string; reason: string }): void {
    if (pos > this.deepest) {
      this.deepest = pos;
      this.deepestReasons = new Map();
      this.deepestClosure = undefined;
      this.deepestLookahead = [];
      this.deepestHourChild = new Map();
    }
    if (pos === this.deepest) {
      this.deepestReasons.set(code, (this.deepestReasons.get(code) ?? 0) + 1);
      if (closure) this.deepestClosure ??= closure;
    }
  }

  /** The plan's own sessions with this staff member, with the seats they took. */
  /** A placed session that holds its resources (not a kept cancelled one). */
  private holding(p: PlacedSession | null): p is PlacedSession {
    return p !== null && this.req.fixed?.[p.ref]?.holds !== false;
  }

  private placedSeats(staffId: string): SeatSpan[] {
    return this.placed
      .filter((p): p is PlacedSession => this.holding(p) && p.staffId === staffId)
      .map((p) => ({ start: p.start, end: p.occupiedUntil, staffSeat: p.staffSeat ?? null }));
  }

  private placedSpans(predicate: (p: PlacedSession) => boolean): Span[] {
    return this.placed.filter((p): p is PlacedSession => this.holding(p) && predicate(p)).map((p) => ({ start: p.start, end: p.occupiedUntil }));
  }

  /**
   * Slot-level look-ahead for dependents timed in hours (therapy 0–24 h after an infusion): is
   * there any statically possible slot for each of them, given this start? Skips starts that
   * would leave an attached session nowhere to go, before the search commits to them.
   */
  private hourChildrenFit(si: number, start: number, occupiedUntil: number): number {
    for (const ci of this.children[si]) {
      const child = this.req.sessions[ci];
      const c = child.constraints.find((x) => x.ref === this.req.sessions[si].ref)!;
      if (c.gap.unit !== 'hours' || this.fixedOf(ci)) continue; // a fixed dependent is checked when placed
      const childOccupy = child.durationMinutes + child.recoveryMinutes;
      const [lo, hi] =
        c.relation === 'after'
          ? [occupiedUntil + c.gap.min * 60, occupiedUntil + c.gap.max * 60]
          : [start - c.gap.max * 60 - childOccupy, start - c.gap.min * 60 - childOccupy];
      const day = this.cal.dayIndexOf(start);
      const [dLo, dHi] = dayWindow(c, day);
      let any = false;
      for (let d = Math.max(dLo, 0); d <= Math.min(dHi, this.cal.days.length - 1) && !any; d++) {
        if (c.sameDay && d !== day) continue;
        any = this.evalDay(ci, d).slots.some((x) => x.start >= lo && x.start <= hi);
      }
      if (!any) return ci;
    }
    return -1;
  }

  /** The plan's first session (its start) must fall on a day in [from, to). */
  private startDays: [number, number] = [0, 0];
  /** See beforeReachDays(). */
  private reach = 0;

  private search(pos: number, rootDays: [number, number]): boolean {
    if (pos === this.order.length) {
      const first = this.cal.dayIndexOf(Math.min(...this.placed.map((p) => p!.start)));
      if (first >= this.startDays[0] && first < this.startDays[1]) return true;
      this.inPlanRejections++; // depends on the whole plan, so never memoised
      return false;
    }
    // Sessions without constraints use the root window, so it is part of the key while any remain.
    const roots = this.order.slice(pos).some((i) => this.req.sessions[i].constraints.length === 0) ? `${rootDays[0]}-${rootDays[1]}-${this.startDays[0]}-${this.startDays[1]}` : '';
    const anchors = this.frontier[pos].map(({ i, exact }) => (exact ? this.placed[i]!.start : `d${this.cal.dayIndexOf(this.placed[i]!.start)}`));
    const memoKey = `${pos}|${roots}|${anchors.join(',')}`;
    if (this.failed.has(memoKey)) return false;
    const rejectionsBefore = this.inPlanRejections;
    const found = this.searchHere(pos, rootDays);
    // Sound to remember: nothing the plan itself had placed took part in this failure, so any
    // other prefix with the same anchors fails the same way (its sessions can only remove options).
    if (!found && this.nodes <= this.maxNodes && this.inPlanRejections === rejectionsBefore) this.failed.add(memoKey);
    return found;
  }

  private searchHere(pos: number, rootDays: [number, number]): boolean {
    const si = this.order[pos];
    const s = this.req.sessions[si];
    const occupy = s.durationMinutes + s.recoveryMinutes;
    const fixed = this.fixedOf(si);
    if (fixed && !fixed.check) {
      // A fact: placed as it is, checked against nothing (it has happened, or it stays).
      const day = this.cal.dayIndexOf(fixed.start);
      if (day < 0) throw new Error(`kept session ${s.ref} lies outside the calendar`);
      this.placed[si] = {
        ref: s.ref,
        stepKey: s.stepKey,
        occurrence: s.occurrence,
        occurrences: s.occurrences,
        kind: s.kind,
        label: s.label,
        start: fixed.start,
        end: fixed.start + s.durationMinutes,
        occupiedUntil: fixed.start + occupy,
        localDate: this.cal.days[day].date,
        localTime: hhmm(this.cal.wallMinute(day, fixed.start)),
        chairId: fixed.chairId,
        staffId: fixed.staffId,
        staffSeat: fixed.staffSeat ?? null,
        dose: s.dose,
      };
      if (this.search(pos + 1, rootDays)) return true;
      this.placed[si] = null;
      return false;
    }
    const previous = this.placed.filter((p): p is PlacedSession => p !== null && p.stepKey === s.stepKey).pop();

    for (const day of this.candidateDays(si, rootDays)) {
      if (!this.feasibleFrom(si, day)) {
        const ev = this.evalDay(si, day);
        if (ev.slots.length === 0) {
          for (const [code, n] of ev.reasons) {
            for (let k = 0; k < n; k++) this.note(pos, code, code === 'CLOSURE' && ev.closure ? { date: this.cal.days[day]?.date, reason: ev.closure } : undefined);
          }
        } else {
          this.note(pos, 'GAP');
          if (pos === this.deepest) this.deepestLookahead.push(day);
        }
        continue;
      }
      const daySlots = this.evalDay(si, day).slots;
      for (const slot of this.orderedSlots(si, day, fixed ? daySlots.filter((x) => x.start === fixed.start) : daySlots)) {
        if (++this.nodes > this.maxNodes) return false;
        const start = slot.start;
        const end = start + occupy;
        if (!s.constraints.every((c) => this.meets(c, start, start + occupy, day))) { this.note(pos, 'GAP'); continue; }
        const stuck = this.hourChildrenFit(si, start, end);
        if (stuck >= 0) {
          this.note(pos, 'GAP');
          if (pos === this.deepest) this.deepestHourChild.set(stuck, (this.deepestHourChild.get(stuck) ?? 0) + 1);
          continue;
        }
        if (this.placed.some((p) => this.holding(p) && p.start < end && start < p.occupiedUntil)) { this.inPlanRejections++; this.note(pos, 'PATIENT_BUSY'); continue; }
        const all = this.resourcesOf(si, day, slot);
        // A forced chair or staff member is the only one considered.
        const free = {
          chairs: fixed?.chairId ? all.chairs.filter((c) => c === fixed.chairId) : all.chairs,
          staff: fixed?.staffId ? all.staff.filter((x) => x === fixed.staffId) : all.staff,
        };
        if (s.needsChair && free.chairs.length === 0) { this.note(pos, 'NO_CHAIR'); continue; }
        if (s.staffRole && free.staff.length === 0) { this.note(pos, 'STAFF_AT_CAPACITY'); continue; }
        let chairId: string | null = null;
        if (s.needsChair) {
          const ordered = previous?.chairId && free.chairs.includes(previous.chairId) ? [previous.chairId, ...free.chairs.filter((c) => c !== previous.chairId)] : free.chairs;
          chairId = ordered.find((c) => this.placedSpans((p) => p.chairId === c).every((x) => !(x.start < end && start < x.end))) ?? null;
          if (!chairId) { this.inPlanRejections++; this.note(pos, 'NO_CHAIR'); continue; }
        }
        let staffId: string | null = null;
        let staffSeat: number | null = null;
        if (s.staffRole) {
          const ordered = previous?.staffId && free.staff.includes(previous.staffId) ? [previous.staffId, ...free.staff.filter((x) => x !== previous.staffId)] : free.staff;
          for (const id of ordered) {
            const seat = this.freeSeat(this.req.staff.find((st) => st.id === id)!, start, end, this.placedSeats(id));
            if (seat !== null) {
              staffId = id;
              staffSeat = seat === 0 ? null : seat;
              break;
            }
          }
          if (!staffId) { this.inPlanRejections++; this.note(pos, 'STAFF_AT_CAPACITY'); continue; }
        }
        this.placed[si] = {
          ref: s.ref,
          stepKey: s.stepKey,
          occurrence: s.occurrence,
          occurrences: s.occurrences,
          kind: s.kind,
          label: s.label,
          start,
          end: start + s.durationMinutes,
          occupiedUntil: end,
          localDate: this.cal.days[day].date,
          localTime: hhmm(slot.wall),
          chairId,
          staffId,
          staffSeat,
          dose: s.dose,
        };
        if (this.search(pos + 1, rootDays)) return true;
        this.placed[si] = null;
        if (this.nodes > this.maxNodes) return false;
      }
    }
    return false;
  }

  /**
   * When the look-ahead refused every day for a session, the cause lies with a dependent: follow
   * the dependents that could not find a day, down to one that has no usable day at all.
   */
  private explainLookahead(si: number, days: number[]): { si: number; reasons: Map<BindingCode, number>; closure?: { date: string; reason: string } } {
    for (const ci of this.children[si]) {
      const c = this.req.sessions[ci].constraints.find((x) => x.ref === this.req.sessions[si].ref)!;
      const window = new Set<number>();
      for (const d of days) {
        if (this.evalDay(si, d).slots.length === 0) continue;
        const [lo, hi] = dayWindow(c, d);
        for (let d2 = Math.max(lo, 0); d2 <= Math.min(hi, this.cal.days.length - 1); d2++) window.add(d2);
      }
      const childDays = [...window].sort((a, b) => a - b);
      if (childDays.length === 0 || childDays.some((d2) => this.feasibleFrom(ci, d2))) continue;
      const withSlots = childDays.filter((d2) => this.evalDay(ci, d2).slots.length > 0);
      if (withSlots.length > 0) return this.explainLookahead(ci, withSlots);
      const reasons = new Map<BindingCode, number>();
      let closure: { date: string; reason: string } | undefined;
      for (const d2 of childDays) {
        const ev = this.evalDay(ci, d2);
        for (const [code, n] of ev.reasons) reasons.set(code, (reasons.get(code) ?? 0) + n);
        if (ev.closure && !closure) closure = { date: this.cal.days[d2].date, reason: ev.closure };
      }
      return { si: ci, reasons, closure };
    }
    return { si, reasons: new Map([['GAP', 1]]) };
  }

  private binding(): BindingConstraint {
    if (this.nodes > this.maxNodes) {
      const s = this.req.sessions[this.order[Math.max(this.deepest, 0)]];
      return { code: 'SEARCH_LIMIT', ref: s.ref, message: `the search gave up after ${this.maxNodes} attempts while placing ${s.label}; try a later start or fewer constraints` };
    }
    const pos = Math.max(this.deepest, 0);
    let s = this.req.sessions[this.order[pos]];
    let reasons = this.deepestReasons;
    // Days that had times but no way for a dependent to follow point deeper than days with no
    // time at all (a Sunday is closed, but the weekdays failed because of something later).
    if (this.deepestHourChild.size > 0) {
      // Starts were refused because an attached session timed in hours could never follow.
      const [ci] = [...this.deepestHourChild.entries()].sort((a, b) => b[1] - a[1])[0];
      s = this.req.sessions[ci];
      reasons = new Map([['GAP', 1]]);
    } else if (this.deepestLookahead.length > 0) {
      const explained = this.explainLookahead(this.order[pos], this.deepestLookahead);
      s = this.req.sessions[explained.si];
      reasons = explained.reasons;
      this.deepestClosure = explained.closure;
    }
    // The reason met most often where the search got stuck; GAP only when nothing more specific.
    const ranked = [...reasons.entries()].sort((a, b) => (a[0] === 'GAP' ? 1 : 0) - (b[0] === 'GAP' ? 1 : 0) || b[1] - a[1]);
    const code: BindingCode = ranked[0]?.[0] ?? 'GAP';
    const c = s.constraints[0];
    const within = c
      ? ` within its ${c.gap.max}-${c.gap.unit === 'days' ? 'day' : 'hour'} maximum gap ${c.relation === 'after' ? 'after' : 'before'} ${c.ref.replace('#', ' #')}`
      : ` in the ${this.req.startWindowDays ?? DEFAULT_START_WINDOW} days from ${this.req.earliestStart}`;
    const what = `${s.label} (${s.ref})`;
    const messages: Record<BindingCode, string> = {
      CLOSED: `the clinic is not open on any allowed day for ${what}${within}`,
      CLOSURE: `closure ${this.deepestClosure?.date ?? ''}${this.deepestClosure ? ` (${this.deepestClosure.reason})` : ''} leaves no time for ${what}${within}`,
      WEEKDAY_NOT_ALLOWED: `no allowed weekday for ${what}${within}`,
      PATIENT_UNAVAILABLE: `the patient is unavailable at every possible time for ${what}${within}`,
      PATIENT_BUSY: `the patient has other sessions at every possible time for ${what}${within}`,
      NO_CHAIR: `no chair free for ${what}${within}`,
      NO_STAFF: `no ${s.staffRole ?? 'staff member'} available for ${what}${within}`,
      STAFF_AT_CAPACITY: `every ${s.staffRole ?? 'staff member'} is at their limit of patients at once for ${what}${within}`,
      IN_THE_PAST: `every possible time for ${what} is in the past`,
      GAP: `no time for ${what} keeps its gaps${within}`,
      SEARCH_LIMIT: '',
    };
    const binding: BindingConstraint = { code, ref: s.ref, message: messages[code] };
    if (code === 'CLOSURE' && this.deepestClosure?.date) binding.date = this.deepestClosure.date;
    return binding;
  }

  /** The slots of the (only) session on each day of the calendar. */
  freeSlots(days: number): FreeSlot[] {
    const out: FreeSlot[] = [];
    for (let day = 0; day < days; day++) {
      for (const slot of this.evalDay(0, day).slots) {
        const free = this.resourcesOf(0, day, slot);
        out.push({ start: slot.start, localDate: this.cal.days[day].date, localTime: hhmm(slot.wall), chairIds: free.chairs, staffIds: free.staff });
      }
    }
    return out;
  }

  run(): ScheduleResult {
    const window = this.req.startWindowDays ?? DEFAULT_START_WINDOW;
    const probe = Math.min(this.req.probeDays ?? DEFAULT_PROBE_DAYS, this.cal.days.length);
    // The window bounds the plan's start (its first session); an independent session may come
    // later than the window by as much as sessions attached 'before' it can precede it.
    const reach = beforeReachDays(this.req.sessions);
    this.reach = reach;
    const end = this.cal.days.length;
    this.startDays = [0, Math.min(window, probe)];
    if (this.search(0, [0, Math.min(window + reach, end)])) return this.result();
    const binding = this.binding();
    // Where would it work? Try later first days, skipping those the look-ahead rules out.
    // The earliest start: the first day on which some plan can start.
    const root = this.order[0];
    for (let d = window; d < probe && this.nodes <= this.maxNodes; d++) {
      let possible = false;
      for (let r = d; r < Math.min(d + 1 + reach, end) && !possible; r++) possible = this.feasibleFrom(root, r);
      if (!possible) continue;
      this.placed.fill(null);
      this.startDays = [d, d + 1];
      if (this.search(0, [d, Math.min(d + window + reach, end)])) {
        return { kind: 'infeasible', binding, earliestStart: this.cal.days[d].date, nodes: this.nodes };
      }
    }
    return { kind: 'infeasible', binding, earliestStart: null, nodes: this.nodes };
  }

  private result(): ScheduleResult {
    const sessions = this.placed.map((p) => p!).sort((a, b) => a.start - b.start || a.ref.localeCompare(b.ref));
    return { kind: 'planned', sessions, nodes: this.nodes };
  }
}

/**
 * Places a tailored series in a clinic's calendar. Pure: everything it needs comes in the request
 * (zone, hours, closures, chairs, staff, bookings, patient, sessions, now), and the same request
 * always gives the same answer.
 *
 * Every session (with its recovery) lies inside opening hours and outside closures, on an
 * allowed weekday and not in the past; its chair is free; its staff member is present for all of
 * it and under their limit of patients at once; the patient is free and not unavailable; every
 * gap is within its bounds (days: local calendar days; hours: elapsed time from the end of
 * the earlier session, recovery included).
 *
 * Preference, in order: earliest completion (measured against the targets: a gap shorter than
 * its target does not count as finishing earlier, a longer one delays), gaps nearest their
 * targets, the same local time of day where the step asks for it, the patient's preferred
 * times, then the earliest time. The search is depth-first with a day-level look-ahead and
 * takes the first plan in that order.
 *
 * When nothing fits, the result names the binding constraint and the earliest first day within
 * `probeDays` from which a plan would work, if any.
 */
export function schedule(req: ScheduleRequest): ScheduleResult {
  if (req.sessions.length === 0) return { kind: 'planned', sessions: [], nodes: 0 };
  return new Scheduler(req).run();
}

export interface AvailabilityRequest extends Omit<ScheduleRequest, 'sessions' | 'patient' | 'earliestStart' | 'horizonDays'> {
  /** First and last local dates (inclusive). */
  from: string;
  to: string;
  durationMinutes: number;
  recoveryMinutes: number;
  needsChair: boolean;
  staffRole: string | null;
}

export interface FreeSlot {
  start: number;
  localDate: string;
  localTime: string;
  chairIds: string[];
  staffIds: string[];
}

/**
 * Every start time in [from, to] at which a session of this shape could be booked now: inside
 * opening hours, outside closures, with a free chair (if needed) and a staff member of the role
 * present and under their limit. The same rules as `schedule`, for one session and no patient.
 */
export function availableSlots(req: AvailabilityRequest): FreeSlot[] {
  const days = Math.round((Date.parse(`${req.to}T00:00:00Z`) - Date.parse(`${req.from}T00:00:00Z`)) / 86_400_000) + 1;
  const session: SessionToPlace = {
    ref: 'slot#1',
    stepKey: 'slot',
    occurrence: 1,
    occurrences: 1,
    kind: 'consult',
    label: 'Slot',
    durationMinutes: req.durationMinutes,
    recoveryMinutes: req.recoveryMinutes,
    needsChair: req.needsChair,
    staffRole: req.staffRole as SessionToPlace['staffRole'],
    dose: null,
    sameTimeOfDay: false,
    weekdays: null,
    constraints: [],
  };
  const scheduler = new Scheduler({
    ...req,
    sessions: [session],
    patient: { id: '', unavailable: [], unavailableDates: [], preferredTimes: [] },
    earliestStart: req.from,
    horizonDays: days,
  });
  return scheduler.freeSlots(days);
}
