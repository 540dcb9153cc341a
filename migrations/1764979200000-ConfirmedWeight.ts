import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Doses in mg/kg are computed from a clinician-confirmed weight. `weight_kg` is now the confirmed
 * weight (with who confirmed it and when); a weight entered by the front desk waits in
 * `pending_weight_kg` until a clinician or admin confirms it (or enters another).
 *
 * Weights already stored count as confirmed, except where the audit trail shows the front desk
 * set them last (a patient created with a weight, or a weight change, by a front-desk key): those
 * become pending, so that no dose is computed from them until a clinician confirms them.
 */
export class ConfirmedWeight1764979200000 implements MigrationInterface {
  name = 'ConfirmedWeight1764979200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE patients
        ADD COLUMN weight_confirmed_at timestamptz,
        ADD COLUMN weight_confirmed_by uuid,
        ADD COLUMN pending_weight_kg   numeric(5, 1) CHECK (pending_weight_kg > 0 AND pending_weight_kg < 500),
        ADD COLUMN pending_weight_at   timestamptz,
        ADD COLUMN pending_weight_by   uuid`);
    await q.query(`
      WITH last_weight AS (
        SELECT DISTINCT ON (a.clinic_id, a.patient_id) a.clinic_id, a.patient_id, a.actor_role, a.actor_key_id, a.occurred_at
          FROM audit_events a
         WHERE a.entity_type = 'patient' AND a.patient_id IS NOT NULL
           AND (a.action = 'patient.create' OR (a.action = 'patient.update' AND a.changes -> 'after' ? 'weightKg'))
         ORDER BY a.clinic_id, a.patient_id, a.occurred_at DESC, a.id DESC
      )
      UPDATE patients p
         SET pending_weight_kg = p.weight_kg, pending_weight_at = l.occurred_at, pending_weight_by = l.actor_key_id, weight_kg = NULL
        FROM last_weight l
       WHERE l.clinic_id = p.clinic_id AND l.patient_id = p.id AND l.actor_role = 'front_desk' AND p.weight_kg IS NOT NULL`);
    await q.query(`UPDATE patients SET weight_confirmed_at = updated_at WHERE weight_kg IS NOT NULL`);
    await q.query(`
      ALTER TABLE patients
        ADD CONSTRAINT patients_weight_confirmed_ck CHECK ((weight_kg IS NULL) = (weight_confirmed_at IS NULL)),
        ADD CONSTRAINT patients_pending_weight_ck CHECK ((pending_weight_kg IS NULL) = (pending_weight_at IS NULL))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `UPDATE patients SET weight_kg = pending_weight_kg WHERE weight_kg IS NULL AND pending_weight_kg IS NOT NULL`,
    );
    await q.query(`
      ALTER TABLE patients
        DROP CONSTRAINT patients_weight_confirmed_ck,
        DROP CONSTRAINT patients_pending_weight_ck,
        DROP COLUMN weight_confirmed_at,
        DROP COLUMN weight_confirmed_by,
        DROP COLUMN pending_weight_kg,
        DROP COLUMN pending_weight_at,
        DROP COLUMN pending_weight_by`);
  }
}
