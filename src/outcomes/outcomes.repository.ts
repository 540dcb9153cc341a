import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ProtocolStep } from '../protocols/domain/protocol-step.js';
import type { OperationsAggregate } from './domain/aggregates.js';
import type { CohortPlan, OutcomeFactsDoc } from './domain/cohort.js';
import type { PlanStatus } from './domain/facts.js';
import type { SummaryAggregate } from './domain/stats.js';

/** Reads for the outcomes reports: a protocol with its versions, the cohort's outcome facts, the operations aggregated by PostgreSQL. */

export interface ProtocolHead {
  clinicId: string;
  id: string;
  name: string;
  timezone: string;
  versions: { version: number; steps: ProtocolStep[]; publishedAt: Date }[];
}

/*
 * The cohort of the outcomes report: the plans of some versions of a protocol whose first session
 * starts in the period (local dates in the clinic's zone), each as its outcome facts — one small
 * row per plan that the database keeps in the writing transaction (migration OutcomeFacts) — so
 * that the report reads a few thousand rows, not every session and observation.
 *
 * The cohort is read by month of the first session (local; the period's first and last months cut
 * to it, and named with the cut, e.g. \`2025-12 from 2025-12-04\`), each month with its signature: the
 * number of rows and the sum of a 64-bit hash of each row's plan id and `xmin` (the transaction
 * that wrote that version of the row). Every refresh writes a new row version, so any change to a
 * month's facts — a row changed, added or gone — changes its signature. The caller names the
 * months it holds with their signatures; the statement returns every month's signature and the
 * facts of the months whose signature differs, all in one snapshot. A month's facts are returned as
 * the stored JSON text, joined into one array (one JSON.parse, no float formatting).
 */
const COHORT_OF = `plan_outcome_facts f
 WHERE f.clinic_id = $1 AND f.protocol_id = $2 AND f.protocol_version = ANY ($3::int[])`;
const COHORT_SQL = `
WITH tz AS (SELECT timezone AS tz FROM clinics WHERE id = $1),
-- The period's months, as instants in the clinic's zone; the first and last cut to the period, and
-- named with their cut (a month's name says which plans it holds, whatever the period).
b AS (
  SELECT to_char(m, 'YYYY-MM')
         || CASE WHEN m < $4::date THEN ' from ' || to_char($4::date, 'YYYY-MM-DD') ELSE '' END
         || CASE WHEN m + interval '1 month' > $5::date + 1 THEN ' to ' || to_char($5::date, 'YYYY-MM-DD') ELSE '' END AS month,
         greatest(m AT TIME ZONE tz.tz, $4::date::timestamp AT TIME ZONE tz.tz) AS lo,
         least((m + interval '1 month') AT TIME ZONE tz.tz, ($5::date + 1)::timestamp AT TIME ZONE tz.tz) AS hi
    FROM tz, generate_series(date_trunc('month', $4::date::timestamp), $5::date::timestamp, interval '1 month') m
),
s AS (
  SELECT b.month, b.lo, b.hi, x.signature
    FROM b
    CROSS JOIN LATERAL (
      SELECT count(*) AS n, count(*) || ':' || coalesce(sum(hashtextextended(f.plan_id::text || ':' || f.xmin::text, 0)), 0) AS signature
        FROM ${COHORT_OF} AND f.first_start >= b.lo AND f.first_start < b.hi) x
   WHERE x.n > 0
)
SELECT s.month, s.signature,
       CASE WHEN k.month IS NULL THEN (
         SELECT '[' || string_agg('[' || to_json(f.patient_id)::text || ',' || f.protocol_version || ',' || to_json(f.status)::text || ',' || f.doc::text || ']', ',') || ']'
           FROM ${COHORT_OF} AND f.first_start >= s.lo AND f.first_start < s.hi) END AS plans
  FROM s
  LEFT JOIN unnest($6::text[], $7::text[]) k(month, signature) ON k.month = s.month AND k.signature = s.signature
 ORDER BY s.month`;

/* The clinic's operations by protocol, version and month of the first session (then the whole period), aggregated the same way. */
const OPERATIONS_SQL = `
WITH tz AS (SELECT timezone AS tz FROM clinics WHERE id = $1),
per_plan AS (
  SELECT f.protocol_id, f.protocol_version AS version, f.patient_id, f.status,
         to_char(f.first_start AT TIME ZONE tz.tz, 'YYYY-MM') AS month,
         ((f.first_start AT TIME ZONE tz.tz)::date - (f.booked_at AT TIME ZONE tz.tz)::date)::float8 AS days,
         f.due, f.missed, (f.chair_minutes::float8 / 60) AS chair_hours
    FROM plan_outcome_facts f
    CROSS JOIN tz
   WHERE f.clinic_id = $1
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

/** The cohort of an outcomes report: some versions of a protocol, plans whose first session falls in [from, to] (local dates). */
export interface CohortQuery {
  clinicId: string;
  protocolId: string;
  versions: number[];
  from: string;
  to: string;
}

/** One month of a cohort (plans by the local month of their first session), as `cohortMonths` reads it. */
export interface CohortMonth {
  month: string;
  signature: string;
  /** The month's plans (patients by their id), or null when the caller's signature still holds. */
  plans: CohortPlan<string>[] | null;
}

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

  /**
   * The cohort by month of the first session: each month's signature, and the facts of the months
   * not in `known` with the same signature (null for those that are), read in one snapshot.
   */
  async cohortMonths(q: CohortQuery, known: ReadonlyMap<string, { signature: string }>): Promise<CohortMonth[]> {
    const rows: { month: string; signature: string; plans: string | null }[] = await this.dataSource.query(COHORT_SQL, [
      q.clinicId,
      q.protocolId,
      q.versions,
      q.from,
      q.to,
      [...known.keys()],
      [...known.values()].map((m) => m.signature),
    ]);
    return rows.map((r) => ({
      month: r.month,
      signature: r.signature,
      plans:
        r.plans === null
          ? null
          : (JSON.parse(r.plans) as [string, number, PlanStatus, OutcomeFactsDoc][]).map(
              ([patient, version, status, facts]) => ({ patient, version, status, facts }),
            ),
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
