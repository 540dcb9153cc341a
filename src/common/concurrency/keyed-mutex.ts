/**
 * At most `limit` at a time per key, in this process: `run(key, work)` starts `work` once fewer
 * than `limit` earlier runs for the same key are still going, in arrival order; different keys do
 * not wait on each other. Nothing is kept for a key with nothing running or queued.
 */
export class KeyedMutex {
  private readonly keys = new Map<string, { running: number; waiting: (() => void)[] }>();

  constructor(private readonly limit = 1) {}

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    let k = this.keys.get(key);
    if (!k) this.keys.set(key, (k = { running: 0, waiting: [] }));
    if (k.running < this.limit && k.waiting.length === 0) k.running++;
    else await new Promise<void>((resolve) => k!.waiting.push(resolve)); // the slot is handed over by the one leaving it
    try {
      return await work();
    } finally {
      const next = k.waiting.shift();
      if (next) next();
      else if (--k.running === 0) this.keys.delete(key);
    }
  }

  /** Keys with work running or queued (for tests and metrics). */
  get size(): number {
    return this.keys.size;
  }
}
