/**
 * Preference: the order in which the search tries days and times, so that the first plan it
 * finds is the preferred one (earliest completion against the gap targets, gaps nearest their
 * targets, the same time of day, the patient's preferred times, a preferred start, the earliest
 * time). Only order: it never decides whether something fits. Levelling ('balanced') adds two keys,
 * both read from the bookings only (so the same request always gets the same order): of a
 * chair session's days within one day of its gap target, the emptiest first (`dayLoad`); of a
 * day's times, after every other preference and before the earliest, the one when the fewest
 * chairs are occupied (`chairLoad`, in quarter chairs). An explicit preferred start overrides both.
 */
import { Lookahead } from './lookahead.js';
import { dayWindow, toMinutes, type Slot } from './shape.js';

/** Levelling across days: a day's chair occupancy counts in steps of 1/LEVEL_STEPS of its opening hours. */
export const LEVEL_STEPS = 10;

export abstract class Preferences extends Lookahead {
  /** The plan's first session (its start) must fall on a day in [from, to). */
  protected startDays: [number, number] = [0, 0];
  /** See beforeReachDays(). */
  protected reach = 0;
  /**
   * Levelling: per local day, the chair-minutes the bookings hold from the day's first instant up
   * to each minute (a running sum over the day's minutes, built once per day and request), and the
   * share of the chairs' opening hours they hold that day.
   */
  private readonly dayProfiles = new Map<number, Int32Array>();
  private readonly dayShares = new Map<number, number>();
  private distinctChairs = -1;

  private profile(day: number): Int32Array {
    const known = this.dayProfiles.get(day);
    if (known) return known;
    const from = this.cal.days[day].startMinute;
    const to = day + 1 < this.cal.days.length ? this.cal.days[day + 1].startMinute : this.cal.endMinute;
    const len = to - from;
    const diff = new Int32Array(len + 1);
    const seen = new Set<number>();
    for (let i = 0; i < this.chairSlot.length; i++) {
      if (seen.has(this.chairSlot[i])) continue;
      seen.add(this.chairSlot[i]);
      const index = this.chairIndex(i);
      const items = index.items;
      for (let j = index.firstStartingFrom(to) - 1; j >= 0; j--) {
        const b = items[j];
        if (b.start + index.longest <= from) break;
        if (b.end <= from) continue;
        diff[Math.max(b.start, from) - from]++;
        diff[Math.min(b.end, to) - from]--;
      }
    }
    this.distinctChairs = seen.size;
    const sum = new Int32Array(len + 1);
    let chairs = 0;
    for (let m = 0; m < len; m++) {
      chairs += diff[m];
      sum[m + 1] = sum[m] + chairs;
    }
    this.dayProfiles.set(day, sum);
    return sum;
  }

  /** Chair-minutes the bookings hold over [start, end), both on the given day or later ones. */
  private chairMinutes(day: number, start: number, end: number): number {
    let minutes = 0;
    for (let d = day; d < this.cal.days.length && start < end; d++) {
      const from = this.cal.days[d].startMinute;
      const sum = this.profile(d);
      const to = from + sum.length - 1;
      if (start >= to) continue;
      minutes += sum[Math.min(end, to) - from] - sum[Math.max(start, from) - from];
      start = to;
    }
    return minutes;
  }

  /**
   * The levelling key of a time: the chairs the bookings occupy on average over
   * [start, start + occupy), to the nearest quarter chair. The least busy time first (the earliest
   * of equally busy ones), so a day fills level by level. Whole chairs were too coarse: on a
   * 4-chair clinic most times tied at 0 and went to the earliest, which piled the mornings up
   * (bench:fill, peak-to-mean 2.04 against 1.80 with quarters; tenths levelled no better).
   */
  protected chairLoad(day: number, start: number, occupy: number): number {
    return Math.round((this.chairMinutes(day, start, start + occupy) / occupy) * 4);
  }

  /**
   * The levelling key of a day: the share of the chairs' opening hours the bookings hold, in steps
   * of 1/LEVEL_STEPS (rounded down). A day one step emptier than another is what levels better;
   * finer differences are ties.
   */
  protected dayLoad(day: number): number {
    return this.dayStats(day);
  }

  private dayStats(day: number): number {
    const known = this.dayShares.get(day);
    if (known !== undefined) return known;
    const opening = this.openingByWeekday[this.cal.days[day].weekday];
    let held = 0;
    let open = 0;
    for (let k = 0; k < opening.length; k += 2) {
      const a = this.epochOf(day, opening[k]);
      const b = this.epochOf(day, opening[k + 1]);
      held += this.chairMinutes(day, a, b);
      open += b - a;
    }
    this.profile(day);
    const capacity = open * this.distinctChairs;
    const share = capacity > 0 ? Math.floor((held * LEVEL_STEPS) / capacity) : LEVEL_STEPS;
    this.dayShares.set(day, share);
    return share;
  }

  /** Candidate days for a session, most preferred first. */
  protected candidateDays(si: number, rootDays: [number, number]): number[] {
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

  protected candidateDaysInOrder(si: number, rootDays: [number, number]): number[] {
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
    days.sort((x, y) => late(x) - late(y) || dist(x) - dist(y) || x - y);
    if (this.req.levelling !== 'balanced' || !s.needsChair) return days;
    // Levelling across days: of the days within one of the target, the emptiest first (a whole
    // step emptier, else in the order above); then the others as above.
    const near = days.filter((d) => dist(d) <= 1);
    if (near.length < 2) return days;
    const rank = new Map(near.map((d, i) => [d, i]));
    near.sort((x, y) => this.dayLoad(x) - this.dayLoad(y) || rank.get(x)! - rank.get(y)!);
    return [...near, ...days.filter((d) => dist(d) > 1)];
  }

  /** Slots of a day ordered: nearest the gap target, same time of day, patient's preferred times, earliest. */
  protected orderedSlots(si: number, day: number, slots: Slot[]): Slot[] {
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
    // Levelling: only for sessions holding a chair, and never over an explicit preferred start.
    const level = this.req.levelling === 'balanced' && s.needsChair && preferWall === undefined;
    // The sort keys of each slot, computed once: [preferred start, gap target, time of day, preferred times, chairs occupied, start].
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
        level ? this.chairLoad(day, x.start, occupy) : 0,
        x.start,
      );
      order.push(i);
    }
    order.sort((i, j) => {
      for (let k = 0; k < 6; k++) {
        const a = keys[i * 6 + k];
        const b = keys[j * 6 + k];
        if (a !== b) return a - b;
      }
      return 0;
    });
    return order.map((i) => slots[i]);
  }
}
