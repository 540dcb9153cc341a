import type { DataSource } from 'typeorm';
import type { DoseFact, PlanFact, PlanStatus, ReportStatus, SessionFact } from '../../src/outcomes/domain/facts.js';
import { spacingTargets, versionOutcomes } from '../../src/outcomes/domain/report.js';
import type { ProtocolHead } from '../../src/outcomes/outcomes.repository.js';

/**
 * The reference the aggregated outcomes statement is held to: the former reader of the report,
 * which fetched every plan of the cohort with its sessions (as compact JSON) so that the domain's
 * per-plan functions (`versionOutcomes`, `operations`) computed the figures in TypeScript. Slow
 * (seconds for 5,000 plans), simple, and checked against hand-computed figures; used by
 * test/api/outcomes-aggregates.spec.ts only.
 */

/** A plan as the statement returns it, before the steps' spacing targets are applied. */
export interface RawPlan extends Omit<PlanFact, 'spacing'> {
  protocolId: string;
  spacingOverrides: Record<string, number> | null;
}

type SessionTuple = [
  string,
  string,
  number,
  number,
  number,
  number | null,
  string | null,
  number | null,
  string | null,
  number | null,
  number | null,
  number | null,
  number | null,
  [string, string][] | null,
];
type CountTuple = [string, ReportStatus, number, number];
type PlanTuple = [
  string,
  number,
  string,
  PlanStatus,
  string | null,
  number,
  number,
  string,
  Record<string, number> | null,
  CountTuple[],
  SessionTuple[] | null,
];

const dose = (amount: number | null, unit: string | null): DoseFact | null =>
  amount === null || unit === null ? null : { amount, unit };

function toSession(t: SessionTuple): SessionFact {
  const scores: SessionFact['scores'] = {};
  if (t[9] !== null) scores.craving = t[9];
  if (t[10] !== null) scores.cows = t[10];
  if (t[11] !== null) scores.phq9 = t[11];
  if (t[12] !== null) scores.gad7 = t[12];
  return {
    stepKey: t[0],
    kind: t[1],
    status: 'completed',
    day: t[2],
    startMin: t[3],
    endMin: t[4],
    planned: dose(t[5], t[6]),
    given: dose(t[7], t[8]),
    scores,
    adverse: (t[13] ?? []).map(([term, severity]) => ({ term, severity })),
  };
}

/*
 * One statement: the cohort (plans whose first session starts in the period, local dates in the
 * clinic's zone), each plan's sessions in order with the latest value of each score and the
 * distinct adverse events of their observations, as one compact JSON array per plan (JSON decodes
 * far faster in Node than row-by-row values). Skips and end-early cancellations are told apart by
 * the reason the adjustment wrote on the session ("skipped: …", "plan ended early: …").
 */
