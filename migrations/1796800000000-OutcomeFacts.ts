import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Outcome facts: one row per plan holding what the outcomes and operations reports need of its
 * sessions, observations and adjustments, so that a report reads a few thousand small rows instead
 * of every session and observation of the cohort (docs/outcomes.md, Performance).
 *
 * The row is recomputed whole, from the plan's own rows, by `plan_outcome_facts_refresh` (one
 * statement for any set of plans of a clinic), called by statement-level triggers in the writing
 * transaction: sessions (inserted, deleted, or changed in a column a report reads), observations
 * (inserted), end-early adjustments (inserted), plans (status, version, protocol, patient, booking
 * time or tailoring changed) and clinics (time zone changed: gap days are local days).
 * Recomputing rather than adding keeps the rule in one place and every figure equal to the
 * reference; quantiles are computed at read time from these rows.
 *
 * Two writers of one plan at once: the refresh first locks the plan's facts row, then computes in a
 * later statement, whose snapshot (READ COMMITTED) already holds the other writer's committed
 * change; under REPEATABLE READ the lock on a row changed since the snapshot is a serialization
 * failure, which the writers retry. Only the refresh (SECURITY DEFINER, run as the tables' owner)
 * writes here: the service's role may read the table, not change it.
 */

/**
 * A JSON array of the group's rows, flat (row after row, \`columns\` each; null as null) and compact:
 * 5,000 of them are parsed at every report, and fewer, smaller arrays parse faster.
 */
const flat = (columns: string[], order: string) =>
  `('[' || coalesce(string_agg(${columns.map((c) => `coalesce(to_json(${c})::text, 'null')`).join(` || ',' || `)}, ',' ORDER BY ${order}), '') || ']')::json`;

/** The plans' facts computed from their rows: one row per plan of `p_plans` in the clinic. */
const COMPUTE = `
WITH tz AS (SELECT timezone AS tz FROM clinics WHERE id = p_clinic),
pl AS (
  SELECT p.id, p.protocol_id, p.protocol_version, p.patient_id, p.status, p.created_at, p.tailoring
    FROM plans p WHERE p.clinic_id = p_clinic AND p.id = ANY (p_plans)
),
-- Spacing targets per plan and repeating step: the template's, or the plan's tailored one.
spacing AS MATERIALIZED (
  SELECT pl.id AS plan_id, st->>'key' AS key, st->'spacing'->>'unit' AS unit,
         CASE WHEN jsonb_typeof(pl.tailoring->'steps'->(st->>'key')->'spacing'->'target') = 'number'
              THEN (pl.tailoring->'steps'->(st->>'key')->'spacing'->>'target')::float8
              ELSE (st->'spacing'->>'target')::float8 END AS target
    FROM pl
    JOIN protocol_versions v ON v.clinic_id = p_clinic AND v.protocol_id = pl.protocol_id AND v.version = pl.protocol_version
    CROSS JOIN jsonb_array_elements(v.steps) st
   WHERE jsonb_typeof(st->'spacing') = 'object'
),
s AS MATERIALIZED (
  SELECT s.* FROM sessions s WHERE s.clinic_id = p_clinic AND s.plan_id = ANY (p_plans)
),
per_plan AS (
  SELECT plan_id, min(starts_at) AS first_start,
         count(*) FILTER (WHERE status IN ('completed', 'no_show'))::int AS due,
         count(*) FILTER (WHERE status = 'no_show')::int AS missed,
         coalesce(sum(round(extract(epoch FROM occupied_until - starts_at) / 60))
                    FILTER (WHERE chair_id IS NOT NULL AND status = 'completed'), 0)::int AS chair_minutes
    FROM s GROUP BY plan_id
),
-- Sessions by kind and report status (scheduled and checked in are both 'open').
counts AS (
  SELECT plan_id, ${flat(['kind', 'bucket', 'n'], 'kind, bucket')} AS counts
    FROM (SELECT plan_id, kind,
                 CASE WHEN status = 'cancelled' AND status_reason LIKE 'skipped:%' THEN 'skipped'
                      WHEN status = 'cancelled' AND status_reason LIKE 'plan ended early:%' THEN 'ended'
                      WHEN status IN ('scheduled', 'checked_in') THEN 'open'
                      ELSE status END AS bucket,
                 count(*)::int AS n
            FROM s GROUP BY 1, 2, 3) g
   GROUP BY plan_id
),
-- The completed sessions the statistics look into: infusions, and occurrences of steps that repeat.
done AS MATERIALIZED (
  SELECT s.id, s.plan_id, s.kind, s.step_key, s.starts_at, s.planned_dose, s.dose_given,
         ((coalesce(s.actual_start, s.starts_at) AT TIME ZONE tz.tz)::date - DATE '1970-01-01') AS day,
         floor(extract(epoch FROM coalesce(s.actual_start, s.starts_at)) / 60)::bigint AS start_min,
         floor(extract(epoch FROM coalesce(s.actual_end, s.ends_at)) / 60)::bigint AS end_min
    FROM s
    CROSS JOIN tz
    -- Step keys are unique within a version: at most one spacing per session.
    LEFT JOIN spacing sp ON sp.plan_id = s.plan_id AND sp.key = s.step_key
   WHERE s.status = 'completed' AND (s.kind = 'infusion' OR sp.key IS NOT NULL)
),
obs AS MATERIALIZED (
  SELECT o.session_id, o.recorded_at, o.id, o.craving, o.cows, o.phq9, o.gad7, o.adverse_events
    FROM session_observations o
    JOIN done d ON d.id = o.session_id AND d.kind = 'infusion'
   WHERE o.clinic_id = p_clinic AND o.plan_id = ANY (p_plans)
),
-- Each infusion's latest value of each score (a correction is a later observation).
latest AS (
  SELECT session_id,
         (array_agg(craving ORDER BY recorded_at DESC, id) FILTER (WHERE craving IS NOT NULL))[1]::float8 AS craving,
         (array_agg(cows ORDER BY recorded_at DESC, id) FILTER (WHERE cows IS NOT NULL))[1]::float8 AS cows,
         (array_agg(phq9 ORDER BY recorded_at DESC, id) FILTER (WHERE phq9 IS NOT NULL))[1]::float8 AS phq9,
         (array_agg(gad7 ORDER BY recorded_at DESC, id) FILTER (WHERE gad7 IS NOT NULL))[1]::float8 AS gad7
    FROM obs GROUP BY session_id
),
-- The plan's 1st, 2nd, … infusion received, its dose (amounts compared in one unit) and scores.
inf AS (
  SELECT i.plan_id, i.idx, x.unit,
         CASE WHEN x.pa IS NOT NULL AND x.pu IS NOT NULL THEN x.pa END AS planned,
         CASE WHEN x.ga IS NOT NULL AND x.gu = x.unit THEN x.ga END AS given,
         l.craving, l.cows, l.phq9, l.gad7
    FROM (SELECT d.id, d.plan_id, d.planned_dose, d.dose_given,
                 row_number() OVER (PARTITION BY d.plan_id ORDER BY d.start_min, d.starts_at, d.id) AS idx
            FROM done d WHERE d.kind = 'infusion') i
    CROSS JOIN LATERAL (SELECT (i.planned_dose->>'amount')::float8 AS pa, i.planned_dose->>'unit' AS pu,
                               (i.dose_given->>'amount')::float8 AS ga, i.dose_given->>'unit' AS gu) x0
    CROSS JOIN LATERAL (SELECT x0.*, CASE WHEN x0.pa IS NOT NULL AND x0.pu IS NOT NULL THEN x0.pu
                                          WHEN x0.ga IS NOT NULL AND x0.gu IS NOT NULL THEN x0.gu END AS unit) x
    LEFT JOIN latest l ON l.session_id = i.id
),
infusions AS (
  SELECT plan_id, ${flat(['unit', 'planned', 'given', 'craving', 'cows', 'phq9', 'gad7'], 'idx')} AS infusions
    FROM inf GROUP BY plan_id
),
-- Each completed occurrence of a repeating step: |gap to the previous completed one − target|, in days.
gaps AS (
  SELECT plan_id, ${flat(['step_key', 'kind', 'dev'], 'step_key, start_min, starts_at, id')} AS gaps
    FROM (SELECT d.plan_id, d.step_key, d.kind, d.start_min, d.starts_at, d.id,
                 abs(CASE WHEN sp.unit = 'days' THEN (d.day - lag(d.day) OVER w)::float8 - sp.target
                          ELSE (d.start_min - lag(d.end_min) OVER w)::float8 / 1440 - sp.target / 24 END) AS dev
            FROM done d
            JOIN spacing sp ON sp.plan_id = d.plan_id AND sp.key = d.step_key
          WINDOW w AS (PARTITION BY d.plan_id, d.step_key ORDER BY d.start_min, d.starts_at, d.id)) g
   WHERE dev IS NOT NULL
   GROUP BY plan_id
),
-- Distinct (term, severity) per completed infusion.
adverse AS (
  SELECT plan_id, ${flat(['term', 'severity'], 'term, severity')} AS adverse
    FROM (SELECT DISTINCT d.plan_id, o.session_id, lower(btrim(e.value->>'term')) AS term, e.value->>'severity' AS severity
            FROM obs o
            JOIN done d ON d.id = o.session_id
            CROSS JOIN LATERAL jsonb_array_elements(o.adverse_events) e) a
   GROUP BY plan_id
)
SELECT pl.id AS plan_id, pl.protocol_id, pl.protocol_version, pl.patient_id, pl.status, pl.created_at AS booked_at,
       pp.first_start, coalesce(pp.due, 0) AS due, coalesce(pp.missed, 0) AS missed, coalesce(pp.chair_minutes, 0) AS chair_minutes,
       ('{"r":' || coalesce(to_json((SELECT a.reason FROM plan_adjustments a
                                      WHERE a.clinic_id = p_clinic AND a.plan_id = pl.id AND a.type = 'cancel_remaining'
                                      ORDER BY a.plan_version DESC LIMIT 1))::text, 'null')
        || ',"c":' || coalesce(c.counts::text, '[]') || ',"i":' || coalesce(i.infusions::text, '[]')
        || ',"g":' || coalesce(g.gaps::text, '[]') || ',"a":' || coalesce(a.adverse::text, '[]') || '}')::json AS doc
  FROM pl
  LEFT JOIN per_plan pp ON pp.plan_id = pl.id
  LEFT JOIN counts c ON c.plan_id = pl.id
  LEFT JOIN infusions i ON i.plan_id = pl.id
  LEFT JOIN gaps g ON g.plan_id = pl.id
  LEFT JOIN adverse a ON a.plan_id = pl.id`;

const COLUMNS = [
  'protocol_id',
  'protocol_version',
  'patient_id',
  'status',
  'booked_at',
  'first_start',
  'due',
  'missed',
  'chair_minutes',
  'doc',
];

/** The session columns some report reads: a change of any other (a revision, a staff member) refreshes nothing. */
const SESSION_COLUMNS = [
  'plan_id',
  'kind',
  'step_key',
  'status',
  'status_reason',
  'starts_at',
  'ends_at',
  'occupied_until',
  'actual_start',
  'actual_end',
  'planned_dose',
  'dose_given',
];

export class OutcomeFacts1796800000000 implements MigrationInterface {
  name = 'OutcomeFacts1796800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE plan_outcome_facts (
        clinic_id        uuid NOT NULL,
        plan_id          uuid NOT NULL,
        -- Copied from the plan, so that a report reads this table alone.
        protocol_id      uuid,
        protocol_version integer,
        patient_id       uuid,
        status           text,
        booked_at        timestamptz,
        -- The plan's first session (planned start); null while it has none.
        first_start      timestamptz,
        -- Sessions due (completed or no-show), no-shows, chair minutes (to the end of recovery) of the completed ones.
        due              integer NOT NULL DEFAULT 0,
        missed           integer NOT NULL DEFAULT 0,
        chair_minutes    integer NOT NULL DEFAULT 0,
        -- The rest, as one JSON text (copied out as is; shape: OutcomeFactsDoc in src/outcomes/domain/cohort.ts):
        -- r: the latest end-early reason; c: [kind, report status, n] per kind and status; i: per
        -- completed infusion in order of start, [dose unit, planned, given, craving, cows, phq9, gad7]
        -- (each score the latest recorded); g: per completed occurrence of a repeating step after
        -- its first, [step, kind, |gap - target| in days]; a: [term, severity], distinct per infusion.
        doc              json NOT NULL DEFAULT '{}',
        PRIMARY KEY (clinic_id, plan_id),
        FOREIGN KEY (clinic_id, plan_id) REFERENCES plans (clinic_id, id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX plan_outcome_facts_start_idx ON plan_outcome_facts (clinic_id, first_start)`);
    // Only the refresh writes here (as the owner); the service reads.
    await q.query(`REVOKE INSERT, UPDATE, DELETE ON plan_outcome_facts FROM chairside_runtime`);

    await q.query(`
      CREATE FUNCTION plan_outcome_facts_refresh(p_clinic uuid, p_plans uuid[]) RETURNS void
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
      -- Floats written as the shortest text that reads back to the same value, whatever the session says.
      SET extra_float_digits = 1
      -- Rows written by the same statement have no statistics yet: a nested loop chosen on such
      -- estimates can run for minutes over a few thousand rows; hash and merge joins cannot.
      SET enable_nestloop = off
      -- Planned once per connection, not at every write (a custom plan of this statement costs more than running it).
      SET plan_cache_mode = force_generic_plan AS $fn$
      BEGIN
        IF p_plans IS NULL OR cardinality(p_plans) = 0 THEN RETURN; END IF;
        -- Lock the rows first (in one order), then compute in a statement of its own: its snapshot
        -- holds what a concurrent writer of the same plan committed before the lock was granted.
        INSERT INTO plan_outcome_facts (clinic_id, plan_id)
        SELECT p_clinic, p.id FROM plans p WHERE p.clinic_id = p_clinic AND p.id = ANY (p_plans) ORDER BY p.id
        ON CONFLICT DO NOTHING;
        PERFORM 1 FROM plan_outcome_facts f
          WHERE f.clinic_id = p_clinic AND f.plan_id = ANY (p_plans) ORDER BY f.plan_id FOR UPDATE;
        -- Computed once (a CTE), never rescanned per row of the join.
        WITH x AS MATERIALIZED (${COMPUTE})
        UPDATE plan_outcome_facts f
           SET ${COLUMNS.map((c) => `${c} = x.${c}`).join(', ')}
          FROM x
         WHERE f.clinic_id = p_clinic AND f.plan_id = x.plan_id;
      END $fn$`);

    // Sessions: one refresh per statement and clinic, of the plans whose rows a report reads changed.
    await q.query(`
      CREATE FUNCTION plan_outcome_facts_on_sessions() RETURNS trigger
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
      DECLARE r record;
      BEGIN
        IF TG_OP = 'INSERT' THEN
          FOR r IN SELECT clinic_id, array_agg(DISTINCT plan_id) AS plans FROM new_rows GROUP BY clinic_id LOOP
            PERFORM plan_outcome_facts_refresh(r.clinic_id, r.plans);
          END LOOP;
        ELSIF TG_OP = 'DELETE' THEN
          FOR r IN SELECT clinic_id, array_agg(DISTINCT plan_id) AS plans FROM old_rows GROUP BY clinic_id LOOP
            PERFORM plan_outcome_facts_refresh(r.clinic_id, r.plans);
          END LOOP;
        ELSE
          FOR r IN
            SELECT x.clinic_id, array_agg(DISTINCT x.plan_id) AS plans
              FROM (SELECT n.clinic_id, unnest(ARRAY[n.plan_id, o.plan_id]) AS plan_id
                      FROM new_rows n JOIN old_rows o ON o.clinic_id = n.clinic_id AND o.id = n.id
                     WHERE (${SESSION_COLUMNS.map((c) => `n.${c}`).join(', ')}, n.chair_id IS NULL)
                           IS DISTINCT FROM (${SESSION_COLUMNS.map((c) => `o.${c}`).join(', ')}, o.chair_id IS NULL)) x
             GROUP BY x.clinic_id
          LOOP
            PERFORM plan_outcome_facts_refresh(r.clinic_id, r.plans);
          END LOOP;
        END IF;
        RETURN NULL;
      END $fn$`);
    await q.query(`
      CREATE TRIGGER sessions_outcome_facts_insert AFTER INSERT ON sessions
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION plan_outcome_facts_on_sessions()`);
    await q.query(`
      CREATE TRIGGER sessions_outcome_facts_update AFTER UPDATE ON sessions
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION plan_outcome_facts_on_sessions()`);
    await q.query(`
      CREATE TRIGGER sessions_outcome_facts_delete AFTER DELETE ON sessions
      REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION plan_outcome_facts_on_sessions()`);

    // Observations (append-only), end-early adjustments (append-only), plans, clinics.
    await q.query(`
      CREATE FUNCTION plan_outcome_facts_on_rows() RETURNS trigger
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
      DECLARE r record;
      BEGIN
        IF TG_TABLE_NAME = 'session_observations' THEN
          FOR r IN SELECT clinic_id, array_agg(DISTINCT plan_id) AS plans FROM new_rows GROUP BY clinic_id LOOP
            PERFORM plan_outcome_facts_refresh(r.clinic_id, r.plans);
          END LOOP;
        ELSIF TG_TABLE_NAME = 'plan_adjustments' THEN
          FOR r IN SELECT clinic_id, array_agg(DISTINCT plan_id) AS plans FROM new_rows
                    WHERE type = 'cancel_remaining' GROUP BY clinic_id LOOP
            PERFORM plan_outcome_facts_refresh(r.clinic_id, r.plans);
          END LOOP;
        ELSIF TG_TABLE_NAME = 'plans' THEN
          FOR r IN SELECT n.clinic_id, array_agg(n.id) AS plans
                     FROM new_rows n JOIN old_rows o ON o.clinic_id = n.clinic_id AND o.id = n.id
                    WHERE (n.protocol_id, n.protocol_version, n.patient_id, n.status, n.created_at, n.tailoring)
                          IS DISTINCT FROM (o.protocol_id, o.protocol_version, o.patient_id, o.status, o.created_at, o.tailoring)
                    GROUP BY n.clinic_id LOOP
            PERFORM plan_outcome_facts_refresh(r.clinic_id, r.plans);
          END LOOP;
        ELSE
          FOR r IN SELECT n.id AS clinic_id, (SELECT array_agg(p.id) FROM plans p WHERE p.clinic_id = n.id) AS plans
                     FROM new_rows n JOIN old_rows o ON o.id = n.id
                    WHERE n.timezone IS DISTINCT FROM o.timezone LOOP
            PERFORM plan_outcome_facts_refresh(r.clinic_id, r.plans);
          END LOOP;
        END IF;
        RETURN NULL;
      END $fn$`);
    await q.query(`
      CREATE TRIGGER session_observations_outcome_facts AFTER INSERT ON session_observations
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION plan_outcome_facts_on_rows()`);
    await q.query(`
      CREATE TRIGGER plan_adjustments_outcome_facts AFTER INSERT ON plan_adjustments
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION plan_outcome_facts_on_rows()`);
    await q.query(`
      CREATE TRIGGER plans_outcome_facts AFTER UPDATE ON plans
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION plan_outcome_facts_on_rows()`);
    await q.query(`
      CREATE TRIGGER clinics_outcome_facts AFTER UPDATE ON clinics
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION plan_outcome_facts_on_rows()`);

    // The plans that existed before: their facts, clinic by clinic.
    await q.query(`
      SELECT plan_outcome_facts_refresh(clinic_id, array_agg(id)) FROM plans GROUP BY clinic_id`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER clinics_outcome_facts ON clinics`);
    await q.query(`DROP TRIGGER plans_outcome_facts ON plans`);
    await q.query(`DROP TRIGGER plan_adjustments_outcome_facts ON plan_adjustments`);
    await q.query(`DROP TRIGGER session_observations_outcome_facts ON session_observations`);
    await q.query(`DROP TRIGGER sessions_outcome_facts_delete ON sessions`);
    await q.query(`DROP TRIGGER sessions_outcome_facts_update ON sessions`);
    await q.query(`DROP TRIGGER sessions_outcome_facts_insert ON sessions`);
    await q.query(`DROP FUNCTION plan_outcome_facts_on_rows`);
    await q.query(`DROP FUNCTION plan_outcome_facts_on_sessions`);
    await q.query(`DROP FUNCTION plan_outcome_facts_refresh`);
    await q.query(`DROP TABLE plan_outcome_facts`);
  }
}
