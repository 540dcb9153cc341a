import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ProtocolStep } from '../protocols/domain/protocol-step.js';
import type { AggregateRow, OperationsAggregate } from './domain/aggregates.js';
import { SUPPRESSION_THRESHOLD, type SummaryAggregate } from './domain/stats.js';

/** Reads for the outcomes report: a protocol with its versions, and the report's figures aggregated by PostgreSQL. */

export interface ProtocolHead {
  clinicId: string;
  id: string;
  name: string;
  timezone: string;
  versions: { version: number; steps: ProtocolStep[]; publishedAt: Date }[];
}

/*
 * The outcomes report aggregated in PostgreSQL: one statement, a few hundred rows whatever the
 * number of plans (AggregateRow says what each section holds); TypeScript only rounds, suppresses
 * and orders. The cohort is the plans whose first session starts in the period (local dates in the
 * clinic's zone). Patients are numbered (dense_rank) so that counting distinct ones sorts integers.
 * Skips and end-early cancellations are told apart by the reason the adjustment wrote on the
 * session ("skipped: …", "plan ended early: …"); infusion n numbers a plan's completed infusions by start.
 */
const QUANTILES = 'ARRAY[0.25, 0.5, 0.75, 0.9]';
/**
 * The summary of x (a float8 expression) over the group, as one float8[]: n, distinct patients, the
 * sum taken in ascending order (as `summarize` adds), min, max, then the type-7 quantiles at .25,
 * .5, .75 and .9 (`percentile_cont` interpolates exactly as `quantileSorted`).
 */
const stats = (x: string) =>
  `(ARRAY[count(${x}), count(DISTINCT pno) FILTER (WHERE ${x} IS NOT NULL), sum(${x} ORDER BY ${x}), min(${x}), max(${x})]::float8[] || percentile_cont(${QUANTILES}) WITHIN GROUP (ORDER BY ${x}))`;
const M = ['craving', 'cows', 'phq9', 'gad7'];
/** One output row, every section in the same shape. */
const row = (
  sec: string,
  version: string,
  k1: string,
  k2: string,
  x: {
    n?: string;
    patients?: string;
    s?: string;
    hits?: string;
    hitPatients?: string;
    missPatients?: string;
    ids?: string;
  } = {},
) =>
  `${sec}::text AS sec, ${version} AS version, ${k1}::text AS k1, ${k2}::text AS k2, ${x.n ?? 'NULL'}::int AS n, ${x.patients ?? 'NULL'}::int AS patients, ${x.s ?? 'NULL'}::float8[] AS s, ${x.hits ?? 'NULL'}::int AS hits, ${x.hitPatients ?? 'NULL'}::int AS hit_patients, ${x.missPatients ?? 'NULL'}::int AS miss_patients, ${x.ids ?? 'NULL'}::text[] AS patient_ids`;

