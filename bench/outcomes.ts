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
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import pg from 'pg';
import { hashKey } from '../src/api-keys/api-keys.service.js';
import { runMigrations } from '../src/database/database-bootstrap.js';
import { ensureDatabase, startEmbeddedPostgres, withDatabase } from '../src/database/embedded-postgres.js';
import { versionFromAggregates } from '../src/outcomes/domain/aggregates.js';
import { aggregateCohort } from '../src/outcomes/domain/cohort.js';
import { SUPPRESSION_THRESHOLD } from '../src/outcomes/domain/stats.js';
import { OutcomesRepository } from '../src/outcomes/outcomes.repository.js';
import { KETAMINE_PROTOCOL, KETAMINE_PROTOCOL_V2 } from '../src/seed/demo-protocol.js';
import { insertHistory, type Queryable } from '../src/seed/history-writer.js';
import { generateHistory } from '../src/seed/outcome-history.js';
import { percentile, run, statusSummary } from './load.js';
import { PROJECT_ROOT, startService, type RunningService } from './service.js';

const PLANS = 5_000;
const BATCH = 250;
const ZONE = 'America/New_York';
const LATENCY = { amount: 200, seconds: 30, warmup: 10 };
const FLOOR_MS = 200;

/** Statement costs: runs of each statement; write costs: writes per mode (facts triggers on, off), in rounds. */
const STATEMENT_RUNS = 15;
const WRITES = { perMode: 200, rounds: 4 };
/** The triggers that keep plan_outcome_facts (migration OutcomeFacts). */
const FACT_TRIGGERS = [
  ['sessions', 'sessions_outcome_facts_insert'],
  ['sessions', 'sessions_outcome_facts_update'],
  ['sessions', 'sessions_outcome_facts_delete'],
  ['session_observations', 'session_observations_outcome_facts'],
  ['plan_adjustments', 'plan_adjustments_outcome_facts'],
  ['plans', 'plans_outcome_facts'],
  ['clinics', 'clinics_outcome_facts'],
] as const;

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

/** CPU time (user + system, ms) of a PostgreSQL backend so far, from /proc (Linux). */
function backendCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * (1000 / 100);
}
const nodeCpuMs = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]) => percentile(xs, 50);

interface StatementCost {
  name: string;
  runs: number;
  backendCpu: number;
  wall: number;
  nodeCpu: number | null;
}

/**
 * Each statement of the reports alone, on its own connection: the PostgreSQL backend's CPU time
 * (which hardly depends on the machine's load), the wall time, and for the outcomes report the
 * Node CPU time to aggregate the cohort. Medians of STATEMENT_RUNS runs, after warm-up runs.
 */
async function statementCosts(db: pg.Client, protocolId: string): Promise<StatementCost[]> {
  const [{ clinic_id: clinicId }] = (await db.query('SELECT clinic_id FROM protocols WHERE id = $1', [protocolId]))
    .rows;
  const [{ pid }] = (await db.query('SELECT pg_backend_pid() AS pid')).rows;
  const repo = new OutcomesRepository({
    query: async (sql: string, params?: unknown[]) => (await db.query(sql, params)).rows,
  } as never);
  const { from, to } = {
    from: DateTime.now().setZone(ZONE).minus({ years: 1 }).plus({ days: 1 }).toISODate()!,
    to: DateTime.now().setZone(ZONE).toISODate()!,
  };
  const measure = async (name: string, work: () => Promise<number | null>): Promise<StatementCost> => {
    const cpu: number[] = [];
    const wall: number[] = [];
    const node: number[] = [];
    // Warmed up first, as the service is (its JIT and plan caches).
    for (let i = 0; i < LATENCY.warmup; i++) await work();
    for (let i = 0; i < STATEMENT_RUNS; i++) {
      const c0 = backendCpuMs(pid);
      const t0 = performance.now();
      const n = await work();
      wall.push(performance.now() - t0);
      cpu.push(backendCpuMs(pid) - c0);
      if (n !== null) node.push(n);
    }
    return {
      name,
      runs: STATEMENT_RUNS,
      backendCpu: median(cpu),
      wall: median(wall),
      nodeCpu: node.length ? median(node) : null,
    };
  };
  return [
    await measure("outcomes: the cohort's facts (5,000 rows), then parsed and aggregated in Node", async () => {
      const plans = await repo.cohort(clinicId, protocolId, [1, 2], from, to);
      const u0 = process.cpuUsage();
      const rows = aggregateCohort(plans, SUPPRESSION_THRESHOLD);
      [1, 2].map((v) => versionFromAggregates(v, rows));
      return nodeCpuMs(u0);
    }),
    await measure('operations: by version and month', async () => {
      await repo.operations(clinicId, from, to);
      return null;
    }),
  ];
}

