/**
 * What the outcomes reports cost, statement by statement (PostgreSQL backend CPU, wall, Node CPU to
 * aggregate), and what keeping their facts costs a write (with and without the facts triggers), for
 * `npm run bench:outcomes` (bench/outcomes.ts).
 */
import { readFileSync } from 'node:fs';
import { DateTime } from 'luxon';
import type pg from 'pg';
import { versionFromAggregates } from '../src/outcomes/domain/aggregates.js';
import { aggregateCohort, numberPatients } from '../src/outcomes/domain/cohort.js';
import { SUPPRESSION_THRESHOLD } from '../src/outcomes/domain/stats.js';
import { OutcomesRepository } from '../src/outcomes/outcomes.repository.js';
import { percentile } from './load.js';
import { ZONE } from './outcomes-seed.js';

/** Statement costs: warm-up runs, then runs of each statement; write costs: writes per mode (facts triggers on, off), in rounds. */
export const STATEMENT_RUNS = { warmup: 10, measured: 15 };
export const WRITES = { perMode: 200, rounds: 4 };
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

/** CPU time (user + system, ms) of a PostgreSQL backend so far, from /proc (Linux). */
function backendCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * (1000 / 100);
}
const nodeCpuMs = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};
export const median = (xs: number[]) => percentile(xs, 50);

export interface StatementCost {
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
export async function statementCosts(db: pg.Client, protocolId: string): Promise<StatementCost[]> {
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
  const cohort = { clinicId, protocolId, versions: [1, 2], from, to };
  // The months' signatures as a reader holds them: all of them, or all but the last (as after a write to it).
  const all = new Map((await repo.cohortMonths(cohort, new Map())).map((m) => [m.month, m]));
  const allButOne = new Map([...all].slice(0, -1));
  const measure = async (name: string, work: () => Promise<number | null>): Promise<StatementCost> => {
    const cpu: number[] = [];
    const wall: number[] = [];
    const node: number[] = [];
    // Warmed up first, as the service is (its JIT and plan caches).
    for (let i = 0; i < STATEMENT_RUNS.warmup; i++) await work();
    for (let i = 0; i < STATEMENT_RUNS.measured; i++) {
      const c0 = backendCpuMs(pid);
      const t0 = performance.now();
      const n = await work();
      wall.push(performance.now() - t0);
      cpu.push(backendCpuMs(pid) - c0);
      if (n !== null) node.push(n);
    }
    return {
      name,
      runs: STATEMENT_RUNS.measured,
      backendCpu: median(cpu),
      wall: median(wall),
      nodeCpu: node.length ? median(node) : null,
    };
  };
  return [
    await measure(
      "outcomes, first read: every month's facts (5,000 plans), parsed, then aggregated in Node",
      async () => {
        const months = await repo.cohortMonths(cohort, new Map());
        const plans = numberPatients(months.flatMap((m) => m.plans!));
        const u0 = process.cpuUsage();
        const rows = aggregateCohort(plans, SUPPRESSION_THRESHOLD);
        [1, 2].map((v) => versionFromAggregates(v, rows));
        return nodeCpuMs(u0);
      },
    ),
    await measure("outcomes, after a write: the months' signatures and one month's facts, parsed", async () => {
      await repo.cohortMonths(cohort, allButOne);
      return null;
    }),
    await measure("outcomes, nothing written: the months' signatures alone", async () => {
      await repo.cohortMonths(cohort, all);
      return null;
    }),
    await measure('operations: by version and month', async () => {
      await repo.operations(clinicId, from, to);
      return null;
    }),
  ];
}

export interface WriteCost {
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
export async function writeCosts(db: pg.Client, protocolId: string): Promise<WriteCost[]> {
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
