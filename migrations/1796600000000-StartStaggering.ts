import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Start staggering: a clinic may cap the infusion starts (active sessions holding a chair) in any
 * quarter hour, clinic-wide and per staff member. The database guards it with start seats, as it
 * guards staff capacity: each such session holds a seat 1…limit of its quarter hour (and one of its
 * staff member's), in `session_start_seats`, whose exclusion constraints refuse two sessions on one
 * seat. Exclusion constraints see uncommitted rows and wait for them, whatever the isolation level,
 * so two instances booking the last seat at once cannot both commit (the second gets 23P01 and
 * re-plans). Seats live beside the sessions, not in them: renumbering them when a limit changes
 * raises no session revision (calendars and sync clients see nothing change).
 *
 * The seat is picked by a constraint trigger (deferrable, so that a cascade that moves several
 * sessions is judged at commit, where every session is in its final place); it re-reads the
 * session, so it is idempotent. A quarter hour is the UTC one: the local one in every zone whose
 * offset is a whole number of quarter hours (all of them), and the engine's `startSlot`.
 */
export class StartStaggering1796600000000 implements MigrationInterface {
  name = 'StartStaggering1796600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE clinics
        ADD COLUMN max_starts_per_slot smallint
          CONSTRAINT clinics_max_starts_per_slot_ck CHECK (max_starts_per_slot BETWEEN 1 AND 50),
        ADD COLUMN max_starts_per_nurse_per_slot smallint
          CONSTRAINT clinics_max_starts_per_nurse_per_slot_ck CHECK (max_starts_per_nurse_per_slot BETWEEN 1 AND 50)`);
    await q.query(`
      CREATE FUNCTION start_slot(t timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT floor(extract(epoch FROM (t - timestamptz '1970-01-01 00:00:00+00')) / 900)::bigint $$`);
    await q.query(`
      CREATE TABLE session_start_seats (
        clinic_id  uuid NOT NULL,
        session_id uuid NOT NULL,
        start_slot bigint NOT NULL,
        seat       smallint CHECK (seat >= 1),
        staff_id   uuid,
        staff_seat smallint CHECK (staff_seat >= 1),
        PRIMARY KEY (clinic_id, session_id),
        FOREIGN KEY (clinic_id, session_id) REFERENCES sessions (clinic_id, id) ON DELETE CASCADE,
        CONSTRAINT session_start_seats_slot_excl EXCLUDE USING btree (clinic_id WITH =, start_slot WITH =, seat WITH =)
          WHERE (seat IS NOT NULL) DEFERRABLE INITIALLY IMMEDIATE,
        CONSTRAINT session_start_seats_staff_excl
          EXCLUDE USING btree (clinic_id WITH =, staff_id WITH =, start_slot WITH =, staff_seat WITH =)
          WHERE (staff_seat IS NOT NULL) DEFERRABLE INITIALLY IMMEDIATE
      )`);
    // Brings one session's seats in line with the session as it is now: none when it holds no
    // chair, is not active or the clinic sets no limit; kept when its quarter hour and staff member
    // are unchanged; else the lowest free seats (after dropping seats of sessions that have moved
    // away within this transaction). No seat left: 23P01, as any other lost race.
    await q.query(`
      CREATE FUNCTION sync_session_start_seat(p_clinic uuid, p_session uuid) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        r record;
        cur session_start_seats%ROWTYPE;
        lim integer;
        nlim integer;
        slot bigint;
        s integer;
        ns integer;
        present boolean;
      BEGIN
        -- FOR SHARE: a change of the limits waits for this write, or this write for it.
        SELECT max_starts_per_slot, max_starts_per_nurse_per_slot INTO lim, nlim FROM clinics WHERE id = p_clinic FOR SHARE;
        IF lim IS NULL AND nlim IS NULL THEN
          -- A clinic without limits keeps no seats (renumber_start_seats clears them when its limits go):
          -- nothing more to read, which keeps a booking's write as cheap as before the limits came.
          RETURN;
        END IF;
        SELECT x.starts_at, x.chair_id, x.staff_id, x.status INTO r FROM sessions x
          WHERE x.clinic_id = p_clinic AND x.id = p_session;
        present := FOUND;
        SELECT * INTO cur FROM session_start_seats WHERE clinic_id = p_clinic AND session_id = p_session;
        IF NOT present OR r.chair_id IS NULL OR r.status NOT IN ('scheduled', 'checked_in', 'completed') THEN
          DELETE FROM session_start_seats WHERE clinic_id = p_clinic AND session_id = p_session;
          RETURN;
        END IF;
        slot := start_slot(r.starts_at);
        IF cur.session_id IS NOT NULL AND cur.start_slot = slot AND cur.staff_id IS NOT DISTINCT FROM r.staff_id THEN
          RETURN;
        END IF;
        DELETE FROM session_start_seats WHERE clinic_id = p_clinic AND session_id = p_session;
        DELETE FROM session_start_seats ss
          WHERE ss.clinic_id = p_clinic AND ss.start_slot = slot
            AND NOT EXISTS (SELECT 1 FROM sessions x
                             WHERE x.clinic_id = ss.clinic_id AND x.id = ss.session_id AND x.chair_id IS NOT NULL
                               AND x.status IN ('scheduled', 'checked_in', 'completed')
                               AND start_slot(x.starts_at) = ss.start_slot AND x.staff_id IS NOT DISTINCT FROM ss.staff_id);
        IF lim IS NOT NULL THEN
          SELECT min(n) INTO s FROM generate_series(1, lim) n
            WHERE NOT EXISTS (SELECT 1 FROM session_start_seats o
                               WHERE o.clinic_id = p_clinic AND o.start_slot = slot AND o.seat = n);
          IF s IS NULL THEN
            RAISE EXCEPTION 'the clinic''s % infusion starts of the quarter hour at % are taken', lim, r.starts_at
              USING ERRCODE = '23P01', CONSTRAINT = 'session_start_seats_slot_excl';
          END IF;
        END IF;
        IF nlim IS NOT NULL AND r.staff_id IS NOT NULL THEN
          SELECT min(n) INTO ns FROM generate_series(1, nlim) n
            WHERE NOT EXISTS (SELECT 1 FROM session_start_seats o
                               WHERE o.clinic_id = p_clinic AND o.staff_id = r.staff_id AND o.start_slot = slot
                                 AND o.staff_seat = n);
          IF ns IS NULL THEN
            RAISE EXCEPTION 'staff member % has % infusion starts in the quarter hour at % already', r.staff_id, nlim, r.starts_at
              USING ERRCODE = '23P01', CONSTRAINT = 'session_start_seats_staff_excl';
          END IF;
        END IF;
        INSERT INTO session_start_seats (clinic_id, session_id, start_slot, seat, staff_id, staff_seat)
          VALUES (p_clinic, p_session, slot, s, r.staff_id, ns);
      END $$`);
    await q.query(`
      CREATE FUNCTION sessions_start_seats() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM sync_session_start_seat(NEW.clinic_id, NEW.id);
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE CONSTRAINT TRIGGER sessions_start_seats AFTER INSERT OR UPDATE OF starts_at, chair_id, staff_id, status
        ON sessions DEFERRABLE INITIALLY IMMEDIATE FOR EACH ROW EXECUTE FUNCTION sessions_start_seats()`);
    // A clinic's seats numbered afresh (its limits set or changed): every active chair session from
    // the quarter hour of p_from on, in order of start; the caller checks no seat exceeds a limit.
    await q.query(`
      CREATE FUNCTION renumber_start_seats(p_clinic uuid, p_from timestamptz) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        lim integer;
        nlim integer;
      BEGIN
        SELECT max_starts_per_slot, max_starts_per_nurse_per_slot INTO lim, nlim FROM clinics WHERE id = p_clinic;
        DELETE FROM session_start_seats WHERE clinic_id = p_clinic;
        IF lim IS NULL AND nlim IS NULL THEN
          RETURN;
        END IF;
        INSERT INTO session_start_seats (clinic_id, session_id, start_slot, seat, staff_id, staff_seat)
        SELECT clinic_id, id, start_slot(starts_at),
               CASE WHEN lim IS NULL THEN NULL
                    ELSE row_number() OVER (PARTITION BY start_slot(starts_at) ORDER BY starts_at, id) END,
               staff_id,
               CASE WHEN nlim IS NULL OR staff_id IS NULL THEN NULL
                    ELSE row_number() OVER (PARTITION BY start_slot(starts_at), staff_id ORDER BY starts_at, id) END
          FROM sessions
         WHERE clinic_id = p_clinic AND chair_id IS NOT NULL AND status IN ('scheduled', 'checked_in', 'completed')
           AND starts_at >= to_timestamp(start_slot(p_from) * 900);
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER sessions_start_seats ON sessions`);
    await q.query(`DROP FUNCTION sessions_start_seats`);
    await q.query(`DROP FUNCTION renumber_start_seats`);
    await q.query(`DROP FUNCTION sync_session_start_seat`);
    await q.query(`DROP TABLE session_start_seats`);
    await q.query(`DROP FUNCTION start_slot`);
    await q.query(`ALTER TABLE clinics DROP COLUMN max_starts_per_nurse_per_slot, DROP COLUMN max_starts_per_slot`);
  }
}
