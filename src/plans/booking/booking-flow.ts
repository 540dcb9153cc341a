/**
 * Booking a prepared series, as a state machine: what each state does and where it may go next is
 * in {@link BOOKING_TRANSITIONS} (the one table to read), and `run` refuses any other move.
 *
 * | state | what it does | next |
 * | --- | --- | --- |
 * | `prepared` | another booking of the clinic is under way in this instance? then plan under the lock | `planned`, `under-lock` |
 * | `planned` | planned outside any lock, from the clinic's kept bookings; nothing to claim and every seat known? | `writing-alone`, `under-lock` |
 * | `writing-alone` | one statement is the transaction: schedule lock, plan, sessions, audit row | `booked`, `lost-race` |
 * | `under-lock` | at most two per clinic and instance: claim the key (a stored answer is `replayed`), take the schedule lock, plan if not planned (or planned before losing), write, store the answer | `booked`, `replayed`, `lost-race` |
 * | `lost-race` | the exclusion constraints refused a session (someone booked first): forget the clinic's copy; plan again under the lock once, then give up | `under-lock`, `slot-taken` |
 * | `slot-taken` | even under the lock (capacity changed meanwhile): 409 naming the session in the way | — |
 * | `booked`, `replayed` | the answer | — |
 *
 * The steps themselves (planning, writing, claiming a key) belong to the service; this file only
 * decides their order, so a reader sees every path a booking can take in one place.
 */
import type { EntityManager } from 'typeorm';
import { isExclusionViolation } from '../../common/errors/database-errors.js';
import type { PlacedSession } from '../../scheduling/engine/types.js';
import type { PlanDto } from '../dto/plan.dto.js';

/** A booking's answer. */
export interface BookResult {
  body: PlanDto;
  status: number;
  replayed: boolean;
  /** Another booking took a slot first, and the series was planned again against what is there now. */
  replanned: boolean;
}

export type BookingStateName =
  'prepared' | 'planned' | 'writing-alone' | 'under-lock' | 'lost-race' | 'slot-taken' | 'booked' | 'replayed';

export const BOOKING_TRANSITIONS: Readonly<Record<BookingStateName, readonly BookingStateName[]>> = {
  prepared: ['planned', 'under-lock'],
  planned: ['writing-alone', 'under-lock'],
  'writing-alone': ['booked', 'lost-race'],
  'under-lock': ['booked', 'replayed', 'lost-race'],
  'lost-race': ['under-lock', 'slot-taken'],
  'slot-taken': [],
  booked: [],
  replayed: [],
};

/** Times a booking is planned under the lock after losing a race before it gives up (409). */
const REPLANS = 1;

type State =
  | { name: 'prepared' }
  | { name: 'planned'; placed: PlacedSession[] }
  | { name: 'writing-alone'; placed: PlacedSession[] }
  /** `placed` undefined: plan inside the transaction, against what it reads. */
  | { name: 'under-lock'; placed?: PlacedSession[]; replans: number }
  | { name: 'lost-race'; placed?: PlacedSession[]; replans: number }
  | { name: 'slot-taken'; placed?: PlacedSession[] }
  | { name: 'booked' | 'replayed'; result: BookResult };

/** What the flow asks of the service: each step once, no decisions. */
export interface BookingSteps {
  /** Whether another booking of the clinic is already under way in this instance. */
  queued: boolean;
  /** Whether there is an Idempotency-Key to claim (then the write needs a transaction of its own). */
  keyed: boolean;
  /** Plans the series: outside any lock from the kept copy, or through `m` under the lock. */
  plan(m?: EntityManager): Promise<PlacedSession[]>;
  /** Whether the engine chose every staff seat (else they are chosen at write time, under the lock). */
  seatsKnown(placed: PlacedSession[]): boolean;
  /** The one-statement booking (its own transaction, taking the schedule lock). */
  writeAlone(placed: PlacedSession[]): Promise<BookResult>;
  /**
   * One transaction under the clinic's schedule lock (at most two per clinic and instance): the
   * key claimed (its stored answer, if any), then `work` with the lock held.
   */
  underLock(work: (m: EntityManager) => Promise<PlacedSession[]>, replanned: boolean): Promise<BookResult>;
  /** Forgets the clinic's copy of its bookings (it may have missed the change that beat us). */
  forgetCopy(): void;
  /** The 409 naming the session in the way of `placed` (thrown, never returned). */
  slotTaken(placed: PlacedSession[] | undefined): Promise<never>;
}

export async function runBooking(steps: BookingSteps): Promise<BookResult> {
  let state: State = { name: 'prepared' };
  for (;;) {
    const next: State = await step(state, steps);
    if (!BOOKING_TRANSITIONS[state.name].includes(next.name))
      throw new Error(`booking: no transition from ${state.name} to ${next.name}`);
    state = next;
    if (state.name === 'booked' || state.name === 'replayed') return state.result;
  }
}

async function step(state: State, steps: BookingSteps): Promise<State> {
  switch (state.name) {
    case 'prepared':
      return steps.queued ? { name: 'under-lock', replans: 0 } : { name: 'planned', placed: await steps.plan() };
    case 'planned':
      return !steps.keyed && steps.seatsKnown(state.placed)
        ? { name: 'writing-alone', placed: state.placed }
        : { name: 'under-lock', placed: state.placed, replans: 0 };
    case 'writing-alone':
      try {
        return { name: 'booked', result: await steps.writeAlone(state.placed) };
      } catch (err) {
        if (!isExclusionViolation(err)) throw err;
        return { name: 'lost-race', placed: state.placed, replans: 0 };
      }
    case 'under-lock': {
      const given = state.placed;
      let placed = given; // what was written last, to name what is in its way if it loses
      try {
        const result = await steps.underLock(async (m) => (placed = given ?? (await steps.plan(m))), state.replans > 0);
        return { name: result.replayed ? 'replayed' : 'booked', result };
      } catch (err) {
        if (!isExclusionViolation(err)) throw err;
        return { name: 'lost-race', placed, replans: state.replans };
      }
    }
    case 'lost-race':
      // Planning from the same copy again would only lose again: it is read afresh.
      steps.forgetCopy();
      return state.replans < REPLANS
        ? { name: 'under-lock', replans: state.replans + 1 }
        : { name: 'slot-taken', placed: state.placed };
    case 'slot-taken':
      return steps.slotTaken(state.placed);
    case 'booked':
    case 'replayed':
      return state;
  }
}
