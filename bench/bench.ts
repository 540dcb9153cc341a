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
 *
 * The parts: bench/bench-settings.ts (sizes, bounds, targets), bench/bench-measure.ts (the
 * measurements), bench/bench-report.ts (the table and results.md); the data set is bench/seed.ts.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { runMigrations } from '../src/database/database-bootstrap.js';
import { ensureDatabase, startEmbeddedPostgres, withDatabase } from '../src/database/embedded-postgres.js';
import type { BaselineRun } from './baseline.js';
import {
  baseline,
  book,
  chairFeed,
  daySheetRequest,
  interleaved,
  itemsOf,
  measure,
  previewRequest,
  type Booking,
  type Latency,
} from './bench-measure.js';
import { resultRows, resultsMarkdown, writeResults } from './bench-report.js';
import {
  AVAILABILITY,
  BOOK_1,
  BOOK_8,
  BOOKING_PATIENTS,
  CLINICS,
  LATENCY,
  MEASURED,
  ROUNDS,
  SESSIONS_BIG,
  TWIN_1,
  TWIN_8,
  bearer,
  day,
  log,
  specs,
} from './bench-settings.js';
import { seedDataSet, type SeededDataSet } from './seed.js';
import { startService, type RunningService } from './service.js';

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
    const rows = resultRows({
      preview,
      previewSmall,
      sheet,
      sheetSmall,
      availability,
      feed,
      booking1,
      booking8,
      sql1,
      sql8,
      small,
    });

    const seconds = (performance.now() - t0) / 1000;
    const markdown = resultsMarkdown({ rows, big, small, m, pgVersion, seconds });
    process.stdout.write(`\n${markdown}\n`);
    writeResults(markdown);
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
