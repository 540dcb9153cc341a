/**
 * The search: depth-first placement in preference order, one first day at a time with its own
 * budget, over the look-ahead's days; dead ends remembered with their conflict set (nogoods: a
 * failed remainder is keyed by its position, the first-day range, the anchors it refers to, and
 * the earlier sessions whose own times rejected something in it); the result, and the earliest
 * workable start past the window, each day searched on its own.
 */
import { Explainer } from './explain.js';
import {
  beforeReachDays,
  DEFAULT_MAX_NODES,
  DEFAULT_PROBE_DAYS,
  DEFAULT_START_WINDOW,
  hhmm,
  signature,
  TOTAL_BUDGET_FACTOR,
} from './shape.js';
import type { PlacedSession, ScheduleRequest, ScheduleResult } from './types.js';

export class Search extends Explainer {
  protected readonly maxNodes: number;
  /** Attempts spent on the current first day, and whether it ran out. */
  private dayNodes = 0;
  private aborted = false;
  /**
   * Dead ends: per position and anchors, the lists of earlier placed sessions (index and
   * placement) whose own times took part in the failure. A later prefix with the same anchors
   * and those sessions placed the same way fails the same way.
   */
  private readonly nogoods = new Map<string, [number, string][][]>();

  constructor(req: ScheduleRequest) {
    super(req);
    this.maxNodes = req.maxNodes ?? DEFAULT_MAX_NODES;
  }

