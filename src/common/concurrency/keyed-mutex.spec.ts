import fc from 'fast-check';
import { KeyedMutex } from './keyed-mutex.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('KeyedMutex', () => {
  it('runs the work of one key one at a time, in arrival order, and different keys side by side', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.nat(3), fc.boolean()), { minLength: 1, maxLength: 30 }),
        async (jobs) => {
          const mutex = new KeyedMutex();
          const running = new Map<string, number>();
          const order = new Map<string, number[]>();
          const results = await Promise.allSettled(
            jobs.map(([key, ticks, fails], i) =>
              mutex.run(key, async () => {
                running.set(key, (running.get(key) ?? 0) + 1);
                expect(running.get(key)).toBe(1);
                order.set(key, [...(order.get(key) ?? []), i]);
                for (let k = 0; k < ticks; k++) await tick();
                running.set(key, running.get(key)! - 1);
                if (fails) throw new Error(`job ${i}`);
                return i;
              }),
            ),
          );
          // Arrival order per key; a failure does not stop the ones after it; each gets its own result.
          for (const [key, seen] of order) expect(seen).toEqual(jobs.flatMap(([k], i) => (k === key ? [i] : [])));
          results.forEach((r, i) => expect(r.status).toBe(jobs[i][2] ? 'rejected' : 'fulfilled'));
          expect(mutex.size).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('with a limit of n, runs up to n of one key at once, never more, the rest in arrival order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.tuple(fc.constantFrom('a', 'b'), fc.nat(3)), { minLength: 1, maxLength: 30 }),
        async (limit, jobs) => {
          const mutex = new KeyedMutex(limit);
          const running = new Map<string, number>();
          const peak = new Map<string, number>();
          const started: number[] = [];
          await Promise.all(
            jobs.map(([key, ticks], i) =>
              mutex.run(key, async () => {
                running.set(key, (running.get(key) ?? 0) + 1);
                peak.set(key, Math.max(peak.get(key) ?? 0, running.get(key)!));
                started.push(i);
                for (let k = 0; k < ticks; k++) await tick();
                running.set(key, running.get(key)! - 1);
              }),
            ),
          );
          for (const [key, p] of peak) {
            expect(p).toBeLessThanOrEqual(limit);
            const mine = jobs.flatMap(([k], i) => (k === key ? [i] : []));
            // The first `limit` of a key start at once; if each of them waits, they all run together.
            const firsts = mine.slice(0, limit);
            if (firsts.every((i) => jobs[i][1] > 0)) expect(p).toBe(firsts.length);
            expect(started.filter((i) => jobs[i][0] === key)).toEqual(mine);
          }
          expect(mutex.size).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('does not make one key wait for another', async () => {
    const mutex = new KeyedMutex();
    let releaseA!: () => void;
    const a = mutex.run('a', () => new Promise<void>((r) => (releaseA = r)));
    const b = await Promise.race([
      mutex.run('b', async () => 'b done'),
      new Promise((r) => setTimeout(() => r('b waited'), 200)),
    ]);
    expect(b).toBe('b done');
    releaseA();
    await a;
  });
});
