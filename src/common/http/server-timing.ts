import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import type { NextFunction, Request, Response } from 'express';

/**
 * `Server-Timing` (W3C) for operators and benchmarks: where a request's time went (database reads,
 * the engine, the audit write), as `name;dur=<ms>` entries. Off unless SERVER_TIMING=true; when off,
 * `timed` costs one AsyncLocalStorage lookup. Names only, never values: nothing of a patient.
 */
const current = new AsyncLocalStorage<Map<string, number>>();

/** Runs `work`, adding its duration to the request's entry `name` (when timing is on). */
export async function timed<T>(name: string, work: () => Promise<T> | T): Promise<T> {
  const entries = current.getStore();
  if (!entries) return work();
  const t0 = performance.now();
  try {
    return await work();
  } finally {
    add(entries, name, t0);
  }
}

/** The same for synchronous work (the engine). */
export function timedSync<T>(name: string, work: () => T): T {
  const entries = current.getStore();
  if (!entries) return work();
  const t0 = performance.now();
  try {
    return work();
  } finally {
    add(entries, name, t0);
  }
}

/** Adds the time since `t0` to the entry `name`. */
function add(entries: Map<string, number>, name: string, t0: number): void {
  entries.set(name, (entries.get(name) ?? 0) + performance.now() - t0);
}

/** Express middleware: collects the entries and writes them, with the total, as the answer starts. */
export function serverTimingMiddleware() {
  return (_req: Request, res: Response, next: NextFunction): void => {
    const entries = new Map<string, number>();
    const t0 = performance.now();
    const writeHead = res.writeHead;
    res.writeHead = function (this: Response, ...args: unknown[]) {
      if (!res.headersSent) {
        const parts = [...entries].map(([name, ms]) => `${name};dur=${ms.toFixed(2)}`);
        parts.push(`total;dur=${(performance.now() - t0).toFixed(2)}`);
        res.setHeader('Server-Timing', parts.join(', '));
      }
      return (writeHead as (...a: unknown[]) => Response).apply(this, args);
    } as Response['writeHead'];
    current.run(entries, next);
  };
}
