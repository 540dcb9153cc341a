/**
 * `npm run bench`: the service on its own embedded PostgreSQL, a realistic data set, one table.
 *
 * 1. Starts a throwaway embedded PostgreSQL cluster with two databases: the data set (10 clinics ×
 *    20 chairs × 40 staff, 5,000 patients, about 50,000 sessions over a year) and the same with
 *    10× fewer sessions; both seeded by SQL (bench/seed.ts).
 * 2. Starts the service as deployed (`node dist/src/main.js`) once per database and measures over
 *    loopback with autocannon, one connection: plan preview and the day sheet on both data sets in
 *    alternating rounds (so that the growth ratio compares like with like), then availability
 *    (4 weeks) and a chair's calendar feed on the big one.
 * 3. Booking throughput with 1 and 8 connections, each in its own clinic, every request booking the
 *    demo series for a patient without one.
 * 4. Baseline: the series the API booked, inserted again by plain SQL through `pg` into twin
 *    clinics (same layout), one transaction per series, with 1 and 8 clients (bench/baseline.ts).
 * Prints one markdown table and writes it to bench/results.md. Every measurement is bounded by a
 * request count and by seconds; only loopback traffic.
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import pg from 'pg';
import { runMigrations } from '../src/database/database-bootstrap.js';
import { ensureDatabase, startEmbeddedPostgres, withDatabase } from '../src/database/embedded-postgres.js';
import { insertSeries, prepareSeries, type BaselineRun } from './baseline.js';
import {
  count,
  merge,
  percentile,
  run,
  statusSummary,
  type LoadOptions,
  type LoadRun,
  type RequestSpec,
} from './load.js';
import { CHAIRS, NURSES, PHYSICIANS, STAFF, THERAPISTS, ZONE, type ClinicSpec } from './seed-layout.js';
import { seedDataSet, type SeededClinic, type SeededDataSet } from './seed.js';
import { PROJECT_ROOT, startService, type RunningService } from './service.js';

const CLINICS = 10;
const PATIENTS_PER_CLINIC = 500;
const SESSIONS_BIG = 50_000;
const SESSIONS_PER_SERIES = 15;
/** Clinic roles in the big data set (indexes). Twins share a layout seed with their source. */
const MEASURED = 0;
const BOOK_1 = 1;
const BOOK_8 = 2;
const TWIN_1 = 3;
const TWIN_8 = 4;
const LAYOUT_SEEDS = [101, 102, 103, 102, 103, 106, 107, 108, 109, 110];

const LATENCY = { amount: 300, seconds: 20, warmup: 30 };
/** Rounds that alternate between the big and the small data set. */
const ROUNDS = 3;
const AVAILABILITY = { amount: 200, seconds: 15, warmup: 20 };
const BOOKING = { amount: 400, seconds: 15, warmup: 16 };
/** Patients without a series added to each booking clinic and its twin. */
const BOOKING_PATIENTS = BOOKING.amount + BOOKING.warmup + 20;

const TARGET = { previewP95: 20, availabilityP95: 50, daySheetP95: 10, bookingRatio: 0.5, growth: 2 };

const today = () => DateTime.now().setZone(ZONE).startOf('day');
const day = (offset: number) => today().plus({ days: offset }).toISODate()!;
const ms = (x: number) => (Number.isNaN(x) ? '–' : x < 10 ? x.toFixed(2) : x.toFixed(1));
const p5095 = (xs: number[]) => `p50 ${ms(percentile(xs, 50))} ms · p95 ${ms(percentile(xs, 95))} ms (n=${xs.length})`;
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

function specs(sessions: number): ClinicSpec[] {
  const plans = Math.round(sessions / SESSIONS_PER_SERIES / CLINICS);
  const role = (i: number) =>
    ({
      [MEASURED]: 'measured',
      [BOOK_1]: 'booking, 1 client',
      [BOOK_8]: 'booking, 8 clients',
      [TWIN_1]: 'SQL baseline, 1 client',
      [TWIN_8]: 'SQL baseline, 8 clients',
    })[i] ?? 'background';
  return LAYOUT_SEEDS.map((layoutSeed, i) => ({
    name: `Bench ${String(i + 1).padStart(2, '0')} (${role(i)})`,
    plans,
    patients: PATIENTS_PER_CLINIC,
    layoutSeed,
  }));
}

/** The working days (Mon–Sat) from two weeks back to four weeks ahead. */
function sheetDays(): string[] {
  const days: string[] = [];
  for (let i = -14; i <= 28; i++) if (today().plus({ days: i }).weekday !== 7) days.push(day(i));
  return days;
}

interface Latency {
  run: LoadRun;
  note?: string;
}

