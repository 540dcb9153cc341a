/**
 * `npm run bench:fill` (issue 13): a clinic filled by a seeded stream of realistic requests, booked
 * one after another through the API until they are truly infeasible.
 *
 * 1. A throwaway embedded PostgreSQL, migrated; the service as deployed (`node dist/src/main.js`).
 * 2. Two clinics, set up through the API: (a) the demo clinic's shape (4 chairs, 3 nurses with 2
 *    seats, a physician, a therapist, the demo hours and holiday closures) and (b) a 20-chair clinic
 *    (16 nurses with 2 seats, 4 physicians, 8 therapists). Both publish the demo protocol and a
 *    shorter variant (intake, 3 infusions with therapy, follow-up).
 * 3. Per clinic, a seeded stream: each request a new patient (random weekly unavailability, an
 *    unavailable date, random preferred times), the demo protocol (75 %) or the short one, an
 *    earliest start spread over 10 weeks from a Monday, a 14-day window. Each request is previewed,
 *    then booked when the preview plans. The stream ends after 25 refusals in a row or its cap.
 * 4. Every refusal is checked: asked again one day at a time across its window (a plan on any day
 *    is a false refusal), and its earliest start asked on its own (it must plan).
 * Prints a table (and appends it to bench/results.md): requests, booked, refused, false refusals,
 * SEARCH_LIMIT refusals, utilisation of chairs and of the bottleneck role over the weeks filled, and
 * preview / booking / refusal latency p50/p95 by fill (the share of the clinic's final bookings
 * already made when the request came). Bounded: every stream by count and seconds.
 *
 * The parts: bench/fill-workload.ts (settings, clinic shapes, set-up, patients), bench/fill-stream.ts
 * (one stream and its figures), bench/fill-report.ts (the tables), bench/fill-client.ts (HTTP).
 */
import 'reflect-metadata';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import pg from 'pg';
import { runMigrations } from '../src/database/database-bootstrap.js';
import { ensureDatabase, startEmbeddedPostgres, withDatabase } from '../src/database/embedded-postgres.js';
import { Api } from './fill-client.js';
import { fillReport } from './fill-report.js';
import { fill, type Outcome } from './fill-stream.js';
import { log, MODES, SEED, SHAPES, ZONE } from './fill-workload.js';
import { PROJECT_ROOT, startService, type RunningService } from './service.js';

async function main(): Promise<void> {
  const t0 = performance.now();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chairside-fill-'));
  const cluster = await startEmbeddedPostgres(path.join(dir, 'pg'), { persistent: false });
  let service: RunningService | undefined;
  let api: Api | undefined;
  const db = new pg.Client({ connectionString: withDatabase(cluster.adminUrl, 'bench_fill') });
  try {
    await ensureDatabase(cluster.adminUrl, 'bench_fill');
    const url = withDatabase(cluster.adminUrl, 'bench_fill');
    await runMigrations(url);
    await db.connect();
    service = await startService(url);
    api = new Api(service.base);
    // A Monday at least 11 days ahead: the stream's first earliest start.
    let start = DateTime.now().setZone(ZONE).startOf('day').plus({ days: 11 });
    while (start.weekday !== 1) start = start.plus({ days: 1 });
    const outcomes: Outcome[] = [];
    for (const shape of SHAPES.filter(
      (_, i) => process.env.FILL_ONLY === undefined || String(i) === process.env.FILL_ONLY,
    )) {
      // The same seeded stream twice: a clinic with levelling off, then a twin with it on.
      for (const levelling of MODES) {
        log(`filling ${shape.name}, levelling ${levelling}, from ${start.toISODate()} (seed ${SEED})`);
        const o = await fill(db, api, shape, start.toISODate()!, levelling);
        log(
          `${o.label}: ${o.requests} requests, ${o.booked} booked, ${o.refused} refused, ${o.falseRefusals} false, in ${o.seconds.toFixed(0)} s`,
        );
        outcomes.push(o);
      }
    }
    const lines = fillReport(outcomes, start, t0);
    process.stdout.write(`${lines.join('\n')}\n`);
    appendFileSync(path.join(PROJECT_ROOT, 'bench', 'results.md'), `\n${lines.join('\n')}`);
  } finally {
    await db.end().catch(() => undefined);
    api?.close();
    await service?.stop();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
