/**
 * Load generation with autocannon, bounded both by a request count and by seconds. Every response
 * time autocannon measures is kept (its `response` event), so that percentiles are exact: its own
 * summary offers p50, p90, p97.5 and p99 but no p95.
 */
import autocannon from 'autocannon';

export interface RequestSpec {
  method?: 'GET' | 'POST';
  path: string;
  body?: string;
  headers?: Record<string, string>;
}

export interface LoadRun {
  /** Response times (ms) of 2xx responses. */
  ok: number[];
  /** Response times (ms) by status code. */
  byStatus: Map<number, number[]>;
  /** First response body seen for each non-2xx status. */
  sampleBodies: Map<number, string>;
  /** From the start to the last response, in seconds. */
  seconds: number;
  errors: number;
  timeouts: number;
  stoppedByTime: boolean;
  /** Whatever `inspect` returned for each 2xx body, in order. */
  inspected: unknown[];
}

export interface LoadOptions {
  base: string;
  connections: number;
  /** At most this many requests… */
  amount: number;
  /** …and at most this long. */
  maxSeconds: number;
  headers?: Record<string, string>;
  /** The i-th request (0-based, across all connections). */
  request: (i: number) => RequestSpec;
  /** Looks at a 2xx response (parsing it costs the client, not the measured time). */
  inspect?: (status: number, body: string, headers: Record<string, unknown>) => unknown;
}

export function run(opts: LoadOptions): Promise<LoadRun> {
  let next = 0;
  const byStatus = new Map<number, number[]>();
  const sampleBodies = new Map<number, string>();
  const inspected: unknown[] = [];
  let stoppedByTime = false;
  let last = 0;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: opts.base,
        connections: Math.min(opts.connections, opts.amount),
        amount: opts.amount,
        timeout: 30,
        sampleInt: 100,
        headers: { 'content-type': 'application/json', ...opts.headers },
        requests: [
          {
            setupRequest: (req) => {
              const spec = opts.request(next++);
              return {
                ...req,
                method: spec.method ?? 'GET',
                path: spec.path,
                body: spec.body,
                headers: { ...req.headers, ...spec.headers },
              };
            },
            onResponse: (status, body, _context, headers) => {
              if (status >= 200 && status < 300) {
                if (opts.inspect)
                  inspected.push(opts.inspect(status, body, (headers ?? {}) as Record<string, unknown>));
              } else if (!sampleBodies.has(status)) {
                sampleBodies.set(status, body.slice(0, 600));
              }
            },
          },
        ],
      },
      (err, result) => {
        clearTimeout(timer);
        if (err) return reject(err);
        const ok = [...byStatus.entries()].filter(([s]) => s >= 200 && s < 300).flatMap(([, xs]) => xs);
        resolve({
          ok,
          byStatus,
          sampleBodies,
          seconds: ((last || performance.now()) - started) / 1000,
          errors: result.errors,
          timeouts: result.timeouts,
          stoppedByTime,
          inspected,
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      last = performance.now();
      let xs = byStatus.get(statusCode);
      if (!xs) byStatus.set(statusCode, (xs = []));
      xs.push(responseTime);
    });
    const timer = setTimeout(() => {
      stoppedByTime = true;
      instance.stop();
    }, opts.maxSeconds * 1000);
  });
}

/** Several runs of the same measurement as one. */
export function merge(runs: LoadRun[]): LoadRun {
  const byStatus = new Map<number, number[]>();
  const sampleBodies = new Map<number, string>();
  for (const r of runs) {
    for (const [s, xs] of r.byStatus) byStatus.set(s, [...(byStatus.get(s) ?? []), ...xs]);
    for (const [s, b] of r.sampleBodies) if (!sampleBodies.has(s)) sampleBodies.set(s, b);
  }
  return {
    ok: runs.flatMap((r) => r.ok),
    byStatus,
    sampleBodies,
    seconds: runs.reduce((t, r) => t + r.seconds, 0),
    errors: runs.reduce((t, r) => t + r.errors, 0),
    timeouts: runs.reduce((t, r) => t + r.timeouts, 0),
    stoppedByTime: runs.some((r) => r.stoppedByTime),
    inspected: runs.flatMap((r) => r.inspected),
  };
}

/** Nearest-rank percentile. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const count = (r: LoadRun, status: number) => r.byStatus.get(status)?.length ?? 0;
export const total = (r: LoadRun) => [...r.byStatus.values()].reduce((n, xs) => n + xs.length, 0);
export const statusSummary = (r: LoadRun) =>
  [...r.byStatus.entries()]
    .sort(([a], [b]) => a - b)
    .map(([s, xs]) => `${s}×${xs.length}`)
    .join(', ') + (r.errors ? `, connection errors ${r.errors}` : '');
