-- book-with-idempotency-key: 17 distinct statements (test/api/sql-snapshots.spec.ts)

COMMIT;

DELETE FROM idempotency_keys WHERE clinic_id = $1 AND key = $2 AND created_at <= $3;

INSERT INTO idempotency_keys (clinic_id, key, actor_key_id, method_path, request_hash, status_code, response, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8);

SELECT "p"."clinic_id" AS "p_clinic_id", "p"."id" AS "p_id", "p"."name" AS "p_name", "p"."indication" AS "p_indication", "p"."description" AS "p_description", "p"."draft_steps" AS "p_draft_steps", "p"."draft_revision" AS "p_draft_revision", "p"."draft_updated_at" AS "p_draft_updated_at", "p"."latest_version" AS "p_latest_version", "p"."created_at" AS "p_created_at" FROM "protocols" "p" WHERE "p"."id" = $1 AND "p"."clinic_id" = $2;

SELECT "v"."clinic_id" AS "v_clinic_id", "v"."protocol_id" AS "v_protocol_id", "v"."version" AS "v_version", "v"."name" AS "v_name", "v"."indication" AS "v_indication", "v"."description" AS "v_description", "v"."steps" AS "v_steps", "v"."published_at" AS "v_published_at", "v"."published_by" AS "v_published_by", "v"."retired_at" AS "v_retired_at" FROM "protocol_versions" "v" WHERE "v"."clinic_id" = $1 AND "v"."protocol_id" = $2 AND "v"."retired_at" IS NULL ORDER BY "v"."version" DESC LIMIT 1;

SELECT clinic_id, id, full_name, date_of_birth::text AS date_of_birth, email, phone, weight_kg::float8 AS weight_kg, notes, weight_confirmed_at, weight_confirmed_by, pending_weight_kg::float8 AS pending_weight_kg, pending_weight_at, pending_weight_by, unavailable, unavailable_dates, preferred_times, version, created_at, updated_at FROM patients WHERE clinic_id = $1 AND id = $2;

SELECT current_setting('lock_timeout') AS previous;

SELECT id FROM plans WHERE clinic_id = $1 AND patient_id = $2 AND protocol_id = $3 AND status = 'active' ORDER BY created_at, id LIMIT 1;

SELECT json_build_object('id', c.id, 'name', c.name, 'timezone', c.timezone, 'openingHours', c.opening_hours, 'maxStartsPerSlot', c.max_starts_per_slot, 'maxStartsPerNursePerSlot', c.max_starts_per_nurse_per_slot, 'levelling', c.levelling, 'version', c.version, 'createdAt', c.created_at, 'updatedAt', c.updated_at) AS clinic, (SELECT coalesce(json_agg(json_build_object('clinicId', x.clinic_id, 'id', x.id, 'name', x.name, 'active', x.active, 'createdAt', x.created_at, 'updatedAt', x.updated_at) ORDER BY x.name, x.id), '[]') FROM chairs x WHERE x.clinic_id = c.id AND x.active) AS chairs, (SELECT coalesce(json_agg(json_build_object('clinicId', x.clinic_id, 'id', x.id, 'name', x.name, 'role', x.role, 'availability', x.availability, 'maxConcurrentPatients', x.max_concurrent_patients, 'active', x.active, 'createdAt', x.created_at, 'updatedAt', x.updated_at) ORDER BY x.name, x.id), '[]') FROM staff_members x WHERE x.clinic_id = c.id AND x.active) AS staff, (SELECT coalesce(json_agg(json_build_object('clinicId', x.clinic_id, 'id', x.id, 'startDate', x.start_date, 'endDate', x.end_date, 'startTime', x.start_time, 'endTime', x.end_time, 'reason', x.reason, 'createdAt', x.created_at) ORDER BY x.start_date, x.id), '[]') FROM closures x WHERE x.clinic_id = c.id) AS closures FROM clinics c WHERE c.id = $1;

