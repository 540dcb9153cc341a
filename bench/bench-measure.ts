/**
 * The measurements of `npm run bench`: latency over one connection (alone, or alternating between
 * services so that a comparison is fair), the requests measured (preview, day sheet, a chair's feed),
 * booking throughput through the API, and the same series inserted again by plain SQL.
 */
import pg from 'pg';
import { insertSeries, prepareSeries, type BaselineRun } from './baseline.js';
import { BOOKING, bearer, day, log, p5095, today } from './bench-settings.js';
import { count, merge, run, statusSummary, type LoadOptions, type LoadRun, type RequestSpec } from './load.js';
import type { SeededClinic } from './seed.js';

/** The working days (Mon–Sat) from two weeks back to four weeks ahead. */
function sheetDays(): string[] {
  const days: string[] = [];
  for (let i = -14; i <= 28; i++) if (today().plus({ days: i }).weekday !== 7) days.push(day(i));
  return days;
}

export interface Latency {
  run: LoadRun;
  note?: string;
}

export async function measure(
  base: string,
  name: string,
  cfg: { amount: number; seconds: number; warmup: number },
  request: (i: number) => RequestSpec,
  headers: Record<string, string>,
): Promise<Latency> {
  await run({ base, connections: 1, amount: cfg.warmup, maxSeconds: 10, headers, request });
  const r = await run({ base, connections: 1, amount: cfg.amount, maxSeconds: cfg.seconds, headers, request });
  log(`${name}: ${p5095(r.ok)}; ${statusSummary(r)}${r.stoppedByTime ? ' (stopped by time)' : ''}`);
  for (const [status, body] of r.sampleBodies) log(`  a ${status}: ${body}`);
  return { run: r };
}

interface Target {
  name: string;
  base: string;
  request: (i: number) => RequestSpec;
  headers: Record<string, string>;
  inspect?: LoadOptions['inspect'];
}

/**
 * The same measurement on several services in alternating rounds, so that a comparison between
 * them (the growth with data) is not skewed by whatever else the machine does meanwhile.
 */
export async function interleaved(
  targets: Target[],
  cfg: { amount: number; seconds: number; warmup: number },
  rounds: number,
): Promise<LoadRun[]> {
  for (const t of targets)
    await run({
      base: t.base,
      connections: 1,
      amount: cfg.warmup,
      maxSeconds: 10,
      headers: t.headers,
      request: t.request,
    });
  const runs: LoadRun[][] = targets.map(() => []);
  const per = Math.ceil(cfg.amount / rounds);
  for (let round = 0; round < rounds; round++) {
    for (const [k, t] of targets.entries()) {
      runs[k].push(
        await run({
          base: t.base,
          connections: 1,
          amount: per,
          maxSeconds: cfg.seconds / rounds,
          headers: t.headers,
          request: (i) => t.request(round * per + i),
          inspect: t.inspect,
        }),
      );
    }
  }
  return runs.map((rs, k) => {
    const r = merge(rs);
    log(`${targets[k].name}: ${p5095(r.ok)}; ${statusSummary(r)}${r.stoppedByTime ? ' (stopped by time)' : ''}`);
    for (const [status, body] of r.sampleBodies) log(`  a ${status}: ${body}`);
    return r;
  });
}

export function previewRequest(clinic: SeededClinic): (i: number) => RequestSpec {
  return (i) => ({
    method: 'POST',
    path: '/v1/plans/preview',
    body: JSON.stringify({
      patientId: clinic.freePatientIds[i % clinic.freePatientIds.length],
      protocolId: clinic.protocolId,
      earliestStart: day(1 + (i % 28)),
    }),
  });
}

export function daySheetRequest(clinic: SeededClinic): (i: number) => RequestSpec {
  const days = sheetDays();
  return (i) => {
    const d = days[i % days.length];
    return { path: `/v1/sessions?clinicId=${clinic.id}&from=${d}&to=${d}&limit=200` };
  };
}

export const itemsOf = (_status: number, body: string) => (JSON.parse(body) as { items: unknown[] }).items.length;