const FACTS_SQL = `
WITH tz AS (SELECT timezone AS tz FROM clinics WHERE id = $1),
cohort AS MATERIALIZED (
  SELECT p.id, p.protocol_id, p.protocol_version, p.patient_id, p.status, p.created_at, p.tailoring, f.first_start
    FROM plans p
    CROSS JOIN tz
    CROSS JOIN LATERAL (SELECT min(s.starts_at) AS first_start FROM sessions s WHERE s.clinic_id = p.clinic_id AND s.plan_id = p.id) f
   WHERE p.clinic_id = $1
     AND ($2::uuid IS NULL OR p.protocol_id = $2)
     AND ($3::int[] IS NULL OR p.protocol_version = ANY ($3))
     AND f.first_start >= ($4::date::timestamp AT TIME ZONE tz.tz)
     AND f.first_start < (($5::date + 1)::timestamp AT TIME ZONE tz.tz)
),
obs AS MATERIALIZED (
  SELECT o.session_id,
         (array_agg(o.craving ORDER BY o.recorded_at DESC, o.id) FILTER (WHERE o.craving IS NOT NULL))[1] AS craving,
         (array_agg(o.cows ORDER BY o.recorded_at DESC, o.id) FILTER (WHERE o.cows IS NOT NULL))[1] AS cows,
         (array_agg(o.phq9 ORDER BY o.recorded_at DESC, o.id) FILTER (WHERE o.phq9 IS NOT NULL))[1] AS phq9,
         (array_agg(o.gad7 ORDER BY o.recorded_at DESC, o.id) FILTER (WHERE o.gad7 IS NOT NULL))[1] AS gad7,
         -- An observation with several adverse events appears once per event here; the latest
         -- score of the session is the same either way.
         json_agg(DISTINCT jsonb_build_array(lower(btrim(e.value->>'term')), e.value->>'severity')) FILTER (WHERE e.value IS NOT NULL) AS adverse
    FROM session_observations o
    LEFT JOIN LATERAL jsonb_array_elements(o.adverse_events) e ON true
   WHERE o.clinic_id = $1 AND o.plan_id IN (SELECT id FROM cohort) AND $7::boolean
   GROUP BY o.session_id
),
counts AS (
  SELECT g.plan_id, json_agg(json_build_array(g.kind, g.rstatus, g.n, g.chair)) AS counts
    FROM (SELECT s.plan_id, s.kind,
                 CASE WHEN s.status = 'cancelled' AND s.status_reason LIKE 'skipped:%' THEN 'skipped'
                      WHEN s.status = 'cancelled' AND s.status_reason LIKE 'plan ended early:%' THEN 'ended'
                      ELSE s.status END AS rstatus,
                 count(*)::int AS n,
                 coalesce(sum(round(extract(epoch FROM s.occupied_until - s.starts_at) / 60)) FILTER (WHERE s.chair_id IS NOT NULL), 0)::int AS chair
            FROM sessions s
           WHERE s.clinic_id = $1 AND s.plan_id IN (SELECT id FROM cohort)
           GROUP BY 1, 2, 3) g
   GROUP BY g.plan_id
),
-- The completed sessions the statistics look into: infusions, and the steps that repeat.
sess AS (
  SELECT s.plan_id,
         json_agg(json_build_array(
           s.step_key, s.kind,
           ((coalesce(s.actual_start, s.starts_at) AT TIME ZONE tz.tz)::date - DATE '1970-01-01'),
           floor(extract(epoch FROM coalesce(s.actual_start, s.starts_at)) / 60)::bigint,
           floor(extract(epoch FROM coalesce(s.actual_end, s.ends_at)) / 60)::bigint,
           (s.planned_dose->>'amount')::float8, s.planned_dose->>'unit',
           (s.dose_given->>'amount')::float8, s.dose_given->>'unit',
           obs.craving, obs.cows, obs.phq9, obs.gad7, obs.adverse
         ) ORDER BY s.starts_at) AS sessions
    FROM sessions s
    CROSS JOIN tz
    LEFT JOIN obs ON obs.session_id = s.id
   WHERE s.clinic_id = $1 AND s.plan_id IN (SELECT id FROM cohort) AND $7::boolean
     AND s.status = 'completed' AND (s.kind = 'infusion' OR s.step_key = ANY ($6::text[]))
   GROUP BY s.plan_id
)
SELECT json_build_array(
         c.protocol_id, c.protocol_version, c.patient_id, c.status,
         CASE WHEN c.status = 'ended_early' THEN
           (SELECT a.reason FROM plan_adjustments a
             WHERE a.clinic_id = $1 AND a.plan_id = c.id AND a.type = 'cancel_remaining' ORDER BY a.plan_version DESC LIMIT 1)
         END,
         ((c.created_at AT TIME ZONE tz.tz)::date - DATE '1970-01-01'),
         ((c.first_start AT TIME ZONE tz.tz)::date - DATE '1970-01-01'),
         to_char(c.first_start AT TIME ZONE tz.tz, 'YYYY-MM'),
         (SELECT jsonb_object_agg(e.key, (e.value->'spacing'->>'target')::numeric)
            FROM jsonb_each(CASE WHEN jsonb_typeof(c.tailoring->'steps') = 'object' THEN c.tailoring->'steps' ELSE '{}'::jsonb END) e
           WHERE jsonb_typeof(e.value->'spacing'->'target') = 'number'),
         counts.counts,
         sess.sessions
       ) AS plan
  FROM cohort c
  CROSS JOIN tz
  JOIN counts ON counts.plan_id = c.id
  LEFT JOIN sess ON sess.plan_id = c.id`;

/**
 * Plans of the clinic (of one protocol and some versions, when given) whose first session falls
 * within [from, to] (local dates), with their completed infusions and occurrences of the
 * `repeating` steps when `detail` (the operations need only the counts).
 */
export async function referencePlans(
  dataSource: DataSource,
  clinicId: string,
  protocolId: string | null,
  versions: number[] | null,
  from: string,
  to: string,
  repeating: string[],
  detail: boolean,
): Promise<RawPlan[]> {
  const rows: { plan: PlanTuple }[] = await dataSource.query(FACTS_SQL, [
    clinicId,
    protocolId,
    versions,
    from,
    to,
    repeating,
    detail,
  ]);
  return rows.map(({ plan: t }) => ({
    protocolId: t[0],
    version: t[1],
    patient: t[2],
    status: t[3],
    endReason: t[4],
    bookedDay: t[5],
    firstDay: t[6],
    month: t[7],
    spacingOverrides: t[8],
    statusCounts: t[9].map(([kind, status, n, chairMinutes]) => ({ kind, status, n, chairMinutes })),
    sessions: (t[10] ?? []).map(toSession),
  }));
}

/** The per-plan facts of a protocol's plans, with the spacing targets of their version (tailored or not). */
export function referenceFacts(head: ProtocolHead, raw: RawPlan[]): PlanFact[] {
  const steps = new Map(head.versions.map((v) => [v.version, v.steps]));
  return raw.map(({ protocolId: _p, spacingOverrides, ...p }) => ({
    ...p,
    spacing: spacingTargets(steps.get(p.version) ?? [], spacingOverrides),
  }));
}

/**
 * The reference report of versions 1 and 2 over a period, as the API would send it (through JSON),
 * and the per-plan facts it was computed from.
 */
export async function referenceVersions(
  db: DataSource,
  head: ProtocolHead,
  clinicId: string,
  protocolId: string,
  from: string,
  to: string,
): Promise<{ facts: PlanFact[]; versions: unknown }> {
  const raw = await referencePlans(db, clinicId, protocolId, [1, 2], from, to, ['infusion'], true);
  const facts = referenceFacts(head, raw);
  const versions = [1, 2].map((v) =>
    versionOutcomes(
      v,
      facts.filter((p) => p.version === v),
    ),
  );
  return { facts, versions: JSON.parse(JSON.stringify(versions)) };
}
