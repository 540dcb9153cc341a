/**
 * The plan's structure and the look-ahead: which session depends on which (children, the
 * constraint on each, placement order, the anchors the rest of the search refers to at each
 * position), and the static checks that prune before the search commits: can a session fall on
 * a day with every dependent still able to follow (day by day, and slot by slot for dependents
 * timed in hours), and does a start keep a constraint to its placed anchor.
 */
import { DayRules } from './day-rules.js';
import { dayWindow, placementOrder } from './shape.js';
import type { PlacedSession, ScheduleRequest, SessionConstraint } from './types.js';

export class Lookahead extends DayRules {
  /** The first session with a ref (what a constraint's ref names). */
  protected readonly indexOfRef = new Map<string, number>();
  protected readonly order: number[];
  protected readonly posOf: number[];
  protected readonly children: number[][];
  /** Per session, for each entry of children[si]: the child's constraint on it. */
  protected readonly childConstraint: SessionConstraint[][];
  /** Whether a session has a dependent timed in hours that is not fixed. */
  protected readonly hasHourChild: boolean[];
  /** Whether any session from a position on has no constraints (the root window matters). */
  protected readonly rootsFrom: boolean[];
  /**
   * Per position: the already placed sessions that the remaining ones refer to, and whether any
   * refers to it in hours (then its exact start matters; otherwise only its day does).
   */
  protected readonly frontier: { i: number; exact: boolean }[][];
  /** feasibleFrom per session and day: 0 unknown, 1 yes, 2 no; out of the calendar by key. */
  protected readonly feasible: number[][];
  protected readonly feasibleOutside = new Map<string, boolean>();

  constructor(req: ScheduleRequest) {
    super(req);
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
    this.hasHourChild = this.children.map((kids, si) =>
      kids.some(
        (ci) =>
          !req.fixed?.[req.sessions[ci].ref] &&
          req.sessions[ci].constraints.some((x) => x.ref === req.sessions[si].ref && x.gap.unit === 'hours'),
      ),
    );
    this.childConstraint = this.children.map((kids, si) =>
      kids.map((ci) => req.sessions[ci].constraints.find((x) => x.ref === req.sessions[si].ref)!),
    );
    this.rootsFrom = this.order.map((_, pos) =>
      this.order.slice(pos).some((i) => req.sessions[i].constraints.length === 0),
    );
  }

  /**
   * Day-level look-ahead: can session `si` fall on `day` with every dependent still able to find
   * a day? A necessary condition (it ignores times of day and the plan's own sessions), cached.
   */
  protected feasibleFrom(si: number, day: number): boolean {
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
      : this.hasSlotWithHourChildren(si, day);
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

  /** Whether some slot of the day leaves every dependent timed in hours a statically possible slot. */
  protected hasSlotWithHourChildren(si: number, day: number): boolean {
    const slots = this.evalDay(si, day).slots;
    if (!this.hasHourChild[si]) return slots.length > 0;
    const s = this.req.sessions[si];
    const occupy = s.durationMinutes + s.recoveryMinutes;
    for (let k = 0; k < slots.length; k++)
      if (this.hourChildrenFit(si, slots[k].start, slots[k].start + occupy) < 0) return true;
    return false;
  }

  /**
   * Slot-level look-ahead for dependents timed in hours (therapy 0–24 h after an infusion): is
   * there any statically possible slot for each of them, given this start? Skips starts that
   * would leave an attached session nowhere to go, before the search commits to them.
   */
  protected hourChildrenFit(si: number, start: number, occupiedUntil: number): number {
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

  protected anchorOf(c: SessionConstraint): PlacedSession {
    return this.placed[this.indexOfRef.get(c.ref) ?? -1]!;
  }

  protected meets(c: SessionConstraint, start: number, end: number, day: number): boolean {
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
}
