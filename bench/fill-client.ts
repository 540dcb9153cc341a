/**
 * The HTTP client of `npm run bench:fill`: JSON requests with a bearer key, timed, with the
 * service's own Server-Timing entries read back.
 */
import http from 'node:http';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies of many shapes, read field by field
export type Json = Record<string, any>;

/**
 * The client: node:http over one kept-alive connection, the leanest client Node has (fetch adds
 * about 0.3–0.5 ms per request on this machine, counted in every latency below otherwise).
 */
export class Api {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  constructor(readonly base: string) {}
  close(): void {
    this.agent.destroy();
  }
  async call(
    method: string,
    p: string,
    key: string,
    body?: unknown,
  ): Promise<{ status: number; body: Json; ms: number; server: Record<string, number> }> {
    const t0 = performance.now();
    const data = body === undefined ? undefined : JSON.stringify(body);
    const res = await new Promise<{ status: number; text: string; timing: string }>((resolve, reject) => {
      const req = http.request(
        `${this.base}${p}`,
        {
          method,
          agent: this.agent,
          headers: {
            authorization: `Bearer ${key}`,
            ...(data === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) }),
          },
        },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (c: Buffer) => chunks.push(c));
          answer.on('end', () =>
            resolve({
              status: answer.statusCode ?? 0,
              text: Buffer.concat(chunks).toString('utf8'),
              timing: String(answer.headers['server-timing'] ?? ''),
            }),
          );
          answer.on('error', reject);
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${p}: no answer in 30 s`)));
      req.on('error', reject);
      req.end(data);
    });
    const elapsed = performance.now() - t0;
    const server: Record<string, number> = {};
    for (const part of res.timing.split(',')) {
      const m = /^\s*([\w-]+);dur=([\d.]+)/.exec(part);
      if (m) server[m[1]] = Number(m[2]);
    }
    return { status: res.status, body: res.text ? (JSON.parse(res.text) as Json) : {}, ms: elapsed, server };
  }
  async ok(method: string, p: string, key: string, body?: unknown): Promise<Json> {
    const r = await this.call(method, p, key, body);
    if (r.status >= 300)
      throw new Error(`${method} ${p} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 400)}`);
    return r.body;
  }
}
