import { SpanIndex, type Span } from '../../src/scheduling/engine/intervals.js';
import type {
  BindingCode,
  BindingConstraint,
  EngineClosure,
  FixedPlacement,
  PlacedSession,
  ScheduleRequest,
  ScheduleResult,
  SessionConstraint,
  SessionToPlace,
  WeeklyInterval,
} from '../../src/scheduling/engine/types.js';
import { ZoneCalendar } from '../../src/scheduling/engine/zone-calendar.js';

const DEFAULT_GRANULARITY = 15;
const DEFAULT_START_WINDOW = 14;
const DEFAULT_PROBE_DAYS = 120;
const DEFAULT_MAX_NODES = 200_000;

const toMinutes = (hhmm: string) => {
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
function byWeekday(list: WeeklyInterval[]): number[][] {
  const out: number[][] = [[], [], [], [], [], [], [], []];
  for (const w of list) {
    const bucket = out[w.weekday];
    if (bucket !== undefined && Number.isInteger(w.weekday)) bucket.push(toMinutes(w.start), toMinutes(w.end));
  }
  return out;
}

/** Reason codes in a fixed order, for counting refusals in an array. */
const CODES: BindingCode[] = [
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
];
const [
  ,
  R_CLOSURE,
  ,
  R_PATIENT_UNAVAILABLE,
  R_PATIENT_BUSY,
  R_NO_CHAIR,
  R_NO_STAFF,
  R_STAFF_AT_CAPACITY,
  R_IN_THE_PAST,
] = CODES.map((_, i) => i);

/** A booking as the staff index holds it. */
type SeatSpan = Span & { staffSeat?: number | null };
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

/** How many days past an anchor a dependent may fall, as a superset for day-level pruning. */
function dayWindow(c: SessionConstraint, anchorDay: number): [number, number] {
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
  /**
   * Bookings per distinct chair and staff id (`chairSlot[i]`, `staffSlot[i]` for the i-th chair
   * or staff member), indexed only when first consulted.
   */
  private readonly chairSlot: number[];
  private readonly chairSpans: Span[][] = [];
  private readonly chairBusy: (SpanIndex | undefined)[] = [];
  private readonly staffSlot: number[];
  private readonly staffSpans: Span[][] = [];
  private readonly staffBusy: (SpanIndex | undefined)[] = [];
  /** The first staff member with an id. */
  private readonly staffById = new Map<string, number>();
  /** Staff (indexes, in preference order) per role. */
  private readonly staffOfRole = new Map<string, number[]>();
  private readonly patientBusy: SpanIndex;
  /** Day evaluations per step (sessions of a step share them) and day; out of the calendar by key. */
  private readonly stepOf: number[];
  private readonly dayEvals: (DayEval | undefined)[][];
  private readonly dayEvalsOutside = new Map<string, DayEval>();
  /** feasibleFrom per session and day: 0 unknown, 1 yes, 2 no; out of the calendar by key. */
  private readonly feasible: number[][];
  private readonly feasibleOutside = new Map<string, boolean>();
  /** Weekly rules as minutes per weekday, parsed once per request. */
  private readonly openingByWeekday: number[][];
  private readonly unavailableByWeekday: number[][];
  private readonly preferredByWeekday: number[][];
  private readonly availabilityByWeekday: (number[][] | undefined)[] = [];
  /** Per day (shared by every step): closures, the patient's unavailable spans, staff hours (epoch minutes). */
  private readonly closuresByDay: ({ span: Span; reason: string }[] | undefined)[] = [];
  private readonly patientOffByDay: (Span[] | undefined)[] = [];
  private readonly staffHoursByDay: (Span[] | undefined)[][] = [];
  private readonly unavailableDates: Set<string>;
  /** The first session with a ref (what a constraint's ref names). */
  private readonly indexOfRef = new Map<string, number>();
  /** Per session, for each entry of children[si]: the child's constraint on it. */
  private readonly childConstraint: SessionConstraint[][];
  /** Whether any session from a position on has no constraints (the root window matters). */
  private readonly rootsFrom: boolean[];
  /** Reused by freeSeat: the spans overlapping the asked interval, with their seats. */
  private readonly scratchStart: number[] = [];
  private readonly scratchEnd: number[] = [];
  private readonly scratchSeat: number[] = [];
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
    const chairIds = new Map<string, number>();
    this.chairSlot = req.chairs.map((c) => {
      let slot = chairIds.get(c.id);
      if (slot === undefined) {
        chairIds.set(c.id, (slot = this.chairSpans.length));
        this.chairSpans.push([]);
      }
      return slot;
    });
    const staffIds = new Map<string, number>();
    this.staffSlot = req.staff.map((x, i) => {
      let slot = staffIds.get(x.id);
      if (slot === undefined) {
        staffIds.set(x.id, (slot = this.staffSpans.length));
        this.staffSpans.push([]);
        this.staffById.set(x.id, i);
      }
      let ofRole = this.staffOfRole.get(x.role);
      if (!ofRole) this.staffOfRole.set(x.role, (ofRole = []));
      ofRole.push(i);
      return slot;
    });
    const mine: Span[] = [];
    const patientId = req.patient.id;
    for (const b of req.booked) {
      if (b.chairId !== null) {
        const slot = chairIds.get(b.chairId);
        if (slot !== undefined) this.chairSpans[slot].push(b);
      }
      if (b.staffId !== null) {
        const slot = staffIds.get(b.staffId);
        if (slot !== undefined) this.staffSpans[slot].push(b);
      }
      if (b.patientId === patientId) mine.push(b);
    }
    this.patientBusy = new SpanIndex(mine);
    this.unavailableDates = new Set(req.patient.unavailableDates);
    this.openingByWeekday = byWeekday(req.openingHours);
    this.unavailableByWeekday = byWeekday(req.patient.unavailable);
    this.preferredByWeekday = byWeekday(req.patient.preferredTimes);
    const stepIds = new Map<string, number>();
    this.stepOf = req.sessions.map((s) => {
      let step = stepIds.get(s.stepKey);
      if (step === undefined) stepIds.set(s.stepKey, (step = stepIds.size));
      return step;
    });
    this.dayEvals = [...stepIds.keys()].map(() => []);
    this.feasible = req.sessions.map(() => new Array<number>(this.cal.days.length).fill(0));
    req.sessions.forEach((s, i) => {
      if (!this.indexOfRef.has(s.ref)) this.indexOfRef.set(s.ref, i);
    });
    this.order = placementOrder(req.sessions);
    this.posOf = [];
    this.order.forEach((i, pos) => (this.posOf[i] = pos));
    const index = new Map(req.sessions.map((s, i) => [s.ref, i]));
    this.children = req.sessions.map(() => []);
    req.sessions.forEach((s, i) => {
      for (const c of s.constraints) {
        const a = index.get(c.ref);
        if (a === undefined || a >= i)
          throw new Error(`session ${s.ref} depends on ${c.ref}, which is not listed before it`);
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
    this.childConstraint = this.children.map((kids, si) =>
      kids.map((ci) => req.sessions[ci].constraints.find((x) => x.ref === req.sessions[si].ref)!),
    );
    this.rootsFrom = this.order.map((_, pos) =>
      this.order.slice(pos).some((i) => req.sessions[i].constraints.length === 0),
    );
  }

  /** The bookings of the i-th chair. */
  private chairIndex(i: number): SpanIndex {
    const slot = this.chairSlot[i];
    return (this.chairBusy[slot] ??= new SpanIndex(this.chairSpans[slot]));
  }

  /** Whether any chair is free over [start, end). */
  private anyChairFree(start: number, end: number): boolean {
    for (let i = 0; i < this.chairSlot.length; i++) if (!this.chairIndex(i).overlaps(start, end)) return true;
    return false;
  }

  /** The bookings of the i-th staff member. */
  private staffIndex(i: number): SpanIndex {
    const slot = this.staffSlot[i];
    return (this.staffBusy[slot] ??= new SpanIndex(this.staffSpans[slot]));
  }

  /** Local minute pairs of the i-th staff member's availability on a weekday. */
  private availabilityOn(i: number, weekday: number): number[] {
    return (this.availabilityByWeekday[i] ??= byWeekday(this.req.staff[i].availability))[weekday] ?? [];
  }

  /** The i-th staff member's hours on a day, in epoch minutes. */
  private staffHoursOn(i: number, day: number): Span[] {
    const row = (this.staffHoursByDay[i] ??= []);
    let hours = row[day];
    if (!hours) {
      const m = this.availabilityOn(i, this.cal.days[day].weekday);
      hours = [];
      for (let k = 0; k < m.length; k += 2)
        hours.push({ start: this.epochOf(day, m[k]), end: this.epochOf(day, m[k + 1]) });
      row[day] = hours;
    }
    return hours;
  }

  /** Whether the i-th staff member is present over all of [start, end) on a day. */
  private present(i: number, day: number, start: number, end: number): boolean {
    const hours = this.staffHoursOn(i, day);
    for (let k = 0; k < hours.length; k++) if (hours[k].start <= start && end <= hours[k].end) return true;
    return false;
  }

  // ---- rules that do not involve the plan's own sessions, evaluated once per step and day ----

  /** An interval bound: a wall time inside a skipped gap means the first instant after it. */
  private epochOf(day: number, wall: number): number {
    if (wall >= 1440) return day + 1 < this.cal.days.length ? this.cal.days[day + 1].startMinute : this.cal.endMinute;
    return this.cal.toEpochOrNext(day, wall);
  }

  private closuresOn(day: number): { span: Span; reason: string }[] {
    const known = this.closuresByDay[day];
    if (known) return known;
    const date = this.cal.days[day].date;
    const out: { span: Span; reason: string }[] = [];
    for (const c of this.req.closures as EngineClosure[]) {
      if (date < c.startDate || date > c.endDate) continue;
      const from = c.startTime && date === c.startDate ? toMinutes(c.startTime) : 0;
      const to = c.endTime && date === c.endDate ? toMinutes(c.endTime) : 1440;
      out.push({ span: { start: this.epochOf(day, from), end: this.epochOf(day, to) }, reason: c.reason });
    }
    return (this.closuresByDay[day] = out);
  }

  private patientOffOn(day: number): Span[] {
    let off = this.patientOffByDay[day];
    if (!off) {
      const m = this.unavailableByWeekday[this.cal.days[day].weekday];
      off = [];
      for (let k = 0; k < m.length; k += 2)
        off.push({ start: this.epochOf(day, m[k]), end: this.epochOf(day, m[k + 1]) });
      this.patientOffByDay[day] = off;
    }
    return off;
  }

  private evalDay(si: number, day: number): DayEval {
    const s = this.req.sessions[si];
    if (day < 0 || day >= this.cal.days.length) {
      const key = `${s.stepKey}|${day}`;
      let outside = this.dayEvalsOutside.get(key);
      if (!outside) this.dayEvalsOutside.set(key, (outside = { slots: [], reasons: new Map() }));
      return outside;
    }
    const row = this.dayEvals[this.stepOf[si]];
    const cached = row[day];
    if (cached) return cached;
    const ev: DayEval = { slots: [], reasons: new Map() };
    row[day] = ev;

    const d = this.cal.days[day];
    const opening = this.openingByWeekday[d.weekday];
    if (opening.length === 0) return (ev.reasons.set('CLOSED', 1), ev);
    if (s.weekdays && !s.weekdays.includes(d.weekday)) return (ev.reasons.set('WEEKDAY_NOT_ALLOWED', 1), ev);
    if (this.unavailableDates.has(d.date)) return (ev.reasons.set('PATIENT_UNAVAILABLE', 1), ev);

    const closures = this.closuresOn(day);
    const patientOff = this.patientOffOn(day);
    const staffOfRole = s.staffRole ? (this.staffOfRole.get(s.staffRole) ?? []) : [];
    const occupy = s.durationMinutes + s.recoveryMinutes;
    const now = this.req.now;
    const g = this.g;
    // Refusals counted per code, reported in the order first met.
    const counts = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const seen: number[] = [];
    const refuse = (code: number) => {
      if (counts[code]++ === 0) seen.push(code);
    };

    for (let k = 0; k < opening.length; k += 2) {
      const open = opening[k];
      const close = opening[k + 1];
      const closeAt = this.epochOf(day, close);
      for (let wall = Math.ceil(open / g) * g; wall < close; wall += g) {
        const start = this.cal.toEpoch(day, wall);
        if (start === null) continue; // skipped by a clock change: not a time anyone can be there
        const end = start + occupy;
        if (end > closeAt) break;
        if (start < now) {
          refuse(R_IN_THE_PAST);
          continue;
        }
        let closure: { span: Span; reason: string } | undefined;
        for (let c = 0; c < closures.length; c++) {
          if (closures[c].span.start < end && start < closures[c].span.end) {
            closure = closures[c];
            break;
          }
        }
        if (closure) {
          refuse(R_CLOSURE);
          ev.closure = closure.reason;
          continue;
        }
        let off = false;
        for (let p = 0; p < patientOff.length && !off; p++)
          off = patientOff[p].start < end && start < patientOff[p].end;
        if (off) {
          refuse(R_PATIENT_UNAVAILABLE);
          continue;
        }
        if (this.patientBusy.overlaps(start, end)) {
          refuse(R_PATIENT_BUSY);
          continue;
        }
        if (s.needsChair && !this.anyChairFree(start, end)) {
          refuse(R_NO_CHAIR);
          continue;
        }
        if (s.staffRole) {
          let anyPresent = false;
          let free = false;
          for (let x = 0; x < staffOfRole.length && !free; x++) {
            const i = staffOfRole[x];
            if (!this.present(i, day, start, end)) continue;
            anyPresent = true;
            free = this.freeSeat(i, start, end, false) !== null;
          }
          if (!anyPresent) {
            refuse(R_NO_STAFF);
            continue;
          }
          if (!free) {
            refuse(R_STAFF_AT_CAPACITY);
            continue;
          }
        }
        ev.slots.push({ start, wall });
      }
    }
    for (const code of seen) ev.reasons.set(CODES[code], counts[code]);
    return ev;
  }

  /** Free chairs and present, unsaturated staff of a slot, worked out once when first needed. */
  private resourcesOf(si: number, day: number, slot: Slot): { chairs: string[]; staff: string[] } {
    if (!slot.chairs || !slot.staff) {
      const s = this.req.sessions[si];
      const start = slot.start;
      const end = start + s.durationMinutes + s.recoveryMinutes;
      const chairs: string[] = [];
      if (s.needsChair)
        for (let i = 0; i < this.chairSlot.length; i++)
          if (!this.chairIndex(i).overlaps(start, end)) chairs.push(this.req.chairs[i].id);
      const staff: string[] = [];
      if (s.staffRole) {
        for (const i of this.staffOfRole.get(s.staffRole) ?? []) {
          if (this.present(i, day, start, end) && this.freeSeat(i, start, end, false) !== null)
            staff.push(this.req.staff[i].id);
        }
      }
      slot.chairs = chairs;
      slot.staff = staff;
    }
    return { chairs: slot.chairs, staff: slot.staff };
  }

  /**
   * A seat for a session of the i-th staff member over [start, end): with seats known, the lowest
   * seat that no overlapping booking or (with `withPlan`) plan session holds (the database's own
   * rule); without, 0 when the peak number of patients at once stays under the limit. null when
   * there is none. Allocates nothing.
   */
  private freeSeat(i: number, start: number, end: number, withPlan: boolean): number | null {
    const st = this.req.staff[i];
    const index = this.staffIndex(i);
    const items = index.items as SeatSpan[];
    const longest = index.longest;
    const os = this.scratchStart;
    const oe = this.scratchEnd;
    const oseat = this.scratchSeat;
    let n = 0;
    let allSeated = true;
    for (let j = index.firstStartingFrom(end) - 1; j >= 0; j--) {
      const b = items[j];
      if (b.start + longest <= start) break;
      if (b.end > start) {
        const v = b.staffSeat;
        os[n] = b.start;
        oe[n] = b.end;
        if (typeof v === 'number') oseat[n] = v;
        else {
          oseat[n] = 0;
          allSeated = false;
        }
        n++;
      }
    }
    if (withPlan) {
      // The plan's own sessions with this staff member: every one must have a seat (overlapping or not).
      for (const p of this.placed) {
        if (!this.holding(p) || p.staffId !== st.id) continue;
        const v = p.staffSeat ?? null;
        if (typeof v !== 'number') allSeated = false;
        if (p.start < end && start < p.occupiedUntil) {
          os[n] = p.start;
          oe[n] = p.occupiedUntil;
          oseat[n] = typeof v === 'number' ? v : 0;
          n++;
        }
      }
    }
    const max = st.maxConcurrentPatients;
    if (allSeated) {
      if (max <= 30) {
        let taken = 0;
        for (let k = 0; k < n; k++) {
          const v = oseat[k];
          if (v >= 1 && v <= 30 && Number.isInteger(v)) taken |= 1 << v;
        }
        for (let x = 1; x <= max; x++) if ((taken & (1 << x)) === 0) return x;
        return null;
      }
      for (let x = 1; x <= max; x++) {
        let taken = false;
        for (let k = 0; k < n && !taken; k++) taken = oseat[k] === x;
        if (!taken) return x;
      }
      return null;
    }
    // The peak number at once within [start, end) is reached at the (clipped) start of one of them.
    let peak = 0;
    for (let k = 0; k < n; k++) {
      const a = os[k] > start ? os[k] : start;
      const b = oe[k] < end ? oe[k] : end;
      if (!(a < b)) continue;
      let at = 0;
      for (let q = 0; q < n; q++) {
        const a2 = os[q] > start ? os[q] : start;
        const b2 = oe[q] < end ? oe[q] : end;
        if (a2 < b2 && a2 <= a && a < b2) at++;
      }
      if (at > peak) peak = at;
    }
    return peak + 1 <= max ? 0 : null;
  }

  /**
   * Day-level look-ahead: can session `si` fall on `day` with every dependent still able to find
   * a day? A necessary condition (it ignores times of day and the plan's own sessions), cached.
   */
  private feasibleFrom(si: number, day: number): boolean {
    const inside = day >= 0 && day < this.cal.days.length;
    const key = inside ? '' : `${si}|${day}`;
    if (inside) {
      const known = this.feasible[si][day];
      if (known !== 0) return known === 1;
    } else {
      const known = this.feasibleOutside.get(key);
      if (known !== undefined) return known;
    }
    const fixed = this.fixedOf(si);
    let ok = fixed
      ? day === this.cal.dayIndexOf(fixed.start) &&
        (!fixed.check || this.evalDay(si, day).slots.some((x) => x.start === fixed.start))
      : this.evalDay(si, day).slots.length > 0;
    const kids = this.children[si];
    for (let k = 0; k < kids.length && ok; k++) {
      const [lo, hi] = dayWindow(this.childConstraint[si][k], day);
      let any = false;
      for (let d2 = Math.max(lo, 0); d2 <= Math.min(hi, this.cal.days.length - 1) && !any; d2++)
        any = this.feasibleFrom(kids[k], d2);
      ok = any;
    }
    if (inside) this.feasible[si][day] = ok ? 1 : 2;
    else this.feasibleOutside.set(key, ok);
    return ok;
  }

  // ---- the search ----

  private anchorOf(c: SessionConstraint): PlacedSession {
    return this.placed[this.indexOfRef.get(c.ref) ?? -1]!;
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
    const late = (d: number) => {
      const delta = gapOf(d) - c.gap.target;
      return (c.relation === 'after' ? delta > 0 : delta < 0) ? 1 : 0;
    };
    const dist = (d: number) => Math.abs(gapOf(d) - c.gap.target);
    return days.sort((x, y) => late(x) - late(y) || dist(x) - dist(y) || x - y);
  }

  /** Slots of a day ordered: nearest the gap target, same time of day, patient's preferred times, earliest. */
  private orderedSlots(si: number, day: number, slots: Slot[]): Slot[] {
    const s = this.req.sessions[si];
    const hourGap =
      s.constraints.find((c) => c.gap.unit === 'hours' && !c.sameDay) ??
      s.constraints.find((c) => c.gap.unit === 'hours');
    let targetStart: number | undefined;
    if (hourGap) {
      const a = this.anchorOf(hourGap);
      targetStart =
        hourGap.relation === 'after'
          ? a.occupiedUntil + hourGap.gap.target * 60
          : a.start - hourGap.gap.target * 60 - (s.durationMinutes + s.recoveryMinutes);
    }
    let refWall: number | undefined;
    if (s.sameTimeOfDay) {
      const first = this.placed.find((p) => p && p.stepKey === s.stepKey);
      if (first) refWall = toMinutes(first.localTime);
    }
    const weekday = this.cal.days[day].weekday;
    const preferred = this.preferredByWeekday[weekday];
    const occupy = s.durationMinutes + s.recoveryMinutes;
    const prefPenalty = (wall: number) => {
      if (preferred.length === 0) return 0;
      for (let k = 0; k < preferred.length; k += 2)
        if (preferred[k] <= wall && wall + occupy <= preferred[k + 1]) return 0;
      return 1;
    };
    // A preferred start is a local time of day: across a clock change it stays 10:00, not the same instant.
    const prefer = this.req.prefer?.[s.ref];
    const preferDay = prefer === undefined ? -1 : this.cal.dayIndexOf(prefer);
    const preferWall = prefer === undefined || preferDay < 0 ? undefined : this.cal.wallMinute(preferDay, prefer);
    // The sort keys of each slot, computed once: [preferred start, gap target, time of day, preferred times, start].
    const n = slots.length;
    const keys: number[] = [];
    const order: number[] = [];
    for (let i = 0; i < n; i++) {
      const x = slots[i];
      keys.push(
        preferWall === undefined ? 0 : Math.abs(x.wall - preferWall),
        targetStart === undefined ? 0 : Math.abs(x.start - targetStart),
        refWall === undefined ? 0 : Math.abs(x.wall - refWall),
        prefPenalty(x.wall),
        x.start,
      );
      order.push(i);
    }
    order.sort((i, j) => {
      for (let k = 0; k < 5; k++) {
        const a = keys[i * 5 + k];
        const b = keys[j * 5 + k];
        if (a !== b) return a - b;
      }
      return 0;
    });
    return order.map((i) => slots[i]);
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

  /** Whether a plan session holding chair `chairId` overlaps [start, end). */
  private chairTakenByPlan(chairId: string, start: number, end: number): boolean {
    for (const p of this.placed)
      if (this.holding(p) && p.chairId === chairId && p.start < end && start < p.occupiedUntil) return true;
    return false;
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
    const roots = this.rootsFrom[pos] ? `${rootDays[0]}-${rootDays[1]}-${this.startDays[0]}-${this.startDays[1]}` : '';
    const anchors = this.frontier[pos].map(({ i, exact }) =>
      exact ? this.placed[i]!.start : `d${this.cal.dayIndexOf(this.placed[i]!.start)}`,
    );
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
    let previous: PlacedSession | undefined;
    for (let i = this.placed.length - 1; i >= 0 && !previous; i--) {
      const p = this.placed[i];
      if (p !== null && p.stepKey === s.stepKey) previous = p;
    }

    for (const day of this.candidateDays(si, rootDays)) {
      if (!this.feasibleFrom(si, day)) {
        const ev = this.evalDay(si, day);
        if (ev.slots.length === 0) {
          for (const [code, n] of ev.reasons) {
            for (let k = 0; k < n; k++)
              this.note(
                pos,
                code,
                code === 'CLOSURE' && ev.closure ? { date: this.cal.days[day]?.date, reason: ev.closure } : undefined,
              );
          }
        } else {
          this.note(pos, 'GAP');
          if (pos === this.deepest) this.deepestLookahead.push(day);
        }
        continue;
      }
      const daySlots = this.evalDay(si, day).slots;
      for (const slot of this.orderedSlots(
        si,
        day,
        fixed ? daySlots.filter((x) => x.start === fixed.start) : daySlots,
      )) {
        if (++this.nodes > this.maxNodes) return false;
        const start = slot.start;
        const end = start + occupy;
        let meets = true;
        for (let k = 0; k < s.constraints.length && meets; k++)
          meets = this.meets(s.constraints[k], start, start + occupy, day);
        if (!meets) {
          this.note(pos, 'GAP');
          continue;
        }
        const stuck = this.hourChildrenFit(si, start, end);
        if (stuck >= 0) {
          this.note(pos, 'GAP');
          if (pos === this.deepest) this.deepestHourChild.set(stuck, (this.deepestHourChild.get(stuck) ?? 0) + 1);
          continue;
        }
        let busy = false;
        for (let k = 0; k < this.placed.length && !busy; k++) {
          const p = this.placed[k];
          busy = this.holding(p) && p.start < end && start < p.occupiedUntil;
        }
        if (busy) {
          this.inPlanRejections++;
          this.note(pos, 'PATIENT_BUSY');
          continue;
        }
        const all = this.resourcesOf(si, day, slot);
        // A forced chair or staff member is the only one considered.
        const free = {
          chairs: fixed?.chairId ? all.chairs.filter((c) => c === fixed.chairId) : all.chairs,
          staff: fixed?.staffId ? all.staff.filter((x) => x === fixed.staffId) : all.staff,
        };
        if (s.needsChair && free.chairs.length === 0) {
          this.note(pos, 'NO_CHAIR');
          continue;
        }
        if (s.staffRole && free.staff.length === 0) {
          this.note(pos, 'STAFF_AT_CAPACITY');
          continue;
        }
        let chairId: string | null = null;
        if (s.needsChair) {
          // The previous session's chair first, then the others in order.
          const first = previous?.chairId && free.chairs.includes(previous.chairId) ? previous.chairId : null;
          if (first !== null && !this.chairTakenByPlan(first, start, end)) chairId = first;
          for (let k = 0; k < free.chairs.length && chairId === null; k++) {
            const c = free.chairs[k];
            if (c !== first && !this.chairTakenByPlan(c, start, end)) chairId = c;
          }
          if (!chairId) {
            this.inPlanRejections++;
            this.note(pos, 'NO_CHAIR');
            continue;
          }
        }
        let staffId: string | null = null;
        let staffSeat: number | null = null;
        if (s.staffRole) {
          const ordered =
            previous?.staffId && free.staff.includes(previous.staffId)
              ? [previous.staffId, ...free.staff.filter((x) => x !== previous.staffId)]
              : free.staff;
          for (const id of ordered) {
            const seat = this.freeSeat(this.staffById.get(id)!, start, end, true);
            if (seat !== null) {
              staffId = id;
              staffSeat = seat === 0 ? null : seat;
              break;
            }
          }
          if (!staffId) {
            this.inPlanRejections++;
            this.note(pos, 'STAFF_AT_CAPACITY');
            continue;
          }
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
  private explainLookahead(
    si: number,
    days: number[],
  ): { si: number; reasons: Map<BindingCode, number>; closure?: { date: string; reason: string } } {
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
      return {
        code: 'SEARCH_LIMIT',
        ref: s.ref,
        message: `the search gave up after ${this.maxNodes} attempts while placing ${s.label}; try a later start or fewer constraints`,
      };
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
    const ranked = [...reasons.entries()].sort(
      (a, b) => (a[0] === 'GAP' ? 1 : 0) - (b[0] === 'GAP' ? 1 : 0) || b[1] - a[1],
    );
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
      STARTS_AT_LIMIT: '', // never met: the frozen engine knows no start staggering
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
        out.push({
          start: slot.start,
          localDate: this.cal.days[day].date,
          localTime: hhmm(slot.wall),
          chairIds: free.chairs,
          staffIds: free.staff,
        });
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

export interface AvailabilityRequest extends Omit<
  ScheduleRequest,
  'sessions' | 'patient' | 'earliestStart' | 'horizonDays'
> {
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