async function measure(
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
async function interleaved(
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

function previewRequest(clinic: SeededClinic): (i: number) => RequestSpec {
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

function daySheetRequest(clinic: SeededClinic): (i: number) => RequestSpec {
  const days = sheetDays();
  return (i) => {
    const d = days[i % days.length];
    return { path: `/v1/sessions?clinicId=${clinic.id}&from=${d}&to=${d}&limit=200` };
  };
}

const itemsOf = (_status: number, body: string) => (JSON.parse(body) as { items: unknown[] }).items.length;
const average = (xs: unknown[]) => (xs.length ? (xs as number[]).reduce((a, b) => a + b, 0) / xs.length : NaN);

/** Creates a chair feed (POST /v1/calendar/feeds) and returns the path of its .ics, or why not. */
async function chairFeed(base: string, clinic: SeededClinic): Promise<{ path: string } | { unavailable: string }> {
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

interface Booking {
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

async function book(base: string, db: pg.Client, clinic: SeededClinic, connections: number): Promise<Booking> {
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

async function baseline(
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

interface Row {
  what: string;
  result: string;
  target: string;
  met: string;
}

const yesNo = (ok: boolean) => (ok ? 'yes' : '**no**');

function growthCell(big: number[], small: number[]): { text: string; met: string } {
  const r50 = percentile(big, 50) / percentile(small, 50);
  const r95 = percentile(big, 95) / percentile(small, 95);
  const met =
    r50 < TARGET.growth && r95 < TARGET.growth ? 'yes' : r50 < TARGET.growth ? 'p50 yes, **p95 no**' : '**no**';
  return { text: `×${r50.toFixed(2)} at p50 · ×${r95.toFixed(2)} at p95`, met };
}

function table(rows: Row[]): string {
  const esc = (s: string) => s.replaceAll('|', '\\|');
  return [
    '| measurement | result | target | met? |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| ${esc(r.what)} | ${esc(r.result)} | ${esc(r.target)} | ${r.met} |`),
  ].join('\n');
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chairside-bench-'));
  log(`embedded PostgreSQL in ${dir}`);
  const cluster = await startEmbeddedPostgres(path.join(dir, 'pg'), { persistent: false });
  const services: RunningService[] = [];
  try {
    const urls = {
      big: withDatabase(cluster.adminUrl, 'bench_big'),
      small: withDatabase(cluster.adminUrl, 'bench_small'),
    };
    for (const name of ['bench_big', 'bench_small']) await ensureDatabase(cluster.adminUrl, name);
    await runMigrations(urls.big);
    await runMigrations(urls.small);

    const seed = async (url: string, sessions: number, extra: number[]): Promise<SeededDataSet> => {
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      try {
        return await seedDataSet(db, specs(sessions), extra);
      } finally {
        await db.end();
      }
    };
    const extra = Array.from({ length: CLINICS }, (_, i) =>
      [BOOK_1, BOOK_8, TWIN_1, TWIN_8].includes(i) ? BOOKING_PATIENTS : 0,
    );
    const big = await seed(urls.big, SESSIONS_BIG, extra);
    log(
      `big data set: ${big.sessions} sessions in ${big.plans} series, ${big.patients} patients, seeded in ${big.seconds.toFixed(1)} s`,
    );
    const small = await seed(urls.small, SESSIONS_BIG / 10, []);
    log(
      `small data set: ${small.sessions} sessions in ${small.plans} series, ${small.patients} patients, seeded in ${small.seconds.toFixed(1)} s`,
    );

    // ---- reads: the big data set, and the small one in alternating rounds ----
    const bigService = await startService(urls.big);
    services.push(bigService);
    const smallService = await startService(urls.small);
    services.push(smallService);
    log(
      `services at ${bigService.base} (big data set, pid ${bigService.pid}) and ${smallService.base} (small, pid ${smallService.pid})`,
    );
    const m = big.clinics[MEASURED];
    const s = small.clinics[MEASURED];
    const frontDesk = bearer(m.frontDeskKey);

    const [preview, previewSmall] = await interleaved(
      [
        { name: 'preview', base: bigService.base, request: previewRequest(m), headers: frontDesk },
        {
          name: 'preview, 10× fewer sessions',
          base: smallService.base,
          request: previewRequest(s),
          headers: bearer(s.frontDeskKey),
        },
      ],
      LATENCY,
      ROUNDS,
    );
    const [sheet, sheetSmall] = await interleaved(
      [
        { name: 'day sheet', base: bigService.base, request: daySheetRequest(m), headers: frontDesk, inspect: itemsOf },
        {
          name: 'day sheet, 10× fewer sessions',
          base: smallService.base,
          request: daySheetRequest(s),
          headers: bearer(s.frontDeskKey),
          inspect: itemsOf,
        },
      ],
      LATENCY,
      ROUNDS,
    );
    await smallService.stop();

    const availability = await measure(
      bigService.base,
      'availability',
      AVAILABILITY,
      (i) => {
        const from = 1 + (i % 28);
        return {
          path: `/v1/clinics/${m.id}/availability?from=${day(from)}&to=${day(from + 27)}&durationMinutes=40&recoveryMinutes=60&role=nurse&needsChair=true`,
        };
      },
      frontDesk,
    );

    const feedTarget = await chairFeed(bigService.base, m);
    let feed: Latency | { unavailable: string };
    if ('path' in feedTarget) {
      const probe = await fetch(bigService.base + feedTarget.path);
      const body = await probe.text();
      if (probe.status === 404) feed = { unavailable: 'feeds not available' };
      else if (!probe.ok) feed = { unavailable: `feed answered ${probe.status}` };
      else {
        const events = body.split('BEGIN:VEVENT').length - 1;
        const f = await measure(bigService.base, 'chair feed', AVAILABILITY, () => ({ path: feedTarget.path }), {});
        feed = { ...f, note: `${events} events, ${(Buffer.byteLength(body) / 1024).toFixed(0)} kB` };
      }
    } else feed = feedTarget;
    if ('unavailable' in feed) log(`chair feed: n/a (${feed.unavailable})`);

    // ---- writes: booking through the API, then the same series by plain SQL ----
    const db = new pg.Client({ connectionString: urls.big });
    await db.connect();
    let booking1: Booking;
    let booking8: Booking;
    let sql1: BaselineRun;
    let sql8: BaselineRun;
    let pgVersion: string;
    try {
      booking1 = await book(bigService.base, db, big.clinics[BOOK_1], 1);
      booking8 = await book(bigService.base, db, big.clinics[BOOK_8], 8);
      await bigService.stop();
      sql1 = await baseline(db, urls.big, big.clinics[BOOK_1], big.clinics[TWIN_1], booking1, 1);
      sql8 = await baseline(db, urls.big, big.clinics[BOOK_8], big.clinics[TWIN_8], booking8, 8);
      pgVersion = (await db.query('SHOW server_version')).rows[0].server_version;
      const [{ overlaps }] = (
        await db.query(`SELECT count(*)::int AS overlaps FROM sessions a JOIN sessions b
                           ON a.clinic_id = b.clinic_id AND a.chair_id = b.chair_id AND a.id < b.id AND a.during && b.during
                        WHERE a.status IN ('scheduled','checked_in','completed') AND b.status IN ('scheduled','checked_in','completed')`)
      ).rows;
      if (overlaps !== 0) throw new Error(`bench: ${overlaps} overlapping chair bookings after the runs`);
    } finally {
      await db.end();
    }

    // ---- the table ----
    const rows: Row[] = [];
    const p95 = (r: LoadRun) => percentile(r.ok, 95);
    rows.push({
      what: `Plan preview, demo protocol (${SESSIONS_PER_SERIES} sessions), 1 connection`,
      result: p5095(preview.ok),
      target: `p95 < ${TARGET.previewP95} ms`,
      met: yesNo(p95(preview) < TARGET.previewP95),
    });
    rows.push({
      what: 'Availability, 4 weeks (40 min + 60 min recovery, chair + nurse)',
      result: p5095(availability.run.ok),
      target: `p95 < ${TARGET.availabilityP95} ms`,
      met: yesNo(p95(availability.run) < TARGET.availabilityP95),
    });
    rows.push({
      what: `Day sheet, GET /v1/sessions for one clinic-day (avg ${average(sheet.inspected).toFixed(1)} sessions)`,
      result: p5095(sheet.ok),
      target: `p95 < ${TARGET.daySheetP95} ms`,
      met: yesNo(p95(sheet) < TARGET.daySheetP95),
    });
    rows.push(
      'unavailable' in feed
        ? { what: 'Calendar feed render, one chair (.ics)', result: 'n/a (feeds not available)', target: '–', met: '–' }
        : {
            what: `Calendar feed render, one chair (.ics, ${feed.note})`,
            result: p5095(feed.run.ok),
            target: '–',
            met: '–',
          },
    );
    for (const [clients, api, sql] of [
      [1, booking1, sql1],
      [8, booking8, sql8],
    ] as const) {
      const sqlRate = sql.series / sql.seconds;
      rows.push({
        what: `Booking, POST /v1/plans, ${clients} connection${clients > 1 ? 's' : ''}`,
        result: `${api.rate.toFixed(1)} series/s (${count(api.run, 201)} booked in ${api.run.seconds.toFixed(1)} s; 201 ${p5095(api.run.byStatus.get(201) ?? [])}; ${statusSummary(api.run)}; replanned after a lost race ${api.replanned}; deadlocks ${api.deadlocks})`,
        target: '–',
        met: '–',
      });
      rows.push({
        what: `Plain-SQL baseline, same series, ${clients} client${clients > 1 ? 's' : ''} (pg, one transaction per series)`,
        result: `${sqlRate.toFixed(1)} series/s (${sql.series} in ${sql.seconds.toFixed(2)} s; ${p5095(sql.latencies)} per series${sql.failures ? `; ${sql.failures} refused` : ''})`,
        target: '–',
        met: '–',
      });
      const ratio = sql.series ? api.rate / sqlRate : NaN;
      rows.push({
        what: `Booking rate ÷ baseline, ${clients} client${clients > 1 ? 's' : ''}`,
        result: Number.isNaN(ratio) ? 'n/a (nothing booked)' : `${(ratio * 100).toFixed(1)} %`,
        target: `≥ ${TARGET.bookingRatio * 100} %`,
        met: Number.isNaN(ratio) ? 'n/a' : yesNo(ratio >= TARGET.bookingRatio),
      });
    }
    rows.push({
      what: `Plan preview with 10× fewer sessions (${small.sessions.toLocaleString('en-US')})`,
      result: p5095(previewSmall.ok),
      target: '–',
      met: '–',
    });
    const gp = growthCell(preview.ok, previewSmall.ok);
    rows.push({
      what: 'Preview growth, 10× the sessions',
      result: gp.text,
      target: `< ${TARGET.growth}×`,
      met: gp.met,
    });
    rows.push({
      what: `Day sheet with 10× fewer sessions (avg ${average(sheetSmall.inspected).toFixed(1)} sessions)`,
      result: p5095(sheetSmall.ok),
      target: '–',
      met: '–',
    });
    const gs = growthCell(sheet.ok, sheetSmall.ok);
    rows.push({
      what: 'Day sheet growth, 10× the sessions',
      result: gs.text,
      target: `< ${TARGET.growth}×`,
      met: gs.met,
    });

    const seconds = (performance.now() - t0) / 1000;
    let date: string;
    try {
      date = execFileSync('date', { encoding: 'utf8' }).trim();
    } catch {
      date = new Date().toString();
    }
    const cpus = os.cpus();
    const autocannonVersion = (
      JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'node_modules', 'autocannon', 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
    const n = (x: number) => x.toLocaleString('en-US');
    const markdown = [
      '# Benchmark results',
      '',
      `${date} · ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}) · Node ${process.version} · PostgreSQL ${pgVersion} · autocannon ${autocannonVersion} · whole run ${seconds.toFixed(0)} s`,
      '',
      '`npm run bench` (bench/bench.ts). The service runs as deployed (`node dist/src/main.js`, `LOG_LEVEL=warn`, rate limit off) on its own',
      'embedded PostgreSQL; autocannon, the service and PostgreSQL share the cores; loopback traffic only.',
      '',
      `- Data set: ${CLINICS} clinics × ${CHAIRS} chairs × ${STAFF} staff (${NURSES} nurses with 2 seats, ${PHYSICIANS} physicians, ${THERAPISTS} therapists),`,
      `  ${n(CLINICS * PATIENTS_PER_CLINIC)} patients (+${n(BOOKING_PATIENTS)} new patients in each of the 4 booking and baseline clinics),`,
      `  ${n(big.sessions)} sessions in ${n(big.plans)} demo series over the year around today (seeded by SQL in ${big.seconds.toFixed(1)} s).`,
      `- 10× fewer: the same clinics, staff and patients with ${n(small.sessions)} sessions in ${n(small.plans)} series.`,
      `- Latencies are measured on clinic 1 (${n(m.sessions)} sessions), one connection, after a warm-up; p50/p95 are nearest-rank`,
      `  over every 2xx response time autocannon recorded. Preview and day sheet alternate between the two data sets in ${ROUNDS} rounds,`,
      '  each set served by its own service process. Booking: each request books the demo series for a patient without one;',
      '  series/s counts 201s over the time to the last response. The baseline inserts those same series into a twin clinic',
      '  (same seeded layout) by plain SQL: plan row + one multi-row INSERT of its sessions per transaction, same constraints and triggers.',
      '',
      table(rows),
      '',
    ].join('\n');
    process.stdout.write(`\n${markdown}\n`);
    // This table replaces the head of results.md; the sections bench:fill appends below it stay.
    const file = path.join(PROJECT_ROOT, 'bench', 'results.md');
    const previous = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const kept = previous.indexOf('\n## Fill benchmark');
    writeFileSync(file, kept < 0 ? markdown : `${markdown.trimEnd()}\n${previous.slice(kept)}`);
    log(`written to bench/results.md (later sections kept); whole run ${seconds.toFixed(0)} s`);
  } finally {
    for (const svc of services) await svc.stop().catch(() => undefined);
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
