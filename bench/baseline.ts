/**
 * The database's own booking rate: the very series the API booked, inserted again by plain SQL
 * through `pg` into a twin clinic (seeded with the same layout), one transaction per series — the
 * plan row, then its sessions in one multi-row INSERT — under the same constraints and triggers.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { SeededClinic } from './seed.js';

export interface PreparedSeries {
  plan: unknown[];
  sessionsSql: string;
  sessions: unknown[];
}

const SESSION_COLUMNS = [
  'clinic_id',
  'plan_id',
  'patient_id',
  'ref',
  'step_key',
  'occurrence',
  'kind',
  'label',
  'starts_at',
  'ends_at',
  'occupied_until',
  'chair_id',
  'staff_id',
  'staff_seat',
  'planned_dose',
] as const;

/** The series of `planIds` (in that order) from `source`, moved onto the same positions in `twin`. */
export async function prepareSeries(
  db: pg.Client,
  source: SeededClinic,
  twin: SeededClinic,
  planIds: string[],
): Promise<PreparedSeries[]> {
  if (planIds.length === 0) return [];
  const index = (ids: string[], to: string[]) => {
    const m = new Map(ids.map((id, i) => [id, to[i]]));
    return (id: string | null) => {
      if (id === null) return null;
      const mapped = m.get(id);
      if (!mapped) throw new Error(`bench baseline: ${id} has no twin`);
      return mapped;
    };
  };
  const chair = index(source.chairIds, twin.chairIds);
  const staff = index(source.staffIds, twin.staffIds);
  const patient = index(source.patientIds, twin.patientIds);

  const plans = (
    await db.query(
      `SELECT id, patient_id, protocol_version, tailoring::text AS tailoring, earliest_start::text AS earliest_start
         FROM plans WHERE clinic_id = $1 AND id = ANY($2::uuid[])`,
      [source.id, planIds],
    )
  ).rows;
  const sessions = (
    await db.query(
      `SELECT plan_id, ref, step_key, occurrence, kind, label, starts_at, ends_at, occupied_until, chair_id, staff_id, staff_seat,
              planned_dose::text AS planned_dose
         FROM sessions WHERE clinic_id = $1 AND plan_id = ANY($2::uuid[]) ORDER BY plan_id, starts_at, ref`,
      [source.id, planIds],
    )
  ).rows;
  const byPlan = new Map<string, typeof sessions>();
  for (const s of sessions) byPlan.set(s.plan_id, [...(byPlan.get(s.plan_id) ?? []), s]);
  const planById = new Map(plans.map((p) => [p.id as string, p]));

  return planIds.map((id) => {
    const p = planById.get(id);
    if (!p) throw new Error(`bench baseline: plan ${id} not found`);
    const newId = randomUUID();
    const patientId = patient(p.patient_id);
    const rows = byPlan.get(id) ?? [];
    const values: unknown[] = [];
    const tuples = rows.map((s, r) => {
      values.push(
        twin.id,
        newId,
        patientId,
        s.ref,
        s.step_key,
        s.occurrence,
        s.kind,
        s.label,
        s.starts_at,
        s.ends_at,
        s.occupied_until,
        chair(s.chair_id),
        staff(s.staff_id),
        s.staff_seat,
        s.planned_dose,
      );
      return `(${SESSION_COLUMNS.map((_, c) => `$${r * SESSION_COLUMNS.length + c + 1}`).join(', ')})`;
    });
    return {
      plan: [twin.id, newId, patientId, twin.protocolId, p.protocol_version, p.tailoring, p.earliest_start],
      sessionsSql: `INSERT INTO sessions (${SESSION_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`,
      sessions: values,
    };
  });
}

export interface BaselineRun {
  series: number;
  failures: number;
  firstError?: string;
  seconds: number;
  latencies: number[];
}

/** Inserts the series, one transaction each, from `clients` connections working through one queue. */
export async function insertSeries(url: string, series: PreparedSeries[], clients: number): Promise<BaselineRun> {
  const conns = await Promise.all(
    Array.from({ length: clients }, async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      return c;
    }),
  );
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  let firstError: string | undefined;
  const started = performance.now();
  try {
    await Promise.all(
      conns.map(async (c) => {
        while (next < series.length) {
          const s = series[next++];
          const t = performance.now();
          try {
            await c.query('BEGIN');
            await c.query(
              `INSERT INTO plans (clinic_id, id, patient_id, protocol_id, protocol_version, tailoring, earliest_start) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
              s.plan,
            );
            await c.query(s.sessionsSql, s.sessions);
            await c.query('COMMIT');
            latencies.push(performance.now() - t);
          } catch (err) {
            await c.query('ROLLBACK').catch(() => undefined);
            failures++;
            firstError ??= (err as Error).message;
          }
        }
      }),
    );
  } finally {
    await Promise.all(conns.map((c) => c.end()));
  }
  return { series: latencies.length, failures, firstError, seconds: (performance.now() - started) / 1000, latencies };
}