/** Creates a chair feed (POST /v1/calendar/feeds) and returns the path of its .ics, or why not. */
export async function chairFeed(
  base: string,
  clinic: SeededClinic,
): Promise<{ path: string } | { unavailable: string }> {
  const chairId = clinic.chairIds[0];
  for (const key of [clinic.frontDeskKey, clinic.adminKey]) {
    for (const body of [
      { scope: 'chair', chairId },
      { scope: 'chair', scopeId: chairId },
    ]) {
      const res = await fetch(`${base}/v1/calendar/feeds`, {
        method: 'POST',
        headers: { ...bearer(key), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      if (res.status === 404) return { unavailable: 'feeds not available' };
      if (res.status === 403) break;
      if (res.status === 400) {
        log(`feed creation refused ${JSON.stringify(body)}: ${text.slice(0, 300)}`);
        continue;
      }
      if (!res.ok) return { unavailable: `feed creation answered ${res.status}` };
      const json = JSON.parse(text) as { url?: string; token?: string };
      if (json.token) return { path: `/v1/calendar/feeds/${encodeURIComponent(json.token)}.ics` };
      if (json.url) return { path: new URL(json.url, base).pathname };
      return { unavailable: 'feed creation returned neither token nor url' };
    }
  }
  return { unavailable: 'no key may create a chair feed' };
}

export interface Booking {
  run: LoadRun;
  warmupPlanIds: string[];
  planIds: string[];
  rate: number;
  replanned: number;
  deadlocks: number;
}

const deadlocks = async (db: pg.Client) =>
  Number(
    (await db.query(`SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`)).rows[0].deadlocks,
  );

export async function book(base: string, db: pg.Client, clinic: SeededClinic, connections: number): Promise<Booking> {
  let k = 0;
  // Each request books the demo series for its own patient, starting within the next three months.
  const request = (): RequestSpec => {
    const i = k++;
    return {
      method: 'POST',
      path: '/v1/plans',
      body: JSON.stringify({
        patientId: clinic.freePatientIds[i],
        protocolId: clinic.protocolId,
        earliestStart: day(1 + ((i * 7) % 90)),
      }),
    };
  };
  const headers = bearer(clinic.frontDeskKey);
  const booked = (_status: number, body: string, h: Record<string, unknown>) => ({
    id: (JSON.parse(body) as { id: string }).id,
    replanned: Object.entries(h).some(
      ([name, value]) => name.toLowerCase() === 'chairside-replanned' && String(value) === 'true',
    ),
  });
  const ids = (r: LoadRun) => (r.inspected as ReturnType<typeof booked>[]).map((b) => b.id);
  const warm = await run({
    base,
    connections,
    amount: BOOKING.warmup,
    maxSeconds: 10,
    headers,
    request,
    inspect: booked,
  });
  const deadlocksBefore = await deadlocks(db);
  const r = await run({
    base,
    connections,
    amount: BOOKING.amount,
    maxSeconds: BOOKING.seconds,
    headers,
    request,
    inspect: booked,
  });
  const rate = count(r, 201) / r.seconds;
  const replanned = (r.inspected as ReturnType<typeof booked>[]).filter((b) => b.replanned).length;
  const dl = (await deadlocks(db)) - deadlocksBefore;
  log(
    `booking, ${connections} client(s): ${rate.toFixed(1)} series/s; 201 ${p5095(r.byStatus.get(201) ?? [])}; ${statusSummary(r)}; ` +
      `replanned ${replanned}; deadlocks ${dl}${r.stoppedByTime ? ' (stopped by time)' : ''}`,
  );
  for (const [status, body] of r.sampleBodies) log(`  a ${status}: ${body}`);
  return { run: r, warmupPlanIds: ids(warm), planIds: ids(r), rate, replanned, deadlocks: dl };
}

export async function baseline(
  db: pg.Client,
  url: string,
  source: SeededClinic,
  twin: SeededClinic,
  booking: Booking,
  clients: number,
): Promise<BaselineRun> {
  // The twin first receives what the source had before the measured run (untimed).
  const warm = await insertSeries(url, await prepareSeries(db, source, twin, booking.warmupPlanIds), 1);
  if (warm.failures) throw new Error(`bench baseline: warm-up series refused: ${warm.firstError}`);
  const series = await prepareSeries(db, source, twin, booking.planIds);
  const r = await insertSeries(url, series, clients);
  log(
    `plain SQL, ${clients} client(s): ${(r.series / r.seconds).toFixed(1)} series/s; ${p5095(r.latencies)} per series; failures ${r.failures}${r.firstError ? ` (${r.firstError})` : ''}`,
  );
  return r;
}
