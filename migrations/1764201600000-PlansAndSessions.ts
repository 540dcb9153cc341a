import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Plans and their sessions, with double booking made impossible by the database itself:
 * - a chair and a patient cannot hold two overlapping active sessions (exclusion constraints over
 *   the occupied range, recovery included);
 * - a staff member's "patients at once" is a set of numbered seats 1..max: every active session
 *   holds one seat (a trigger checks it exists), and one seat cannot be held twice at once
 *   (exclusion constraint). Lowering a limit below what future bookings use is refused.
 */
export class PlansAndSessions1764201600000 implements MigrationInterface {
  name = 'PlansAndSessions1764201600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE plans (
        clinic_id        uuid NOT NULL,
        id               uuid NOT NULL DEFAULT gen_random_uuid(),
        patient_id       uuid NOT NULL,
        protocol_id      uuid NOT NULL,
        protocol_version integer NOT NULL,
        tailoring        jsonb NOT NULL,
        earliest_start   date NOT NULL,
        status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'ended_early')),
        version          integer NOT NULL DEFAULT 1,
        created_by       uuid,
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (clinic_id, id),
        FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id),
        -- Pinned: the version a plan was made from can never change or disappear.
        FOREIGN KEY (clinic_id, protocol_id, protocol_version) REFERENCES protocol_versions (clinic_id, protocol_id, version)
      )`);
    await q.query(`CREATE INDEX plans_id_idx ON plans (id)`);
    await q.query(`CREATE INDEX plans_patient_idx ON plans (clinic_id, patient_id, created_at)`);

    await q.query(`
      CREATE TABLE sessions (
        clinic_id      uuid NOT NULL,
        id             uuid NOT NULL DEFAULT gen_random_uuid(),
        plan_id        uuid NOT NULL,
        patient_id     uuid NOT NULL,
        ref            text NOT NULL,
        step_key       text NOT NULL,
        occurrence     integer NOT NULL CHECK (occurrence >= 1),
        kind           text NOT NULL,
        label          text NOT NULL,
        starts_at      timestamptz NOT NULL,
        ends_at        timestamptz NOT NULL,
        occupied_until timestamptz NOT NULL,
        chair_id       uuid,
        staff_id       uuid,
        staff_seat     integer,
        status         text NOT NULL DEFAULT 'scheduled'
                       CHECK (status IN ('scheduled', 'checked_in', 'completed', 'no_show', 'cancelled')),
        planned_dose   jsonb,
        version        integer NOT NULL DEFAULT 1,
        created_at     timestamptz NOT NULL DEFAULT now(),
        updated_at     timestamptz NOT NULL DEFAULT now(),
        during         tstzrange GENERATED ALWAYS AS (tstzrange(starts_at, occupied_until, '[)')) STORED,
        PRIMARY KEY (clinic_id, id),
        CONSTRAINT sessions_ref_uq UNIQUE (clinic_id, plan_id, ref),
        CONSTRAINT sessions_times_ordered CHECK (starts_at < ends_at AND ends_at <= occupied_until),
        CONSTRAINT sessions_seat_with_staff CHECK ((staff_id IS NULL) = (staff_seat IS NULL)),
        FOREIGN KEY (clinic_id, plan_id) REFERENCES plans (clinic_id, id),
        FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id),
        FOREIGN KEY (clinic_id, chair_id) REFERENCES chairs (clinic_id, id),
        FOREIGN KEY (clinic_id, staff_id) REFERENCES staff_members (clinic_id, id),
        CONSTRAINT sessions_seat_positive CHECK (staff_seat >= 1),
        -- Deferrable, so that a rescheduling cascade can move several sessions of one plan in one
        -- transaction and be judged as a whole at commit; immediate everywhere else.
        CONSTRAINT sessions_no_chair_overlap EXCLUDE USING gist (clinic_id WITH =, chair_id WITH =, during WITH &&)
          WHERE (chair_id IS NOT NULL AND status IN ('scheduled', 'checked_in', 'completed')) DEFERRABLE INITIALLY IMMEDIATE,
        CONSTRAINT sessions_no_patient_overlap EXCLUDE USING gist (clinic_id WITH =, patient_id WITH =, during WITH &&)
          WHERE (status IN ('scheduled', 'checked_in', 'completed')) DEFERRABLE INITIALLY IMMEDIATE,
        CONSTRAINT sessions_no_seat_overlap EXCLUDE USING gist (clinic_id WITH =, staff_id WITH =, staff_seat WITH =, during WITH &&)
          WHERE (staff_id IS NOT NULL AND status IN ('scheduled', 'checked_in', 'completed')) DEFERRABLE INITIALLY IMMEDIATE
      )`);
    // A seat must exist: 1..max_concurrent_patients of the staff member at the time of writing.
    // FOR SHARE makes a concurrent change of the limit wait for (or be waited on by) this write.
    await q.query(`
      CREATE FUNCTION sessions_seat_within_capacity() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.staff_id IS NULL OR NEW.status NOT IN ('scheduled', 'checked_in', 'completed') THEN
          RETURN NEW;
        END IF;
        PERFORM 1 FROM staff_members
          WHERE clinic_id = NEW.clinic_id AND id = NEW.staff_id AND NEW.staff_seat <= max_concurrent_patients
          FOR SHARE;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'staff seat % is beyond the capacity of staff member %', NEW.staff_seat, NEW.staff_id
            USING ERRCODE = '23P01', CONSTRAINT = 'sessions_seat_within_capacity';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER sessions_seat_within_capacity BEFORE INSERT OR UPDATE OF staff_id, staff_seat ON sessions
      FOR EACH ROW EXECUTE FUNCTION sessions_seat_within_capacity()`);
    // The partial exclusion indexes cannot serve "everything in this clinic in this window".
    await q.query(`CREATE INDEX sessions_clinic_during_idx ON sessions USING gist (clinic_id, during)`);
    // What the scheduler loads for a horizon: sessions last at most a day, so a range on the
    // start finds every overlap; a btree range scan decodes far fewer pages than the gist one.
    await q.query(`CREATE INDEX sessions_clinic_start_idx ON sessions (clinic_id, starts_at)`);
    await q.query(`CREATE INDEX sessions_id_idx ON sessions (id)`);
    await q.query(`CREATE INDEX sessions_plan_idx ON sessions (clinic_id, plan_id, starts_at)`);

    // Idempotency-Key: the first response per key, stored in the transaction that did the work.
    await q.query(`
      CREATE TABLE idempotency_keys (
        clinic_id    uuid NOT NULL,
        key          text NOT NULL,
        actor_key_id uuid NOT NULL,
        method_path  text NOT NULL,
        request_hash text NOT NULL,
        status_code  integer NOT NULL,
        response     jsonb NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (clinic_id, key)
      )`);
    await q.query(`CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotency_keys`);
    await q.query(`DROP TABLE sessions`);
    await q.query(`DROP FUNCTION sessions_seat_within_capacity`);
    await q.query(`DROP TABLE plans`);
  }
}
