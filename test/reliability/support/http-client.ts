import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestApp } from '../../support/test-app.js';

/** What a client saw: an answer, its own timeout, or a broken connection. */
export type Outcome =
  | { kind: 'response'; status: number; headers: http.IncomingHttpHeaders; body: any; ms: number }
  | { kind: 'timeout'; ms: number }
  | { kind: 'error'; code: string; ms: number };

export interface SendOptions {
  headers?: Record<string, string>;
  body?: unknown;
  /**
   * The client gives up this long after its request was fully written (so the server has it) and
   * closes the connection; the server may still be working on it.
   */
  timeoutMs?: number;
}

/**
 * One HTTP request on a connection of its own (no keep-alive: an abandoned request never touches
 * another one), with a client-side timeout. Never rejects.
 */
export function send(baseUrl: string, method: string, path: string, opts: SendOptions = {}): Promise<Outcome> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: Outcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(o);
    };
    let timer: NodeJS.Timeout | undefined;
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const req = http.request(new URL(path, baseUrl), {
      method,
      agent: false,
      headers: {
        ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
        ...opts.headers,
      },
    });
    req.on('finish', () => {
      if (opts.timeoutMs === undefined) return;
      timer = setTimeout(() => {
        finish({ kind: 'timeout', ms: ms() });
        req.destroy();
      }, opts.timeoutMs);
    });
    req.on('error', (err: NodeJS.ErrnoException) => finish({ kind: 'error', code: err.code ?? err.message, ms: ms() }));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err: NodeJS.ErrnoException) =>
        finish({ kind: 'error', code: err.code ?? err.message, ms: ms() }),
      );
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        if (/json/.test(res.headers['content-type'] ?? '') && text) {
          try {
            body = JSON.parse(text);
          } catch {
            body = text;
          }
        }
        finish({ kind: 'response', status: res.statusCode ?? 0, headers: res.headers, body, ms: ms() });
      });
    });
    req.end(payload);
  });
}

/** Makes an in-process test app listen on a loopback port (app.close() stops it) and returns its base URL. */
export async function listen(t: TestApp): Promise<string> {
  if (!t.http.listening) await new Promise<void>((resolve) => t.http.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(t.http.address() as AddressInfo).port}`;
}

export const auth = (key: string) => ({ Authorization: `Bearer ${key}` });

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Short label of an outcome for summaries: "201", "409 SLOT_TAKEN", "timeout", "error ECONNRESET". */
export function label(o: Outcome): string {
  if (o.kind === 'timeout') return 'timeout';
  if (o.kind === 'error') return `error ${o.code}`;
  return o.status >= 400 && o.body && typeof o.body === 'object' && 'code' in o.body
    ? `${o.status} ${o.body.code}`
    : String(o.status);
}

/** "3× 201, 2× 409 SLOT_TAKEN" */
export function tally(outcomes: Outcome[]): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) counts.set(label(o), (counts.get(label(o)) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${n}× ${k}`)
    .join(', ');
}

/** Waits until no other connection to this database is running a statement or sits in a transaction. */
export async function quiesce(db: { query: (sql: string) => Promise<any[]> }, withinMs = 10_000): Promise<void> {
  const until = Date.now() + withinMs;
  for (;;) {
    const [{ n }] = await db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND state <> 'idle'`,
    );
    if (n === 0) return;
    if (Date.now() > until) throw new Error(`${n} database connections still busy after ${withinMs} ms`);
    await sleep(25);
  }
}
