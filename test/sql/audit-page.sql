-- audit-page: 3 distinct statements (test/api/sql-snapshots.spec.ts)

SELECT id::text, occurred_at, clinic_id, actor_key_id, actor_role, action, entity_type, entity_id, patient_id, request_id, client_request_id, route, changes FROM audit_events WHERE clinic_id = $1 AND patient_id = $2 AND entity_type = $3 ORDER BY occurred_at DESC, id DESC LIMIT $4;

SELECT k.id, k.role, k.clinic_id, (SELECT array_agg(g.clinic_id ORDER BY g.clinic_id) FROM api_key_clinics g WHERE g.key_id = k.id) AS more FROM api_keys k WHERE k.key_hash = $1 AND k.revoked_at IS NULL;

WITH relaxed AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true)) INSERT INTO audit_events (clinic_id, occurred_at, actor_key_id, actor_role, action, entity_type, entity_id, patient_id, request_id, route, changes, client_request_id) SELECT e.clinic_id, $1::timestamptz, $2::uuid, $3::text, e.action, e.entity_type, e.entity_id, e.patient_id, $4::text, $5::text, e.changes, $6::text FROM relaxed, unnest($7::uuid[], $8::text[], $9::text[], $10::uuid[], $11::uuid[], $12::jsonb[]) AS e(clinic_id, action, entity_type, entity_id, patient_id, changes);