const AGGREGATES_SQL = `
WITH tz AS (SELECT timezone AS tz FROM clinics WHERE id = $1),
cohort AS MATERIALIZED (
  SELECT p.id, p.protocol_version AS version, p.patient_id, p.status, p.tailoring,
         dense_rank() OVER (ORDER BY p.patient_id) AS pno
    FROM plans p
    CROSS JOIN tz
    CROSS JOIN LATERAL (SELECT min(s.starts_at) AS first_start FROM sessions s WHERE s.clinic_id = p.clinic_id AND s.plan_id = p.id) f
   WHERE p.clinic_id = $1 AND p.protocol_id = $2 AND p.protocol_version = ANY ($3::int[])
     AND f.first_start >= ($4::date::timestamp AT TIME ZONE tz.tz)
     AND f.first_start < (($5::date + 1)::timestamp AT TIME ZONE tz.tz)
),
spacing AS MATERIALIZED (
  SELECT v.version, st->>'key' AS key, (st->'spacing'->>'target')::float8 AS target, st->'spacing'->>'unit' AS unit
    FROM protocol_versions v
    CROSS JOIN jsonb_array_elements(v.steps) st
   WHERE v.clinic_id = $1 AND v.protocol_id = $2 AND v.version = ANY ($3::int[])
     AND jsonb_typeof(st->'spacing') = 'object'
),
-- Sessions by kind and status: counted per plan before the join, then per patient, then per cell (hash
-- aggregations rather than a sorting count(DISTINCT)).
buckets AS (
  SELECT c.version, g.kind, c.pno, g.bucket, sum(g.n) AS n
    FROM (SELECT s.plan_id, s.kind,
                 CASE WHEN s.status = 'cancelled' AND s.status_reason LIKE 'skipped:%' THEN 'skipped'
                      WHEN s.status = 'cancelled' AND s.status_reason LIKE 'plan ended early:%' THEN 'ended'
                      WHEN s.status IN ('scheduled', 'checked_in') THEN 'open'
                      ELSE s.status END AS bucket,
                 count(*) AS n
            FROM sessions s
           WHERE s.clinic_id = $1 AND s.plan_id IN (SELECT id FROM cohort)
           GROUP BY 1, 2, 3) g
    JOIN cohort c ON c.id = g.plan_id
   GROUP BY 1, 2, 3, 4
),
-- The completed sessions the statistics look into: infusions, and occurrences of steps that repeat.
done AS MATERIALIZED (
  SELECT s.id, s.plan_id, c.version, c.pno, s.kind, s.step_key, s.starts_at, s.planned_dose, s.dose_given,
         ((coalesce(s.actual_start, s.starts_at) AT TIME ZONE tz.tz)::date - DATE '1970-01-01') AS day,
         floor(extract(epoch FROM coalesce(s.actual_start, s.starts_at)) / 60)::bigint AS start_min,
         floor(extract(epoch FROM coalesce(s.actual_end, s.ends_at)) / 60)::bigint AS end_min
    FROM cohort c
    CROSS JOIN tz
    JOIN sessions s ON s.clinic_id = $1 AND s.plan_id = c.id
   WHERE s.status = 'completed'
     AND (s.kind = 'infusion' OR (c.version, s.step_key) IN (SELECT version, key FROM spacing))
),
-- The observations of those infusions, read once: their latest scores, and their adverse events.
obs AS MATERIALIZED (
  SELECT o.session_id, o.recorded_at, o.id, o.craving, o.cows, o.phq9, o.gad7, o.adverse_events, d.version, d.pno
    FROM session_observations o
    JOIN done d ON d.id = o.session_id AND d.kind = 'infusion'
   WHERE o.clinic_id = $1
),
-- Each session's latest value of each score (a correction is a later observation).
latest AS (
  SELECT session_id,
         (array_agg(craving ORDER BY recorded_at DESC, id) FILTER (WHERE craving IS NOT NULL))[1]::float8 AS craving,
         (array_agg(cows ORDER BY recorded_at DESC, id) FILTER (WHERE cows IS NOT NULL))[1]::float8 AS cows,
         (array_agg(phq9 ORDER BY recorded_at DESC, id) FILTER (WHERE phq9 IS NOT NULL))[1]::float8 AS phq9,
         (array_agg(gad7 ORDER BY recorded_at DESC, id) FILTER (WHERE gad7 IS NOT NULL))[1]::float8 AS gad7
    FROM obs
   GROUP BY session_id
),
-- The patient's 1st, 2nd, … infusion received (a skipped or missed one takes no number), its dose and scores.
inf AS MATERIALIZED (
  SELECT i.*, x.unit,
         CASE WHEN x.pa IS NOT NULL AND x.pu IS NOT NULL THEN x.pa END AS planned,
         CASE WHEN x.ga IS NOT NULL AND x.gu = x.unit THEN x.ga END AS given,
         l.craving, l.cows, l.phq9, l.gad7
    FROM (SELECT d.id, d.plan_id, d.version, d.pno, d.planned_dose, d.dose_given,
                 row_number() OVER (PARTITION BY d.plan_id ORDER BY d.start_min, d.starts_at, d.id) AS idx
            FROM done d WHERE d.kind = 'infusion') i
    CROSS JOIN LATERAL (SELECT (i.planned_dose->>'amount')::float8 AS pa, i.planned_dose->>'unit' AS pu,
                               (i.dose_given->>'amount')::float8 AS ga, i.dose_given->>'unit' AS gu) x0
    CROSS JOIN LATERAL (SELECT x0.*, CASE WHEN x0.pa IS NOT NULL AND x0.pu IS NOT NULL THEN x0.pu
                                          WHEN x0.ga IS NOT NULL AND x0.gu IS NOT NULL THEN x0.gu END AS unit) x
    LEFT JOIN latest l ON l.session_id = i.id
),
-- Per plan and measure, the scores in order of infusion: last − first, and whether craving halved.
series AS MATERIALIZED (
  SELECT version, pno, ${M.map((m) => `array_agg(${m} ORDER BY idx) FILTER (WHERE ${m} IS NOT NULL) AS ${m}`).join(', ')}
    FROM inf GROUP BY plan_id, version, pno
),
changes AS (
  SELECT version, pno, ${M.map((m) => `CASE WHEN cardinality(${m}) >= 2 THEN ${m}[cardinality(${m})] - ${m}[1] END AS ${m}`).join(', ')},
         CASE WHEN cardinality(craving) >= 2 AND craving[1] > 0 THEN craving[cardinality(craving)] <= craving[1] / 2 END AS halved
    FROM series
),
gaps AS (
  SELECT d.version, d.pno, d.step_key, d.kind,
         abs(CASE WHEN sp.unit = 'days' THEN (d.day - lag(d.day) OVER w)::float8 - t.target
                  ELSE (d.start_min - lag(d.end_min) OVER w)::float8 / 1440 - t.target / 24 END) AS dev
    FROM done d
    JOIN spacing sp ON sp.version = d.version AND sp.key = d.step_key
    JOIN cohort c ON c.id = d.plan_id
    CROSS JOIN LATERAL (SELECT CASE WHEN jsonb_typeof(c.tailoring->'steps'->d.step_key->'spacing'->'target') = 'number'
                                    THEN (c.tailoring->'steps'->d.step_key->'spacing'->>'target')::float8 ELSE sp.target END AS target) t
  WINDOW w AS (PARTITION BY d.plan_id, d.step_key ORDER BY d.start_min, d.starts_at, d.id)
),
-- Distinct (term, severity) per infusion.
adverse AS MATERIALIZED (
  SELECT DISTINCT o.session_id, o.version, o.pno, lower(btrim(e.value->>'term')) AS term, e.value->>'severity' AS severity
    FROM obs o
    CROSS JOIN LATERAL jsonb_array_elements(o.adverse_events) e
),
adverse_terms AS MATERIALIZED (
  SELECT version, term, severity, sum(n)::int AS n, count(*)::int AS patients
    FROM (SELECT version, term, severity, pno, count(*) AS n FROM adverse GROUP BY 1, 2, 3, 4) a
   GROUP BY 1, 2, 3
)
SELECT ${row("'plans'", 'version', 'status', 'NULL', { n: 'count(*)', patients: 'count(DISTINCT pno)' })}
  FROM cohort GROUP BY GROUPING SETS ((version, status), (version))
UNION ALL
SELECT ${row("'reason'", 'version', 'reason', 'NULL', { n: 'count(*)', patients: 'count(DISTINCT pno)', ids: 'array_agg(DISTINCT pno::text)' })}
  FROM (SELECT c.version, c.pno,
               (SELECT a.reason FROM plan_adjustments a
                 WHERE a.clinic_id = $1 AND a.plan_id = c.id AND a.type = 'cancel_remaining' ORDER BY a.plan_version DESC LIMIT 1) AS reason
          FROM cohort c WHERE c.status = 'ended_early') e
 GROUP BY version, reason
UNION ALL
SELECT ${row("'sessions'", 'version', 'kind', 'bucket', { n: 'sum(n)', patients: 'count(*)' })}
  FROM buckets GROUP BY version, kind, bucket
UNION ALL
SELECT ${row("'infusions'", 'version', 'idx', 'NULL', { n: 'count(*)' })}
  FROM inf GROUP BY version, idx
UNION ALL
SELECT ${row("'observation'", 'a.version', 'a.idx', 'm.measure', { s: 'm.s' })}
  FROM (SELECT version, idx, ${M.map((m) => `${stats(m)} AS ${m}`).join(', ')} FROM inf GROUP BY version, idx) a
  CROSS JOIN LATERAL (VALUES ${M.map((m) => `('${m}', a.${m})`).join(', ')}) m (measure, s)
UNION ALL
SELECT ${row("'dose.' || w.which", 'a.version', "coalesce(a.idx::text, 'all')", 'a.unit', { s: 'w.s' })}
  FROM (SELECT version, unit, idx, ${stats('planned')} AS planned, ${stats('given')} AS given
          FROM inf WHERE unit <> '' GROUP BY GROUPING SETS ((version, unit, idx), (version, unit))) a
  CROSS JOIN LATERAL (VALUES ('planned', a.planned), ('given', a.given)) w (which, s)
UNION ALL
SELECT ${row("'change'", 'a.version', 'm.measure', 'NULL', { s: 'm.s' })}
  FROM (SELECT version, ${M.map((m) => `${stats(m)} AS ${m}`).join(', ')} FROM changes GROUP BY version) a
  CROSS JOIN LATERAL (VALUES ${M.map((m) => `('${m}', a.${m})`).join(', ')}) m (measure, s)
UNION ALL
SELECT ${row("'halved'", 'version', 'NULL', 'NULL', {
  n: 'count(halved)',
  patients: 'count(DISTINCT pno) FILTER (WHERE halved IS NOT NULL)',
  hits: 'count(*) FILTER (WHERE halved)',
  hitPatients: 'count(DISTINCT pno) FILTER (WHERE halved)',
  missPatients: 'count(DISTINCT pno) FILTER (WHERE NOT halved)',
})}
  FROM changes GROUP BY version
UNION ALL
SELECT ${row("'adherence'", 'version', 'step_key', 'min(kind)', { s: stats('dev') })}
  FROM gaps WHERE dev IS NOT NULL GROUP BY version, step_key
UNION ALL
SELECT ${row("'adverse'", 'version', 'term', 'severity', { n: 'n', patients: 'patients' })} FROM adverse_terms
UNION ALL
SELECT ${row("'adverse.other'", 'a.version', 'NULL', 'NULL', { n: 'count(*)', patients: 'count(DISTINCT a.pno)' })}
  FROM adverse a
  JOIN adverse_terms t ON t.version = a.version AND t.term IS NOT DISTINCT FROM a.term AND t.severity IS NOT DISTINCT FROM a.severity
 WHERE t.patients < $6
 GROUP BY a.version`;

