import { QueryFailedError, type EntityManager } from 'typeorm';
import type { PlacedSession } from '../../scheduling/engine/types.js';
import { BOOKING_TRANSITIONS, runBooking, type BookResult, type BookingSteps } from './booking-flow.js';

// The order of a booking's steps, every path through the table, with steps that record what was
// asked of them (the steps themselves are tested against PostgreSQL in test/api/booking-concurrency
// and test/reliability).
const OUTSIDE = [{ ref: 'outside' }] as unknown as PlacedSession[];
const INSIDE = [{ ref: 'inside' }] as unknown as PlacedSession[];
const TX = { tx: true } as unknown as EntityManager;
const lost = () => new QueryFailedError('INSERT …', [], Object.assign(new Error('exclusion'), { code: '23P01' }));
const answer = (o: Partial<BookResult> = {}): BookResult => ({
  body: {} as BookResult['body'],
  status: 201,
  replayed: false,
  replanned: false,
  ...o,
});

function steps(o: {
  queued?: boolean;
  keyed?: boolean;
  seatsKnown?: boolean;
  /** Outcome of each write in turn: 'ok', 'lose', 'replay' or an error to throw. */
  writes: ('ok' | 'lose' | 'replay' | Error)[];
}) {
  const log: string[] = [];
  const writes = [...o.writes];
  const outcome = (placed: PlacedSession[], replanned: boolean) => {
    const w = writes.shift() ?? 'ok';
    if (w === 'lose') throw lost();
    if (w instanceof Error) throw w;
    return answer({ replayed: w === 'replay', replanned, body: { placed } as unknown as BookResult['body'] });
  };
  const s: BookingSteps = {
    queued: o.queued ?? false,
    keyed: o.keyed ?? false,
    plan: async (m) => (log.push(m ? 'plan under lock' : 'plan outside'), m ? INSIDE : OUTSIDE),
    seatsKnown: () => o.seatsKnown ?? true,
    writeAlone: async (placed) => (log.push('write alone'), outcome(placed, false)),
    underLock: async (work, replanned) => {
      log.push(`under lock${replanned ? ' (replanned)' : ''}`);
      const placed = await work(TX);
      return outcome(placed, replanned);
    },
    forgetCopy: () => log.push('forget copy'),
    slotTaken: async (placed) => {
      log.push(`slot taken: ${placed?.[0]?.ref}`);
      throw new Error('409');
    },
  };
  return { s, log };
}

describe('booking flow: the state machine of a booking', () => {
  it('the usual booking: planned outside the lock, written in one statement', async () => {
    const { s, log } = steps({ writes: ['ok'] });
    const r = await runBooking(s);
    expect(log).toEqual(['plan outside', 'write alone']);
    expect(r).toMatchObject({ status: 201, replanned: false, body: { placed: OUTSIDE } });
  });

  it('with an Idempotency-Key (or seats to choose), the plan made outside is written in a transaction under the lock', async () => {
    for (const o of [{ keyed: true }, { seatsKnown: false }]) {
      const { s, log } = steps({ ...o, writes: ['ok'] });
      expect(await runBooking(s)).toMatchObject({ replanned: false, body: { placed: OUTSIDE } });
      expect(log).toEqual(['plan outside', 'under lock']);
    }
  });

  it('a key already answered is replayed', async () => {
    const { s } = steps({ keyed: true, writes: ['replay'] });
    expect(await runBooking(s)).toMatchObject({ replayed: true });
  });

  it('queued behind another booking of the clinic in this instance: planned once, under the lock', async () => {
    const { s, log } = steps({ queued: true, writes: ['ok'] });
    expect(await runBooking(s)).toMatchObject({ replanned: false, body: { placed: INSIDE } });
    expect(log).toEqual(['under lock', 'plan under lock']);
  });

  it('a lost race forgets the copy and plans again under the lock, once', async () => {
    const { s, log } = steps({ writes: ['lose', 'ok'] });
    expect(await runBooking(s)).toMatchObject({ replanned: true, body: { placed: INSIDE } });
    expect(log).toEqual(['plan outside', 'write alone', 'forget copy', 'under lock (replanned)', 'plan under lock']);
  });

  it('lost again under the lock: 409 naming what is in the way of the plan made there', async () => {
    for (const o of [{}, { keyed: true }, { queued: true }]) {
      const { s, log } = steps({ ...o, writes: ['lose', 'lose', 'ok'] });
      await expect(runBooking(s)).rejects.toThrow('409');
      expect(log.slice(-2)).toEqual(['forget copy', 'slot taken: inside']);
      expect(log.filter((l) => l === 'forget copy')).toHaveLength(2);
    }
  });

  it('any other failure is not a lost race: it goes out as it is, nothing retried here', async () => {
    const boom = new Error('connection lost');
    const { s, log } = steps({ writes: [boom] });
    await expect(runBooking(s)).rejects.toBe(boom);
    expect(log).toEqual(['plan outside', 'write alone']);
  });

  it('the table: every state reachable from prepared, and only the answers and the 409 end it', () => {
    const seen = new Set<string>(['prepared']);
    const todo = ['prepared'] as (keyof typeof BOOKING_TRANSITIONS)[];
    while (todo.length) for (const n of BOOKING_TRANSITIONS[todo.pop()!]) if (!seen.has(n) && seen.add(n)) todo.push(n);
    expect([...seen].sort()).toEqual(Object.keys(BOOKING_TRANSITIONS).sort());
    const ends = Object.entries(BOOKING_TRANSITIONS)
      .filter(([, next]) => next.length === 0)
      .map(([name]) => name);
    expect(ends.sort()).toEqual(['booked', 'replayed', 'slot-taken']);
  });
});