SELECT k.id, k.role, k.clinic_id, (SELECT array_agg(g.clinic_id ORDER BY g.clinic_id) FROM api_key_clinics g WHERE g.key_id = k.id) AS more FROM api_keys k WHERE k.key_hash = $1 AND k.revoked_at IS NULL;

SELECT pg_advisory_xact_lock(4409427, hashtext($1::uuid::text));

SELECT pg_advisory_xact_lock(hashtextextended($1, 0));

SELECT request_hash, status_code, response FROM idempotency_keys WHERE clinic_id = $1 AND key = $2 AND created_at > $3;

SELECT set_config('lock_timeout', $1, true);

START TRANSACTION;

WITH ch AS ( SELECT DISTINCT session_id FROM session_changes WHERE clinic_id = $1 AND txid >= pg_snapshot_xmin($2::pg_snapshot) AND NOT pg_visible_in_snapshot(txid, $2::pg_snapshot)) SELECT pg_current_snapshot()::text AS snap, pg_postmaster_start_time()::text AS server, pg_current_xact_id_if_assigned()::text AS own, (SELECT string_agg(session_id::text, ',') FROM ch) AS changed, (SELECT string_agg(concat_ws(',', s.id, (date_part('epoch', s.starts_at) / 60)::int, (date_part('epoch', s.occupied_until) / 60)::int, coalesce(s.chair_id::text, ''), coalesce(s.staff_id::text, ''), s.patient_id, coalesce(s.staff_seat, 0)), ';') FROM ch CROSS JOIN LATERAL (SELECT x.* FROM sessions x WHERE x.clinic_id = $1 AND x.id = ch.session_id OFFSET 0) s WHERE s.clinic_id = $1 AND s.starts_at >= to_timestamp($3::bigint * 60) - interval '1 day' AND s.starts_at < to_timestamp($4::bigint * 60) AND s.occupied_until > to_timestamp($3::bigint * 60) AND s.status IN ('scheduled', 'checked_in', 'completed')) AS packed;

WITH p AS ( INSERT INTO plans (clinic_id, patient_id, id, protocol_id, protocol_version, tailoring, earliest_start, created_by, concurrent_series) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 RETURNING id, status, version, created_at, updated_at), s AS ( INSERT INTO sessions (clinic_id, plan_id, patient_id, ref, step_key, occurrence, kind, label, starts_at, ends_at, occupied_until, chair_id, staff_id, staff_seat, planned_dose) SELECT $1, p.id, $2, u.ref, u.step_key, u.occurrence, u.kind, u.label, u.starts_at, u.ends_at, u.occupied_until, u.chair_id, u.staff_id, u.staff_seat, u.planned_dose FROM p, unnest($10::text[], $11::text[], $12::int[], $13::text[], $14::text[], $15::timestamptz[], $16::timestamptz[], $17::timestamptz[], $18::uuid[], $19::uuid[], $20::int[], $21::jsonb[]) WITH ORDINALITY AS u(ref, step_key, occurrence, kind, label, starts_at, ends_at, occupied_until, chair_id, staff_id, staff_seat, planned_dose, n) ORDER BY u.n RETURNING *) , a AS (INSERT INTO audit_events (clinic_id, occurred_at, actor_key_id, actor_role, action, entity_type, entity_id, patient_id, request_id, route, changes, client_request_id) SELECT e.clinic_id, $22::timestamptz, $23::uuid, $24::text, e.action, e.entity_type, e.entity_id, e.patient_id, $25::text, $26::text, e.changes, $27::text FROM unnest($28::uuid[], $29::text[], $30::text[], $31::uuid[], $32::uuid[], $33::jsonb[]) AS e(clinic_id, action, entity_type, entity_id, patient_id, changes)) SELECT s.*, p.status AS plan_status, p.version AS plan_version, p.created_at AS plan_created_at, p.updated_at AS plan_updated_at FROM s CROSS JOIN p;