/* The clinic's operations by protocol, version and month of the first session (then the whole period), aggregated the same way. */
const OPERATIONS_SQL = `
WITH tz AS (SELECT timezone AS tz FROM clinics WHERE id = $1),
per_plan AS (
  SELECT p.protocol_id, p.protocol_version AS version, p.patient_id, p.status,
         to_char(f.first_start AT TIME ZONE tz.tz, 'YYYY-MM') AS month,
         ((f.first_start AT TIME ZONE tz.tz)::date - (p.created_at AT TIME ZONE tz.tz)::date)::float8 AS days,
         s.due, s.missed, (s.chair::float8 / 60) AS chair_hours
    FROM plans p
    CROSS JOIN tz
    CROSS JOIN LATERAL (SELECT min(s.starts_at) AS first_start FROM sessions s WHERE s.clinic_id = p.clinic_id AND s.plan_id = p.id) f
    CROSS JOIN LATERAL (
      SELECT count(*) FILTER (WHERE s.status IN ('completed', 'no_show')) AS due,
             count(*) FILTER (WHERE s.status = 'no_show') AS missed,
             coalesce(sum(round(extract(epoch FROM s.occupied_until - s.starts_at) / 60)) FILTER (WHERE s.chair_id IS NOT NULL AND s.status = 'completed'), 0) AS chair
        FROM sessions s WHERE s.clinic_id = p.clinic_id AND s.plan_id = p.id) s
   WHERE p.clinic_id = $1
     AND f.first_start >= ($2::date::timestamp AT TIME ZONE tz.tz)
     AND f.first_start < (($3::date + 1)::timestamp AT TIME ZONE tz.tz)
)
SELECT protocol_id, version, month,
       count(*)::int AS plans, count(DISTINCT patient_id)::int AS patients,
       sum(due)::int AS due, (count(DISTINCT patient_id) FILTER (WHERE due > 0))::int AS due_patients,
       sum(missed)::int AS missed, (count(DISTINCT patient_id) FILTER (WHERE missed > 0))::int AS missed_patients,
       (count(DISTINCT patient_id) FILTER (WHERE due > missed))::int AS attended_patients,
       (count(*) FILTER (WHERE status = 'completed'))::int AS chair_n,
       (count(DISTINCT patient_id) FILTER (WHERE status = 'completed'))::int AS chair_patients,
       sum(chair_hours ORDER BY chair_hours) FILTER (WHERE status = 'completed') AS chair_sum,
       percentile_cont(ARRAY[0.25, 0.5, 0.75, 0.9]) WITHIN GROUP (ORDER BY chair_hours) FILTER (WHERE status = 'completed') AS chair_q,
       min(chair_hours) FILTER (WHERE status = 'completed') AS chair_min,
       max(chair_hours) FILTER (WHERE status = 'completed') AS chair_max,
       count(*)::int AS days_n, count(DISTINCT patient_id)::int AS days_patients,
       sum(days ORDER BY days) AS days_sum,
       percentile_cont(ARRAY[0.25, 0.5, 0.75, 0.9]) WITHIN GROUP (ORDER BY days) AS days_q,
       min(days) AS days_min, max(days) AS days_max
  FROM per_plan
 GROUP BY GROUPING SETS ((protocol_id, version, month), (protocol_id, version))`;

