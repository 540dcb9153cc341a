import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The foundation schema: clinics and what they own, API keys, patients, the audit trail.
 * Every clinic-owned table is keyed by (clinic_id, id) so that the data can be distributed by
 * clinic; ids are random UUIDs, so a plain index on id serves look-ups by operator keys.
 */
export class Foundation1764028800000 implements MigrationInterface {
  name = 'Foundation1764028800000';

  async up(q: QueryRunner): Promise<void> {
    // Exclusion constraints over (clinic_id, chair_id, tstzrange) need btree_gist; name search uses pg_trgm.
    await q.query(`CREATE EXTENSION IF NOT EXISTS btree_gist`);
    await q.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);

    await q.query(`
      CREATE TABLE clinics (
        id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        timezone      text NOT NULL,
        opening_hours jsonb NOT NULL DEFAULT '[]',
        version       integer NOT NULL DEFAULT 1,
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE api_keys (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        clinic_id   uuid REFERENCES clinics (id),   -- NULL: an operator key spanning all clinics
        name        text NOT NULL,
        role        text NOT NULL CHECK (role IN ('front_desk', 'clinician', 'admin')),
        key_prefix  text NOT NULL,
        key_hash    text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        revoked_at  timestamptz,
        CONSTRAINT api_keys_operator_is_admin CHECK (clinic_id IS NOT NULL OR role = 'admin')
      )`);
    // Global table: a key's hash identifies it across clinics.
    await q.query(`CREATE UNIQUE INDEX api_keys_key_hash_uq ON api_keys (key_hash)`);
    await q.query(`CREATE INDEX api_keys_clinic_idx ON api_keys (clinic_id, created_at)`);

    await q.query(`
      CREATE TABLE chairs (
        clinic_id  uuid NOT NULL REFERENCES clinics (id),
        id         uuid NOT NULL DEFAULT gen_random_uuid(),
        name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
        active     boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (clinic_id, id),
        CONSTRAINT chairs_name_uq UNIQUE (clinic_id, name)
      )`);

    await q.query(`
      CREATE TABLE staff_members (
        clinic_id               uuid NOT NULL REFERENCES clinics (id),
        id                      uuid NOT NULL DEFAULT gen_random_uuid(),
        name                    text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        role                    text NOT NULL CHECK (role IN ('nurse', 'physician', 'therapist')),
        availability            jsonb NOT NULL DEFAULT '[]',
        max_concurrent_patients integer NOT NULL DEFAULT 1 CHECK (max_concurrent_patients BETWEEN 1 AND 50),
        active                  boolean NOT NULL DEFAULT true,
        created_at              timestamptz NOT NULL DEFAULT now(),
        updated_at              timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (clinic_id, id)
      )`);

    // Closures are kept in the clinic's local terms (dates, wall-clock times): the scheduler
    // resolves them in the clinic's zone, so a timezone change never leaves them stale.
    await q.query(`
      CREATE TABLE closures (
        clinic_id  uuid NOT NULL REFERENCES clinics (id),
        id         uuid NOT NULL DEFAULT gen_random_uuid(),
        start_date date NOT NULL,
        end_date   date NOT NULL,
        start_time time,
        end_time   time,
        reason     text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (clinic_id, id),
        CONSTRAINT closures_dates_ordered CHECK (end_date >= start_date),
        CONSTRAINT closures_times_paired CHECK ((start_time IS NULL) = (end_time IS NULL)),
        CONSTRAINT closures_times_ordered CHECK (start_time IS NULL OR end_date > start_date OR end_time > start_time)
      )`);
    await q.query(`CREATE INDEX closures_clinic_dates_idx ON closures (clinic_id, end_date, start_date)`);

    await q.query(`
      CREATE TABLE patients (
        clinic_id        uuid NOT NULL REFERENCES clinics (id),
        id               uuid NOT NULL DEFAULT gen_random_uuid(),
        full_name        text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
        date_of_birth    date NOT NULL,
        email            text,
        phone            text,
        weight_kg        numeric(5, 1) CHECK (weight_kg > 0 AND weight_kg < 500),
        notes            text,
        unavailable      jsonb NOT NULL DEFAULT '[]',
        unavailable_dates jsonb NOT NULL DEFAULT '[]',
        preferred_times  jsonb NOT NULL DEFAULT '[]',
        version          integer NOT NULL DEFAULT 1,
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (clinic_id, id)
      )`);
    await q.query(`CREATE INDEX patients_id_idx ON patients (id)`);
    await q.query(`CREATE INDEX patients_clinic_name_idx ON patients (clinic_id, lower(full_name), id)`);
    await q.query(`CREATE INDEX patients_name_trgm_idx ON patients USING gin (lower(full_name) gin_trgm_ops)`);

    // Append-only trail of every write and every read of patient data.
    await q.query(`
      CREATE TABLE audit_events (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        clinic_id    uuid,
        occurred_at  timestamptz NOT NULL DEFAULT now(),
        actor_key_id uuid,
        actor_role   text,
        action       text NOT NULL,
        entity_type  text NOT NULL,
        entity_id    uuid,
        patient_id   uuid,
        request_id   text
      )`);
    await q.query(`CREATE INDEX audit_events_patient_idx ON audit_events (clinic_id, patient_id, occurred_at)`);
    await q.query(`CREATE INDEX audit_events_clinic_time_idx ON audit_events (clinic_id, occurred_at)`);
    // Shared by every append-only table: refuses UPDATE, DELETE (per row) and TRUNCATE (per statement).
    await q.query(`
      CREATE FUNCTION refuse_append_only_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change()`);
    await q.query(`
      CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
      FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only_change()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_events`);
    await q.query(`DROP FUNCTION refuse_append_only_change`);
    await q.query(`DROP TABLE patients`);
    await q.query(`DROP TABLE closures`);
    await q.query(`DROP TABLE staff_members`);
    await q.query(`DROP TABLE chairs`);
    await q.query(`DROP TABLE api_keys`);
    await q.query(`DROP TABLE clinics`);
  }
}
