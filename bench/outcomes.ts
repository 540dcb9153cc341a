/**
 * `npm run bench:outcomes`: the outcomes report over 5,000 plans, measured as deployed.
 *
 * A throwaway embedded PostgreSQL with one clinic: the ketamine protocol (versions 1 and 2) and
 * 5,000 past series (2,500 per version, one patient each, 75,000 sessions and 21,085
 * observations, first sessions spread over the last year) written by the demo history generator.
 * The service (`node dist/src/main.js`) then answers `GET /v1/protocols/{id}/outcomes` for both
 * versions over loopback, one connection, after a warm-up; as JSON, CSV and FHIR; read again with
 * nothing written in between (the kept aggregates, checked against the cohort's signature) and
 * right after a write to the cohort (computed from the facts); and the clinic's operations.
 * Bounded by request count and seconds. Prints a table and writes bench/outcomes-results.md
 * (bench/outcomes-seed.ts writes the clinic; bench/outcomes-costs.ts measures statements and writes).
 */
import 'reflect-metadata';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import pg from 'pg';
import { runMigrations } from '../src/database/database-bootstrap.js';
import { ensureDatabase, startEmbeddedPostgres, withDatabase } from '../src/database/embedded-postgres.js';
import { percentile, run, statusSummary } from './load.js';
import {
  STATEMENT_RUNS,
  statementCosts,
  WRITES,
  writeCosts,
  type StatementCost,
  type WriteCost,
} from './outcomes-costs.js';
import { PLANS, seedOutcomes } from './outcomes-seed.js';
import { PROJECT_ROOT, startService, type RunningService } from './service.js';

const LATENCY = { amount: 200, seconds: 30, warmup: 10 };
const AFTER_WRITES = { amount: 100, seconds: 40, warmup: 10 };
const FLOOR_MS = 200;

const log = (line: string) => process.stderr.write(`${line}\n`);
const loadAverage = (l: number[]) => l.map((x) => x.toFixed(2)).join(', ');
interface LatencyRow {
  name: string;
  n: number;
  p50: number;
  p95: number;
  max: number;
  statuses: string;
}

/** Completed sessions of the cohort, one per plan, in a fixed order: each is marked a no-show once. */
async function sessionsToChange(db: pg.Client, count: number): Promise<string[]> {
  const rows = await db.query(
    `SELECT id FROM (SELECT DISTINCT ON (plan_id) id, plan_id FROM sessions WHERE status = 'completed' ORDER BY plan_id, starts_at DESC) s
      ORDER BY plan_id DESC LIMIT $1`,
    [count],
  );
  return rows.rows.map((r) => r.id as string);
}

/**
 * The report read right after a write to its cohort (one completed session marked a no-show, so
 * that one plan's facts change): every read computes the aggregates from the facts, as the first
 * read after any change does. Sequential, one connection; warm-up reads first (the JIT), then up to
 * AFTER_WRITES.amount reads within AFTER_WRITES.seconds.
 */