  private search(pos: number, rootDays: [number, number]): boolean {
    if (pos === this.order.length) {
      const first = this.cal.dayIndexOf(Math.min(...this.placed.map((p) => p!.start)));
      if (first >= this.startDays[0] && first < this.startDays[1]) return true;
      return false;
    }
    // Sessions without constraints use the root window; the first day must fall in startDays,
    // which the placed ones may already have met: both are part of the key.
    let first = Infinity;
    for (let k = 0; k < this.placed.length; k++) {
      const p = this.placed[k];
      if (p !== null && p.start < first) first = p.start;
    }
    const started = first !== Infinity && this.cal.dayIndexOf(first) < this.startDays[1] ? 's' : '';
    const roots = `${this.startDays[0]}-${this.startDays[1]}${started}${this.rootsFrom[pos] ? `-${rootDays[0]}-${rootDays[1]}` : ''}`;
    const anchors = this.frontier[pos].map(({ i, exact }) =>
      exact ? this.placed[i]!.start : `d${this.cal.dayIndexOf(this.placed[i]!.start)}`,
    );
    const memoKey = `${pos}|${roots}|${anchors.join(',')}`;
    const known = this.nogoods.get(memoKey);
    if (known) {
      for (const nogood of known) {
        if (nogood.every(([k, sig]) => signature(this.placed[k]) === sig)) {
          for (const [k] of nogood) this.culprits.push(k);
          return false;
        }
      }
    }
    const mark = this.culprits.length;
    const found = this.searchHere(pos, rootDays);
    if (found) return true;
    // The sessions placed before this position that rejected something below it: the failure
    // holds for any prefix with the same anchors and these sessions where they are now.
    const outside = new Set<number>();
    for (let k = mark; k < this.culprits.length; k++)
      if (this.posOf[this.culprits[k]] < pos) outside.add(this.culprits[k]);
    this.culprits.length = mark;
    for (const k of outside) this.culprits.push(k);
    if (!this.aborted) {
      const nogood: [number, string][] = [...outside].map((k) => [k, signature(this.placed[k])]);
      if (known) known.push(nogood);
      else this.nogoods.set(memoKey, [nogood]);
    }
    return false;
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
      this.placed[si] = this.placedAt(si, day, fixed.start, this.cal.wallMinute(day, fixed.start), {
        chairId: fixed.chairId,
        staffId: fixed.staffId,
        staffSeat: fixed.staffSeat ?? null,
      });
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
      // Before the plan's first day: never part of a plan that starts in startDays.
      if (day < this.startDays[0]) continue;
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
        this.nodes++;
        if (++this.dayNodes > this.maxNodes || this.nodes > this.maxNodes * TOTAL_BUDGET_FACTOR) {
          this.aborted = true;
          break;
        }
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
        for (let k = 0; k < this.placed.length; k++) {
          const p = this.placed[k];
          if (this.holding(p) && p.start < end && start < p.occupiedUntil) {
            busy = true;
            this.culprits.push(k);
          }
        }
        if (busy) {
          this.note(pos, 'PATIENT_BUSY');
          continue;
        }
        if (s.needsChair && this.maxStarts !== null && !this.startsFreeWithPlan(start, null)) {
          this.note(pos, 'STARTS_AT_LIMIT');
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
          const staffStaggered = s.needsChair && this.maxStaffStarts !== null;
          let startsFull = false;
          for (const id of ordered) {
            if (staffStaggered && !this.startsFreeWithPlan(start, id)) {
              startsFull = true;
              continue;
            }
            const seat = this.freeSeat(this.staffById.get(id)!, start, end, true);
            if (seat !== null) {
              staffId = id;
              staffSeat = seat === 0 ? null : seat;
              break;
            }
          }
          if (!staffId) {
            this.note(pos, startsFull ? 'STARTS_AT_LIMIT' : 'STAFF_AT_CAPACITY');
            continue;
          }
        }
        this.placed[si] = this.placedAt(si, day, start, slot.wall, { chairId, staffId, staffSeat });
        if (this.search(pos + 1, rootDays)) return true;
        this.placed[si] = null;
        if (this.aborted) break;
      }
      if (this.aborted) {
        if (pos !== 0 || this.nodes > this.maxNodes * TOTAL_BUDGET_FACTOR) return false;
        // The first session's day ran out of budget: give it up and go on with the next day.
        this.limitHit = true;
        this.aborted = false;
      }
      if (pos === 0) this.dayNodes = 0;
    }
    return false;
  }

  run(): ScheduleResult {
    const window = this.req.startWindowDays ?? DEFAULT_START_WINDOW;
    const probe = Math.min(this.req.probeDays ?? DEFAULT_PROBE_DAYS, this.cal.days.length);
    // The window bounds the plan's start (its first session); an independent session may come
    // later than the window by as much as sessions attached 'before' it can precede it.
    this.reach = beforeReachDays(this.req.sessions);
    this.startDays = [0, Math.min(window, probe)];
    if (this.searchFrom([0, Math.min(window + this.reach, this.cal.days.length)])) return this.result();
    const binding = this.binding();
    return { kind: 'infeasible', binding, earliestStart: this.earliestStart(), nodes: this.nodes };
  }

  /**
   * The earliest start past the window: the first day from which a plan can start, each day
   * searched on its own (days the look-ahead rules out are skipped), or null within probeDays.
   */
  earliestStart(): string | null {
    const window = this.req.startWindowDays ?? DEFAULT_START_WINDOW;
    const probe = Math.min(this.req.probeDays ?? DEFAULT_PROBE_DAYS, this.cal.days.length);
    const reach = (this.reach = beforeReachDays(this.req.sessions));
    const end = this.cal.days.length;
    const root = this.order[0];
    for (let d = window; d < probe && this.nodes <= this.maxNodes * TOTAL_BUDGET_FACTOR; d++) {
      let possible = false;
      for (let r = d; r < Math.min(d + 1 + reach, end) && !possible; r++) possible = this.feasibleFrom(root, r);
      if (!possible) continue;
      this.placed.fill(null);
      this.startDays = [d, d + 1];
      if (this.searchFrom([d, Math.min(d + window + reach, end)])) return this.cal.days[d].date;
    }
    return null;
  }

  /** One search from the first position; each first day gets its own budget (see searchHere). */
  private searchFrom(rootDays: [number, number]): boolean {
    this.dayNodes = 0;
    this.aborted = false;
    this.culprits.length = 0;
    const found = this.search(0, rootDays);
    if (this.aborted) this.limitHit = true;
    this.aborted = false;
    return found;
  }

  /** Session `si` placed at `start` (wall minute `wall` of calendar day `day`), on the given chair and staff. */
  private placedAt(
    si: number,
    day: number,
    start: number,
    wall: number,
    on: Pick<PlacedSession, 'chairId' | 'staffId' | 'staffSeat'>,
  ): PlacedSession {
    const s = this.req.sessions[si];
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
      localDate: this.cal.days[day].date,
      localTime: hhmm(wall),
      chairId: on.chairId,
      staffId: on.staffId,
      staffSeat: on.staffSeat,
      dose: s.dose,
    };
  }

  private result(): ScheduleResult {
    const sessions = this.placed.map((p) => p!).sort((a, b) => a.start - b.start || a.ref.localeCompare(b.ref));
    return { kind: 'planned', sessions, nodes: this.nodes };
  }
}
