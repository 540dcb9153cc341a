import fc from 'fast-check';
import { KeyedMutex } from './keyed-mutex.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('KeyedMutex', () => {
  it('runs the work of one key one at a time, in arrival order, and different keys side by side', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.nat(3), fc.boolean()), { minLength: 1, maxLength: 30 }), async (jobs) => {
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
      }),
      { numRuns: 200 },
    );
  });

  it('does not make one key wait for another', async () => {
    const mutex = new KeyedMutex();
    let releaseA!: () => void;
    const a = mutex.run('a', () => new Promise<void>((r) => (releaseA = r)));
    const b = await Promise.race([mutex.run('b', async () => 'b done'), new Promise((r) => setTimeout(() => r('b waited'), 200))]);
    expect(b).toBe('b done');
    releaseA();
    await a;
  });
});
