/**
 * Seats and capacity: the bookings indexed per chair, staff member and this patient, whether a
 * chair is free, which seat of a staff member is free (the database's own rule, or the peak count
 * when seats are unknown), and the plan being built as far as it holds resources. The plan's own
 * sessions that take part in a refusal are noted in `culprits` (the search's conflict set).
 */
import { startSlot, StartCounts } from './booking-index.js';
import { SpanIndex, type Span } from './intervals.js';
import type { FixedPlacement, PlacedSession, ScheduleRequest } from './types.js';
import { ZoneCalendar } from './zone-calendar.js';
import type { SeatSpan } from './shape.js';

export class Capacity {
  protected readonly cal: ZoneCalendar;
  /**
   * Bookings per distinct chair and staff id (`chairSlot[i]`, `staffSlot[i]` for the i-th chair
   * or staff member), indexed only when first consulted.
   */
  protected readonly chairSlot: number[];
  protected readonly chairSpans: Span[][] = [];
  protected readonly chairBusy: (SpanIndex | undefined)[] = [];
  protected readonly staffSlot: number[];
  protected readonly staffSpans: Span[][] = [];
  protected readonly staffBusy: (SpanIndex | undefined)[] = [];
  /** The first staff member with an id. */
  protected readonly staffById = new Map<string, number>();
  /** Staff (indexes, in preference order) per role. */
  protected readonly staffOfRole = new Map<string, number[]>();
  protected readonly patientBusy: SpanIndex;
  /** Reused by freeSeat: the spans overlapping the asked interval, with their seats. */
  protected readonly scratchStart: number[] = [];
  protected readonly scratchEnd: number[] = [];
  protected readonly scratchSeat: number[] = [];
  /** The plan being built, per session (null: not placed). */
  protected readonly placed: (PlacedSession | null)[];
  /** Earlier placed sessions that rejected a candidate of the running search (the conflict set). */
  protected readonly culprits: number[] = [];
  /** Start staggering (null: no limit) and the bookings' starts per slot (null when neither limit is set). */
  protected readonly maxStarts: number | null;
  protected readonly maxStaffStarts: number | null;
  protected readonly startCounts: StartCounts | null;

  constructor(protected readonly req: ScheduleRequest) {
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
    const index = req.bookedIndex;
    this.maxStarts = req.maxStartsPerSlot ?? null;
    this.maxStaffStarts = req.maxStartsPerStaffPerSlot ?? null;
    this.startCounts =
      this.maxStarts === null && this.maxStaffStarts === null
        ? null
        : index
          ? index.starts
          : StartCounts.of(req.booked);
    if (index) {
      // Indexed by the caller: each chair's and staff member's spans as they are kept there.
      this.chairSlot.forEach((slot, i) => (this.chairBusy[slot] ??= index.chair(req.chairs[i].id)));
      this.staffSlot.forEach((slot, i) => (this.staffBusy[slot] ??= index.staff(req.staff[i].id)));
      this.patientBusy = index.patient(req.patient.id);
      this.placed = req.sessions.map(() => null);
      return;
    }
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
    this.placed = req.sessions.map(() => null);
  }

  /** The bookings of the i-th chair. */
  protected chairIndex(i: number): SpanIndex {
    const slot = this.chairSlot[i];
    return (this.chairBusy[slot] ??= new SpanIndex(this.chairSpans[slot]));
  }

  /** Whether any chair is free over [start, end). */
  protected anyChairFree(start: number, end: number): boolean {
    for (let i = 0; i < this.chairSlot.length; i++) if (!this.chairIndex(i).overlaps(start, end)) return true;
    return false;
  }

  /** The bookings of the i-th staff member. */
  protected staffIndex(i: number): SpanIndex {
    const slot = this.staffSlot[i];
    return (this.staffBusy[slot] ??= new SpanIndex(this.staffSpans[slot]));
  }

  /**
   * A seat for a session of the i-th staff member over [start, end): with seats known, the lowest
   * seat that no overlapping booking or (with `withPlan`) plan session holds (the database's own
   * rule); without, 0 when the peak number of patients at once stays under the limit. null when
   * there is none. Allocates nothing.
   */
  protected freeSeat(i: number, start: number, end: number, withPlan: boolean): number | null {
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
      for (let q = 0; q < this.placed.length; q++) {
        const p = this.placed[q];
        if (!this.holding(p) || p.staffId !== st.id) continue;
        const v = p.staffSeat ?? null;
        if (typeof v !== 'number') {
          allSeated = false;
          this.culprits.push(q);
        }
        if (p.start < end && start < p.occupiedUntil) {
          this.culprits.push(q);
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

  /** Whether the bookings leave a start free in the slot of `start` (clinic-wide). */
  protected bookedStartsFree(start: number): boolean {
    return this.maxStarts === null || this.startCounts!.at(startSlot(start)) < this.maxStarts;
  }

  /** Whether the bookings leave the i-th staff member a start free in the slot of `start`. */
  protected bookedStaffStartsFree(i: number, start: number): boolean {
    return (
      this.maxStaffStarts === null ||
      this.startCounts!.ofStaffAt(this.req.staff[i].id, startSlot(start)) < this.maxStaffStarts
    );
  }

  /**
   * Whether a session holding a chair may start at `start` with staff member `staffId` (null: any
   * or none; the clinic-wide limit only), counting the bookings and the plan's own sessions; the
   * plan sessions counted are noted as culprits when the answer is no.
   */
  protected startsFreeWithPlan(start: number, staffId: string | null): boolean {
    if (this.maxStarts === null && (this.maxStaffStarts === null || staffId === null)) return true;
    const slot = startSlot(start);
    const counts = this.startCounts!;
    let all = counts.at(slot);
    let mine = staffId === null ? 0 : counts.ofStaffAt(staffId, slot);
    const mark = this.culprits.length;
    for (let k = 0; k < this.placed.length; k++) {
      const p = this.placed[k];
      if (!this.holding(p) || p.chairId === null || startSlot(p.start) !== slot) continue;
      all++;
      if (staffId !== null && p.staffId === staffId) mine++;
      this.culprits.push(k);
    }
    const free =
      (this.maxStarts === null || all < this.maxStarts) &&
      (this.maxStaffStarts === null || staffId === null || mine < this.maxStaffStarts);
    if (free) this.culprits.length = mark;
    return free;
  }

  /** A placed session that holds its resources (not a kept cancelled one). */
  protected holding(p: PlacedSession | null): p is PlacedSession {
    return p !== null && this.req.fixed?.[p.ref]?.holds !== false;
  }

  /** Whether a plan session holding chair `chairId` overlaps [start, end). */
  protected chairTakenByPlan(chairId: string, start: number, end: number): boolean {
    let taken = false;
    for (let k = 0; k < this.placed.length; k++) {
      const p = this.placed[k];
      if (this.holding(p) && p.chairId === chairId && p.start < end && start < p.occupiedUntil) {
        taken = true;
        this.culprits.push(k);
      }
    }
    return taken;
  }

  /** The placement decided for a session, if any. */
  protected fixedOf(si: number): FixedPlacement | undefined {
    return this.req.fixed?.[this.req.sessions[si].ref];
  }
}