async function afterWrites(
  name: string,
  target: { base: string; path: string; headers: Record<string, string> },
  db: pg.Client,
): Promise<LatencyRow> {
  const sessions = await sessionsToChange(db, AFTER_WRITES.warmup + AFTER_WRITES.amount);
  const times: number[] = [];
  const statuses = new Map<number, number>();
  const started = performance.now();
  for (let i = 0; i < sessions.length && performance.now() - started < AFTER_WRITES.seconds * 1000; i++) {
    await db.query(
      `UPDATE sessions SET status = 'no_show', actual_start = NULL, actual_end = NULL, version = version + 1 WHERE id = $1`,
      [sessions[i]],
    );
    const t0 = performance.now();
    const res = await fetch(target.base + target.path, { headers: target.headers });
    await res.text();
    const ms = performance.now() - t0;
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    if (i >= AFTER_WRITES.warmup && res.ok) times.push(ms);
  }
  const row = {
    name,
    n: times.length,
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    max: Math.max(...times),
    statuses: [...statuses].map(([s, n]) => `${n} × ${s}`).join(', '),
  };
  log(`${name}: ${row.n}, p50 ${row.p50.toFixed(1)} ms, p95 ${row.p95.toFixed(1)} ms (${row.statuses})`);
  return row;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chairside-bench-outcomes-'));
  const cluster = await startEmbeddedPostgres(path.join(dir, 'pg'), { persistent: false });
  let service: RunningService | undefined;
  try {
    const url = withDatabase(cluster.adminUrl, 'bench_outcomes');
    await ensureDatabase(cluster.adminUrl, 'bench_outcomes');
    await runMigrations(url);
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    const started = performance.now();
    const data = await seedOutcomes(db).finally(() => db.end());
    log(
      `seeded ${PLANS} plans, ${data.sessions} sessions, ${data.observations} observations in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    service = await startService(url);
    const loadBefore = os.loadavg();
    const headers = { Authorization: `Bearer ${data.key}` };
    const measure = async (name: string, p: string, accept: string): Promise<LatencyRow> => {
      const h = { ...headers, Accept: accept };
      await run({
        base: service!.base,
        connections: 1,
        amount: LATENCY.warmup,
        maxSeconds: 30,
        headers: h,
        request: () => ({ path: p }),
      });
      const r = await run({
        base: service!.base,
        connections: 1,
        amount: LATENCY.amount,
        maxSeconds: LATENCY.seconds,
        headers: h,
        request: () => ({ path: p }),
      });
      const row = {
        name,
        n: r.ok.length,
        p50: percentile(r.ok, 50),
        p95: percentile(r.ok, 95),
        max: Math.max(...r.ok),
        statuses: statusSummary(r),
      };
      log(`${name}: ${row.n} × 200, p50 ${row.p50.toFixed(1)} ms, p95 ${row.p95.toFixed(1)} ms (${row.statuses})`);
      return row;
    };
    const report = `/v1/protocols/${data.protocolId}/outcomes?versions=1,2`;
    const rows = [
      await measure('outcomes, both versions (JSON), nothing written since the last read', report, 'application/json'),
      await measure('outcomes, both versions (CSV), nothing written since the last read', report, 'text/csv'),
      await measure(
        'outcomes, both versions (FHIR), nothing written since the last read',
        report,
        'application/fhir+json',
      ),
    ];
    const writer = new pg.Client({ connectionString: url });
    await writer.connect();
    try {
      for (const [format, accept] of [
        ['JSON', 'application/json'],
        ['CSV', 'text/csv'],
        ['FHIR', 'application/fhir+json'],
      ])
        rows.push(
          await afterWrites(
            `outcomes, both versions (${format}), a session of the cohort changed before each read`,
            { base: service.base, path: report, headers: { ...headers, Accept: accept } },
            writer,
          ),
        );
    } finally {
      await writer.end();
    }
    rows.push(await measure('operations by version and month (JSON)', '/v1/outcomes/operations', 'application/json'));
    const loadAfter = os.loadavg();
    const dbc = new pg.Client({ connectionString: url });
    await dbc.connect();
    let statements: StatementCost[];
    let writes: WriteCost[];
    const loadWrites = os.loadavg();
    try {
      statements = await statementCosts(dbc, data.protocolId);
      for (const s of statements)
        log(
          `${s.name}: backend CPU ${s.backendCpu.toFixed(0)} ms, wall ${s.wall.toFixed(0)} ms, Node CPU ${s.nodeCpu?.toFixed(0) ?? '–'} ms`,
        );
      writes = await writeCosts(dbc, data.protocolId);
      for (const w of writes)
        log(
          `${w.name}, ${w.mode}: p50 ${w.p50.toFixed(1)} ms, p95 ${w.p95.toFixed(1)} ms, backend CPU ${w.backendCpu.toFixed(2)} ms`,
        );
    } finally {
      await dbc.end();
    }
    const table = [
      `# Outcomes report benchmark (${DateTime.now().toUTC().toISODate()})`,
      '',
      `One clinic, ${PLANS.toLocaleString('en')} past plans on two protocol versions (${data.sessions.toLocaleString('en')} sessions, ${data.observations.toLocaleString('en')} observations);`,
      `the service as deployed, one connection over loopback. "Nothing written since the last read": ${LATENCY.warmup} warm-up requests then up to ${LATENCY.amount} (at most ${LATENCY.seconds} s), each answered from the aggregates the service kept, after checking the cohort's signature.`,
      `"A session of the cohort changed before each read": one completed session marked a no-show before each request (not timed), so every read computes the aggregates from the facts; ${AFTER_WRITES.warmup} warm-up reads, then up to ${AFTER_WRITES.amount} (at most ${AFTER_WRITES.seconds} s). Target: p95 under ${FLOOR_MS} ms.`,
      '',
      '| request | n | p50 | p95 | max | target |',
      '| --- | ---: | ---: | ---: | ---: | --- |',
      ...rows.map(
        (r) =>
          `| ${r.name} | ${r.n} | ${r.p50.toFixed(1)} ms | ${r.p95.toFixed(1)} ms | ${r.max.toFixed(1)} ms | ${r.p95 < FLOOR_MS ? 'met' : 'NOT met'} |`,
      ),
      '',
      // The machine is shared: the figures mean little without the load they were measured under.
      `Load average (1, 5, 15 min) on ${os.cpus().length} cores: ${loadAverage(loadBefore)} before the measurements, ${loadAverage(loadAfter)} after.`,
      '',
      `Each statement alone, on its own connection (median of ${STATEMENT_RUNS.measured} runs after ${STATEMENT_RUNS.warmup} warm-up runs): the CPU time of the PostgreSQL backend (from \`/proc\`, which hardly depends on the load), the wall time, and the Node CPU time to aggregate.`,
      '',
      '| statement | backend CPU | wall | Node CPU to aggregate |',
      '| --- | ---: | ---: | ---: |',
      ...statements.map(
        (r) =>
          `| ${r.name} | ${r.backendCpu.toFixed(0)} ms | ${r.wall.toFixed(0)} ms | ${r.nodeCpu === null ? '–' : `${r.nodeCpu.toFixed(0)} ms`} |`,
      ),
      '',
      `What the facts triggers add to a write: the same writes with and without them, ${WRITES.perMode} each, in ${WRITES.rounds} alternating rounds, each undone (wall time of the write's statements; backend CPU per write, the savepoint included).`,
      '',
      '| write | triggers | n | p50 | p95 | backend CPU per write |',
      '| --- | --- | ---: | ---: | ---: | ---: |',
      ...writes.map(
        (w) =>
          `| ${w.name} | ${w.mode} | ${w.n} | ${w.p50.toFixed(1)} ms | ${w.p95.toFixed(1)} ms | ${w.backendCpu.toFixed(2)} ms |`,
      ),
      '',
      `Load average during the statement and write measurements: ${loadAverage(loadWrites)} before, ${loadAverage(os.loadavg())} after.`,
      '',
    ].join('\n');
    process.stdout.write(table);
    // This table replaces the head of the results; the sections below it (## …, before/after notes) stay.
    const file = path.join(PROJECT_ROOT, 'bench', 'outcomes-results.md');
    const previous = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const kept = previous.indexOf('\n## ');
    writeFileSync(file, kept < 0 ? table : `${table}${previous.slice(kept)}`);
  } finally {
    await service?.stop();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith(path.join('bench', 'outcomes.js'))) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
