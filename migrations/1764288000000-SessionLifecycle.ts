import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Session lifecycle (check-in, completion with the dose given, no-show, cancellation) and the
 * append-only log of everything that changes a plan after booking.
 */
export class SessionLifecycle1764288000000 implements MigrationInterface {
  name = 'SessionLifecycle1764288000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE sessions
        ADD COLUMN checked_in_at timestamptz,
        ADD COLUMN actual_start  timestamptz,
        ADD COLUMN actual_end    timestamptz,
        ADD COLUMN dose_given    jsonb,
        ADD COLUMN status_reason text CHECK (length(status_reason) <= 1000),
        ADD CONSTRAINT sessions_actual_ordered CHECK (actual_end IS NULL OR actual_start IS NULL OR actual_end > actual_start)`);
    // The day sheet: a clinic's sessions in a window, optionally by chair, staff, patient or status.
    await q.query(
      `CREATE INDEX sessions_clinic_chair_start_idx ON sessions (clinic_id, chair_id, starts_at) WHERE chair_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX sessions_clinic_staff_start_idx ON sessions (clinic_id, staff_id, starts_at) WHERE staff_id IS NOT NULL`,
    );
    await q.query(`CREATE INDEX sessions_clinic_patient_start_idx ON sessions (clinic_id, patient_id, starts_at)`);

    await q.query(`
      CREATE TABLE plan_adjustments (
        clinic_id    uuid NOT NULL,
        id           uuid NOT NULL DEFAULT gen_random_uuid(),
        plan_id      uuid NOT NULL,
        plan_version integer NOT NULL,
        type         text NOT NULL,
        reason       text CHECK (length(reason) <= 2000),
        actor_key_id uuid,
        actor_role   text,
        occurred_at  timestamptz NOT NULL,
        changes      jsonb NOT NULL CHECK (jsonb_typeof(changes) = 'array'),
        PRIMARY KEY (clinic_id, id),
        CONSTRAINT plan_adjustments_version_uq UNIQUE (clinic_id, plan_id, plan_version),
        FOREIGN KEY (clinic_id, plan_id) REFERENCES plans (clinic_id, id)
      )`);
    await q.query(`
      CREATE TRIGGER plan_adjustments_no_change BEFORE UPDATE OR DELETE ON plan_adjustments
      FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change()`);
    await q.query(`
      CREATE TRIGGER plan_adjustments_no_truncate BEFORE TRUNCATE ON plan_adjustments
      FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only_change()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE plan_adjustments`);
    await q.query(`DROP INDEX sessions_clinic_chair_start_idx`);
    await q.query(`DROP INDEX sessions_clinic_staff_start_idx`);
    await q.query(`DROP INDEX sessions_clinic_patient_start_idx`);
    await q.query(`
      ALTER TABLE sessions DROP CONSTRAINT sessions_actual_ordered,
        DROP COLUMN checked_in_at, DROP COLUMN actual_start, DROP COLUMN actual_end, DROP COLUMN dose_given, DROP COLUMN status_reason`);
  }
}