interface WriteCost {
  name: string;
  mode: 'facts triggers on' | 'facts triggers off';
  n: number;
  p50: number;
  p95: number;
  backendCpu: number;
}

/**
 * What keeping the facts costs a write: the same writes with the facts triggers and without them
 * (dropped inside the measuring transaction), in alternating rounds; every write is undone (a
 * savepoint rolled back) and the whole transaction rolled back at the end, so the data stays as seeded.
 * A booking: one plan and its 15 sessions (a copy of a seeded plan, moved 3,000 days on); a status
 * change: one completed session marked a no-show.
 */
async function writeCosts(db: pg.Client, protocolId: string): Promise<WriteCost[]> {
  const [{ clinic_id: clinicId }] = (await db.query('SELECT clinic_id FROM protocols WHERE id = $1', [protocolId]))
    .rows;
  const [{ pid }] = (await db.query('SELECT pg_backend_pid() AS pid')).rows;
  const plans: string[] = (
    await db.query(`SELECT id FROM plans WHERE clinic_id = $1 ORDER BY id LIMIT $2`, [clinicId, WRITES.perMode])
  ).rows.map((r) => r.id);
  const sessions: string[] = (
    await db.query(
      `SELECT DISTINCT ON (plan_id) id FROM sessions WHERE clinic_id = $1 AND status = 'completed' AND plan_id = ANY ($2::uuid[]) ORDER BY plan_id, starts_at`,
      [clinicId, plans],
    )
  ).rows.map((r) => r.id);
  const writes = {
    'booking (a plan and its 15 sessions)': async (i: number) => {
      const [{ id }] = (
        await db.query(
          `INSERT INTO plans (clinic_id, patient_id, protocol_id, protocol_version, tailoring, earliest_start, status, created_at)
           SELECT clinic_id, patient_id, protocol_id, protocol_version, tailoring, earliest_start + 3000, 'completed', now()
             FROM plans WHERE clinic_id = $1 AND id = $2 RETURNING id`,
          [clinicId, plans[i]],
        )
      ).rows;
      await db.query(
        `INSERT INTO sessions (clinic_id, plan_id, patient_id, ref, step_key, occurrence, kind, label, starts_at, ends_at, occupied_until, planned_dose)
         SELECT clinic_id, $3, patient_id, ref, step_key, occurrence, kind, label, starts_at + interval '3000 days',
                ends_at + interval '3000 days', occupied_until + interval '3000 days', planned_dose
           FROM sessions WHERE clinic_id = $1 AND plan_id = $2`,
        [clinicId, plans[i], id],
      );
    },
    'session status change (completed → no-show)': async (i: number) => {
      await db.query(
        `UPDATE sessions SET status = 'no_show', actual_start = NULL, actual_end = NULL, version = version + 1 WHERE clinic_id = $1 AND id = $2`,
        [clinicId, sessions[i % sessions.length]],
      );
    },
  };
  const out: WriteCost[] = [];
  for (const [name, write] of Object.entries(writes)) {
    const times = { on: [] as number[], off: [] as number[] };
    const cpu = { on: 0, off: 0 };
    const perRound = WRITES.perMode / (WRITES.rounds / 2);
    for (let round = 0; round < WRITES.rounds; round++) {
      const mode = round % 2 === 0 ? 'on' : 'off';
      await db.query('BEGIN');
      try {
        if (mode === 'off')
          for (const [table, trigger] of FACT_TRIGGERS) await db.query(`DROP TRIGGER ${trigger} ON ${table}`);
        const c0 = backendCpuMs(pid);
        for (let k = 0; k < perRound; k++) {
          const i = (round >> 1) * perRound + k;
          await db.query('SAVEPOINT w');
          const t0 = performance.now();
          await write(i);
          times[mode].push(performance.now() - t0);
          await db.query('ROLLBACK TO SAVEPOINT w');
        }
        cpu[mode] += backendCpuMs(pid) - c0;
      } finally {
        await db.query('ROLLBACK');
      }
    }
    for (const mode of ['on', 'off'] as const)
      out.push({
        name,
        mode: `facts triggers ${mode}`,
        n: times[mode].length,
        p50: median(times[mode]),
        p95: percentile(times[mode], 95),
        backendCpu: cpu[mode] / times[mode].length,
      });
  }
  return out;
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
      `Load average (1, 5, 15 min) on ${os.cpus().length} cores: ${loadAverage(loadBefore)} before the measurements, ${loadAverage(loadAfter)} after.`,
      '',
      `Each statement alone, on its own connection (median of ${STATEMENT_RUNS} runs after ${LATENCY.warmup} warm-up runs): the CPU time of the PostgreSQL backend (from \`/proc\`, which hardly depends on the load), the wall time, and the Node CPU time to aggregate.`,
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
