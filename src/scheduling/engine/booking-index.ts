/**
 * A clinic's bookings indexed once and kept, for callers that plan many requests against the same
 * calendar: per chair, per staff member and per patient, spans sorted by start (SpanIndex), brought
 * up to date one booking at a time. The engine reads it instead of grouping and sorting the
 * `booked` list on every request (half of a request's engine time on a full clinic).
 *
 * Mutable on purpose, and only between engine runs (the engine runs synchronously and never
 * changes it). A booking is added and removed as the same object.
 */
import { SpanIndex } from './intervals.js';
import type { BookedSession } from './types.js';

/** What an id without bookings answers (never changed: add() makes a new index for a new id). */
const NONE = new SpanIndex([]);

/** Minutes per start slot: starts are staggered per quarter hour. */
export const START_SLOT_MINUTES = 15;

/**
 * The slot of a start: its UTC quarter hour, which is its local quarter hour in every zone whose
 * offset is a whole number of quarter hours (all of them today). The database keys start seats the
 * same way (`sessions.start_slot`).
 */
export const startSlot = (start: number) => Math.floor(start / START_SLOT_MINUTES);

/**
 * How many bookings that hold a chair (infusion starts) start in each slot, clinic-wide and per
 * staff member: what a start-staggering limit is checked against.
 */
export class StartCounts {
  private readonly all = new Map<number, number>();
  private readonly byStaff = new Map<string, Map<number, number>>();

  static of(booked: Iterable<BookedSession>): StartCounts {
    const counts = new StartCounts();
    for (const b of booked) counts.change(b, 1);
    return counts;
  }

  /** Starts in a slot, clinic-wide. */
  at(slot: number): number {
    return this.all.get(slot) ?? 0;
  }

  /** Starts in a slot by one staff member. */
  ofStaffAt(staffId: string, slot: number): number {
    return this.byStaff.get(staffId)?.get(slot) ?? 0;
  }

  /** Counts a booking in (+1) or out (−1); bookings without a chair are not starts. */
  change(b: BookedSession, delta: 1 | -1): void {
    if (b.chairId === null) return;
    const slot = startSlot(b.start);
    bump(this.all, slot, delta);
    if (b.staffId !== null) {
      let mine = this.byStaff.get(b.staffId);
      if (!mine) this.byStaff.set(b.staffId, (mine = new Map()));
      bump(mine, slot, delta);
    }
  }
}

function bump(map: Map<number, number>, slot: number, delta: number): void {
  const n = (map.get(slot) ?? 0) + delta;
  if (n === 0) map.delete(slot);
  else map.set(slot, n);
}

export class BookingIndex {
  private readonly byChair = new Map<string, SpanIndex>();
  private readonly byStaff = new Map<string, SpanIndex>();
  private readonly byPatient = new Map<string, SpanIndex>();
  private count = 0;
  /** Infusion starts per slot (see StartCounts), kept with the spans. */
  readonly starts = new StartCounts();

  /** An index of these bookings (in any order). */
  static of(booked: Iterable<BookedSession>): BookingIndex {
    const index = new BookingIndex();
    const chairs = new Map<string, BookedSession[]>();
    const staff = new Map<string, BookedSession[]>();
    const patients = new Map<string, BookedSession[]>();
    const push = (map: Map<string, BookedSession[]>, key: string, b: BookedSession) => {
      const list = map.get(key);
      if (list) list.push(b);
      else map.set(key, [b]);
    };
    for (const b of booked) {
      if (b.chairId !== null) push(chairs, b.chairId, b);
      if (b.staffId !== null) push(staff, b.staffId, b);
      push(patients, b.patientId, b);
      index.starts.change(b, 1);
      index.count++;
    }
    for (const [id, list] of chairs) index.byChair.set(id, new SpanIndex(list));
    for (const [id, list] of staff) index.byStaff.set(id, new SpanIndex(list));
    for (const [id, list] of patients) index.byPatient.set(id, new SpanIndex(list));
    return index;
  }

  get size(): number {
    return this.count;
  }

  chair(id: string): SpanIndex {
    return this.byChair.get(id) ?? NONE;
  }

  staff(id: string): SpanIndex {
    return this.byStaff.get(id) ?? NONE;
  }

  patient(id: string): SpanIndex {
    return this.byPatient.get(id) ?? NONE;
  }

  add(b: BookedSession): void {
    if (b.chairId !== null) insert(this.byChair, b.chairId, b);
    if (b.staffId !== null) insert(this.byStaff, b.staffId, b);
    insert(this.byPatient, b.patientId, b);
    this.starts.change(b, 1);
    this.count++;
  }

  /** Removes this booking (the object added); false when it is not in the index. */
  remove(b: BookedSession): boolean {
    const found = remove(this.byPatient, b.patientId, b);
    if (b.chairId !== null) remove(this.byChair, b.chairId, b);
    if (b.staffId !== null) remove(this.byStaff, b.staffId, b);
    if (found) {
      this.starts.change(b, -1);
      this.count--;
    }
    return found;
  }
}

function insert(map: Map<string, SpanIndex>, key: string, b: BookedSession): void {
  const index = map.get(key);
  if (!index) {
    map.set(key, new SpanIndex([b]));
    return;
  }
  index.insert(b);
}

function remove(map: Map<string, SpanIndex>, key: string, b: BookedSession): boolean {
  const index = map.get(key);
  return index ? index.remove(b) : false;
}
