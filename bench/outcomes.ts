/**
 * `npm run bench:outcomes`: the outcomes report over 5,000 plans, measured as deployed.
 *
 * A throwaway embedded PostgreSQL with one clinic: the ketamine protocol (versions 1 and 2) and
 * 5,000 past series (2,500 per version, one patient each, 75,000 sessions and 21,085
 * observations, first sessions spread over the last year) written by the demo history generator.
 * The service (`node dist/src/main.js`) then answers `GET /v1/protocols/{id}/outcomes` for both
 * versions over loopback, one connection, after a warm-up; also as CSV and as FHIR, and the clinic's
 * operations. Bounded by request count and seconds. Prints a table and writes bench/outcomes-results.md.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import pg from 'pg';
import { hashKey } from '../src/api-keys/api-keys.service.js';
import { runMigrations } from '../src/database/database-bootstrap.js';
import { ensureDatabase, startEmbeddedPostgres, withDatabase } from '../src/database/embedded-postgres.js';
import { KETAMINE_PROTOCOL, KETAMINE_PROTOCOL_V2 } from '../src/seed/demo-protocol.js';
import { generateHistory, insertHistory, type Queryable } from '../src/seed/outcome-history.js';
import { percentile, run, statusSummary } from './load.js';
import { PROJECT_ROOT, startService, type RunningService } from './service.js';

const PLANS = 5_000;
const BATCH = 250;
const ZONE = 'America/New_York';
const LATENCY = { amount: 200, seconds: 30, warmup: 10 };
const FLOOR_MS = 200;

const log = (line: string) => process.stderr.write(`${line}\n`);
const loadAverage = (l: number[]) => l.map((x) => x.toFixed(2)).join(', ');

export async function seedOutcomes(
  db: pg.Client,
): Promise<{ protocolId: string; key: string; sessions: number; observations: number }> {
  const q: Queryable = { query: async (sql, params) => (await db.query(sql, params as unknown[])).rows };
  const [clinic] = await q.query(
    `INSERT INTO clinics (name, timezone, opening_hours, version) VALUES ('Outcomes bench', $1, '[]', 1) RETURNING id`,
    [ZONE],
  );
  const key = `cs_bench_${randomBytes(16).toString('hex')}`;
  await q.query(
    `INSERT INTO api_keys (clinic_id, name, role, key_prefix, key_hash) VALUES ($1, 'bench clinician', 'clinician', $2, $3)`,
    [clinic.id, key.slice(0, 12), hashKey(key)],
  );
  const [protocol] = await q.query(
    `INSERT INTO protocols (clinic_id, name, indication, description, draft_steps, draft_revision, latest_version, draft_updated_at)
     VALUES ($1, $2, $3, $4, $5, 1, 2, now()) RETURNING id`,
    [
      clinic.id,
      KETAMINE_PROTOCOL.name,
      KETAMINE_PROTOCOL.indication,
      KETAMINE_PROTOCOL.description,
      JSON.stringify(KETAMINE_PROTOCOL_V2.steps),
    ],
  );
  for (const [v, steps] of [
    [1, KETAMINE_PROTOCOL.steps],
    [2, KETAMINE_PROTOCOL_V2.steps],
  ] as const) {
    await q.query(
      `INSERT INTO protocol_versions (clinic_id, protocol_id, version, name, indication, description, steps, published_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now() - interval '400 days')`,
      [
        clinic.id,
        protocol.id,
        v,
        KETAMINE_PROTOCOL.name,
        KETAMINE_PROTOCOL.indication,
        KETAMINE_PROTOCOL.description,
        JSON.stringify(steps),
      ],
    );
  }
  const patients: { id: string }[] = await q.query(
    `INSERT INTO patients (clinic_id, full_name, date_of_birth, weight_kg, weight_confirmed_at, unavailable, unavailable_dates, preferred_times, version)
     SELECT $1, 'Bench patient ' || i, '1980-01-01', 60 + i % 40, now(), '[]', '[]', '[]', 1 FROM generate_series(1, $2::int) i ORDER BY i RETURNING id`,
    [clinic.id, PLANS],
  );
  // First sessions spread over the year before today (every series is over before today).
  const today = DateTime.now().setZone(ZONE).startOf('day');
  const plans = generateHistory({
    timezone: ZONE,
    protocolId: protocol.id,
    steps: { 1: KETAMINE_PROTOCOL.steps, 2: KETAMINE_PROTOCOL_V2.steps },
    plans: patients.map((p, k) => ({
      patientId: p.id,
      version: (k % 2) + 1,
      weightKg: 60 + (k % 40),
      firstDate: today.minus({ days: 364 - Math.floor((k * 290) / PLANS) }).toISODate()!,
    })),
    chairs: null,
    profile: {
      1: { cravingFallPerInfusion: 0.8, endedEarlyEvery: 3 },
      2: { cravingFallPerInfusion: 1.2, endedEarlyEvery: 4 },
    },
    endReason: 'Stopped attending',
    seed: 7,
  });
  for (let i = 0; i < plans.length; i += BATCH) await insertHistory(q, clinic.id, plans.slice(i, i + BATCH));
  // As a database in service would be (autovacuum): statistics and visibility map up to date.
  await q.query('VACUUM ANALYZE');
  const [counts] = await q.query(
    `SELECT (SELECT count(*) FROM sessions)::int AS sessions, (SELECT count(*) FROM session_observations)::int AS observations`,
  );
  return { protocolId: protocol.id, key, ...counts };
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
    const measure = async (name: string, p: string, accept: string) => {
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
      await measure('outcomes, both versions (JSON)', report, 'application/json'),
      await measure('outcomes, both versions (CSV)', report, 'text/csv'),
      await measure('outcomes, both versions (FHIR)', report, 'application/fhir+json'),
      await measure('operations by version and month (JSON)', '/v1/outcomes/operations', 'application/json'),
    ];
    const table = [
      `# Outcomes report benchmark (${DateTime.now().toUTC().toISODate()})`,
      '',
      `One clinic, ${PLANS.toLocaleString('en')} past plans on two protocol versions (${data.sessions.toLocaleString('en')} sessions, ${data.observations.toLocaleString('en')} observations);`,
      `the service as deployed, one connection over loopback, ${LATENCY.warmup} warm-up requests then up to ${LATENCY.amount} (at most ${LATENCY.seconds} s). Target: p95 under ${FLOOR_MS} ms.`,
      '',
      '| request | n | p50 | p95 | max | target |',
      '| --- | ---: | ---: | ---: | ---: | --- |',
      ...rows.map(
        (r) =>
          `| ${r.name} | ${r.n} | ${r.p50.toFixed(1)} ms | ${r.p95.toFixed(1)} ms | ${r.max.toFixed(1)} ms | ${r.p95 < FLOOR_MS ? 'met' : 'NOT met'} |`,
      ),
      '',
      // The machine is shared: the figures mean little without the load they were measured under.
      `Load average (1, 5, 15 min) on ${os.cpus().length} cores: ${loadAverage(loadBefore)} before the measurements, ${loadAverage(os.loadavg())} after.`,
      '',
    ].join('\n');
    process.stdout.write(table);
    writeFileSync(path.join(PROJECT_ROOT, 'bench', 'outcomes-results.md'), table);
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
