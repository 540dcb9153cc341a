import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Clinical observations per session (scores, vitals, adverse events, a note). Append-only: a
 * correction is a new observation, so the record of what was seen when is never rewritten.
 */
export class Observations1764374400000 implements MigrationInterface {
  name = 'Observations1764374400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE session_observations (
        clinic_id      uuid NOT NULL,
        id             uuid NOT NULL DEFAULT gen_random_uuid(),
        session_id     uuid NOT NULL,
        plan_id        uuid NOT NULL,
        patient_id     uuid NOT NULL,
        recorded_at    timestamptz NOT NULL,
        recorded_by    uuid,
        craving        integer CHECK (craving BETWEEN 0 AND 10),
        cows           integer CHECK (cows BETWEEN 0 AND 48),
        phq9           integer CHECK (phq9 BETWEEN 0 AND 27),
        gad7           integer CHECK (gad7 BETWEEN 0 AND 21),
        bp_systolic    integer CHECK (bp_systolic BETWEEN 50 AND 260),
        bp_diastolic   integer CHECK (bp_diastolic BETWEEN 30 AND 160),
        heart_rate     integer CHECK (heart_rate BETWEEN 20 AND 250),
        spo2           integer CHECK (spo2 BETWEEN 50 AND 100),
        adverse_events jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(adverse_events) = 'array'),
        note           text CHECK (length(note) <= 5000),
        PRIMARY KEY (clinic_id, id),
        CONSTRAINT observations_bp_paired CHECK ((bp_systolic IS NULL) = (bp_diastolic IS NULL)),
        FOREIGN KEY (clinic_id, session_id) REFERENCES sessions (clinic_id, id),
        FOREIGN KEY (clinic_id, plan_id) REFERENCES plans (clinic_id, id)
      )`);
    await q.query(
      `CREATE INDEX session_observations_plan_idx ON session_observations (clinic_id, plan_id, recorded_at)`,
    );
    await q.query(
      `CREATE INDEX session_observations_session_idx ON session_observations (clinic_id, session_id, recorded_at)`,
    );
    // A correction is recorded as a new observation.
    await q.query(`
      CREATE TRIGGER session_observations_no_change BEFORE UPDATE OR DELETE ON session_observations
      FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change()`);
    await q.query(`
      CREATE TRIGGER session_observations_no_truncate BEFORE TRUNCATE ON session_observations
      FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only_change()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE session_observations`);
  }
}