type Row = Record<string, unknown>;
const summaryAggregate = (r: Row, p: string): SummaryAggregate => ({
  n: r[`${p}_n`] as number,
  patients: r[`${p}_patients`] as number,
  sum: (r[`${p}_sum`] as number | null) ?? 0,
  q: ((r[`${p}_q`] as number[] | null) ?? [0, 0, 0, 0]) as unknown as SummaryAggregate['q'],
  min: (r[`${p}_min`] as number | null) ?? 0,
  max: (r[`${p}_max`] as number | null) ?? 0,
});

@Injectable()
export class OutcomesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The protocol with its published versions, in the clinic (any clinic for null), or null. */
  async protocol(id: string, clinicId: string | null): Promise<ProtocolHead | null> {
    const rows: {
      clinic_id: string;
      id: string;
      name: string;
      timezone: string;
      versions: ProtocolHead['versions'] | null;
    }[] = await this.dataSource.query(
      `SELECT p.clinic_id, p.id, p.name, c.timezone,
              (SELECT json_agg(json_build_object('version', v.version, 'steps', v.steps, 'publishedAt', v.published_at) ORDER BY v.version)
                 FROM protocol_versions v WHERE v.clinic_id = p.clinic_id AND v.protocol_id = p.id) AS versions
         FROM protocols p JOIN clinics c ON c.id = p.clinic_id
        WHERE p.id = $1 ${clinicId === null ? '' : 'AND p.clinic_id = $2'}`,
      clinicId === null ? [id] : [id, clinicId],
    );
    const r = rows[0];
    return r
      ? {
          clinicId: r.clinic_id,
          id: r.id,
          name: r.name,
          timezone: r.timezone,
          versions: (r.versions ?? []).map((v) => ({ ...v, publishedAt: new Date(v.publishedAt) })),
        }
      : null;
  }

  /** The outcomes report's aggregates for some versions of a protocol, over plans that started in [from, to] (local dates). */
  async aggregates(
    clinicId: string,
    protocolId: string,
    versions: number[],
    from: string,
    to: string,
  ): Promise<AggregateRow[]> {
    const rows: Row[] = await this.dataSource.query(AGGREGATES_SQL, [
      clinicId,
      protocolId,
      versions,
      from,
      to,
      SUPPRESSION_THRESHOLD,
    ]);
    return rows.map((r) => ({
      sec: r.sec as string,
      version: r.version as number,
      k1: r.k1 as string | null,
      k2: r.k2 as string | null,
      n: r.n as number | null,
      patients: r.patients as number | null,
      s: r.s as (number | null)[] | null,
      hits: r.hits as number | null,
      hitPatients: r.hit_patients as number | null,
      missPatients: r.miss_patients as number | null,
      patientIds: r.patient_ids as string[] | null,
    }));
  }

  /** The clinic's operations, aggregated by protocol, version and month (month null: the whole period). */
  async operations(clinicId: string, from: string, to: string): Promise<OperationsAggregate[]> {
    const rows: Row[] = await this.dataSource.query(OPERATIONS_SQL, [clinicId, from, to]);
    return rows.map((r) => ({
      protocolId: r.protocol_id as string,
      version: r.version as number,
      month: r.month as string | null,
      plans: r.plans as number,
      patients: r.patients as number,
      due: r.due as number,
      duePatients: r.due_patients as number,
      missed: r.missed as number,
      missedPatients: r.missed_patients as number,
      attendedPatients: r.attended_patients as number,
      chair: summaryAggregate(r, 'chair'),
      days: summaryAggregate(r, 'days'),
    }));
  }

  /** The clinic's protocols (id and name), by name. */
  async protocolNames(clinicId: string): Promise<{ id: string; name: string }[]> {
    return this.dataSource.query(`SELECT id, name FROM protocols WHERE clinic_id = $1 ORDER BY name, id`, [clinicId]);
  }

  async timezone(clinicId: string): Promise<string | null> {
    const [row] = await this.dataSource.query(`SELECT timezone FROM clinics WHERE id = $1`, [clinicId]);
    return row?.timezone ?? null;
  }
}
