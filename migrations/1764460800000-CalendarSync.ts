import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Calendar sync: the session change log (incremental REST sync), calendar feeds, and the webhook
 * endpoints with their transactional outbox.
 *
 * The change log and the outbox are written by triggers on `sessions`, `plans` and
 * `plan_adjustments`, so every write path, present and future, records its change in its own
 * transaction: a rolled-back change leaves neither a change row nor a webhook message.
 *
 * Each change row carries its transaction id (`xid8`): a sync reads the changes of transactions
 * visible in its snapshot and not in the previous one, so a change that commits late is never
 * skipped (a `bigserial` cursor would skip it).
 */
export class CalendarSync1764460800000 implements MigrationInterface {
  name = 'CalendarSync1764460800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE server_secrets (
        name       text PRIMARY KEY,
        secret     bytea NOT NULL CHECK (length(secret) >= 32),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // 256 bits from the server's strong random source (gen_random_uuid uses pg_strong_random).
    await q.query(`
      INSERT INTO server_secrets (name, secret)
      SELECT 'sync_token', decode(
        replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', '') ||
        replace(gen_random_uuid()::text, '-', ''), 'hex')`);

    await q.query(`
      CREATE TABLE session_changes (
        clinic_id  uuid NOT NULL,
        seq        bigint GENERATED ALWAYS AS IDENTITY,
        txid       xid8 NOT NULL DEFAULT pg_current_xact_id(),
        session_id uuid NOT NULL,
        plan_id    uuid NOT NULL,
        revision   integer NOT NULL,
        change     text NOT NULL CHECK (change IN ('created', 'updated', 'cancelled', 'deleted')),
        changed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (clinic_id, seq)
      )`);
    await q.query(`CREATE INDEX session_changes_window_idx ON session_changes (clinic_id, txid, session_id)`);
    await q.query(`CREATE INDEX session_changes_age_idx ON session_changes (changed_at)`);

    await q.query(`
      CREATE TABLE webhook_endpoints (
        clinic_id         uuid NOT NULL REFERENCES clinics (id),
        id                uuid NOT NULL DEFAULT gen_random_uuid(),
        url               text NOT NULL CHECK (length(url) <= 2000),
        description       text CHECK (length(description) <= 500),
        event_types       text[] NOT NULL CHECK (cardinality(event_types) >= 1),
        secret            text NOT NULL,
        status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'deleted')),
        status_reason     text,
        created_at        timestamptz NOT NULL DEFAULT now(),
        created_by_key_id uuid,
        updated_at        timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (clinic_id, id)
      )`);
    await q.query(`CREATE INDEX webhook_endpoints_id_idx ON webhook_endpoints (id)`);

    await q.query(`
      CREATE TABLE webhook_messages (
        clinic_id       uuid NOT NULL,
        id              uuid NOT NULL DEFAULT gen_random_uuid(),
        endpoint_id     uuid NOT NULL,
        event_type      text NOT NULL,
        payload         text NOT NULL,
        status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        leased_until    timestamptz,
        created_at      timestamptz NOT NULL DEFAULT now(),
        delivered_at    timestamptz,
        last_status     integer,
        last_error      text,
        PRIMARY KEY (clinic_id, id),
        FOREIGN KEY (clinic_id, endpoint_id) REFERENCES webhook_endpoints (clinic_id, id)
      )`);
    await q.query(
      `CREATE INDEX webhook_messages_due_idx ON webhook_messages (next_attempt_at) WHERE status = 'pending'`,
    );
    await q.query(
      `CREATE INDEX webhook_messages_endpoint_idx ON webhook_messages (clinic_id, endpoint_id, created_at)`,
    );

    await q.query(`
      CREATE TABLE webhook_attempts (
        clinic_id   uuid NOT NULL,
        id          bigint GENERATED ALWAYS AS IDENTITY,
        message_id  uuid NOT NULL,
        attempt     integer NOT NULL,
        started_at  timestamptz NOT NULL,
        duration_ms integer NOT NULL,
        status_code integer,
        error       text,
        PRIMARY KEY (clinic_id, id),
        FOREIGN KEY (clinic_id, message_id) REFERENCES webhook_messages (clinic_id, id)
      )`);
    await q.query(`CREATE INDEX webhook_attempts_message_idx ON webhook_attempts (clinic_id, message_id, attempt)`);

    await q.query(`
      CREATE TABLE calendar_feeds (
        clinic_id         uuid NOT NULL REFERENCES clinics (id),
        id                uuid NOT NULL DEFAULT gen_random_uuid(),
        scope             text NOT NULL CHECK (scope IN ('clinic', 'chair', 'staff', 'patient')),
        scope_id          uuid,
        name              text CHECK (length(name) <= 200),
        token_hash        bytea NOT NULL,
        created_at        timestamptz NOT NULL DEFAULT now(),
        created_by_key_id uuid,
        revoked_at        timestamptz,
        PRIMARY KEY (clinic_id, id),
        CONSTRAINT calendar_feeds_token_uq UNIQUE (token_hash),
        CONSTRAINT calendar_feeds_scope_id CHECK ((scope = 'clinic') = (scope_id IS NULL))
      )`);
    await q.query(`CREATE INDEX calendar_feeds_id_idx ON calendar_feeds (id)`);

    // One message per active endpoint of the clinic that subscribed to the event, in the caller's
    // transaction. The body is serialized once, here, and signed as these exact bytes.
    await q.query(`
      CREATE FUNCTION enqueue_webhook(p_clinic uuid, p_type text, p_data jsonb) RETURNS void
      LANGUAGE sql AS $$
        INSERT INTO webhook_messages (clinic_id, endpoint_id, event_type, payload)
        SELECT p_clinic, e.id, p_type,
               jsonb_build_object(
                 'type', p_type,
                 'timestamp', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                 'data', p_data)::text
          FROM webhook_endpoints e
         WHERE e.clinic_id = p_clinic AND e.status = 'active' AND p_type = ANY (e.event_types)
      $$`);

    await q.query(`
      CREATE FUNCTION record_session_change() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        r      sessions%ROWTYPE;
        kind   text;
        event  text;
      BEGIN
        IF TG_OP = 'DELETE' THEN
          r := OLD; kind := 'deleted'; event := 'session.cancelled';
        ELSIF TG_OP = 'INSERT' THEN
          r := NEW; kind := 'created'; event := 'session.created';
        ELSE
          IF NEW IS NOT DISTINCT FROM OLD THEN RETURN NULL; END IF;
          -- The revision is what calendars compare (SEQUENCE) and sync clients keep: it must rise.
          IF NEW.version <= OLD.version THEN
            RAISE EXCEPTION 'sessions.version must increase on every change (session %)', NEW.id;
          END IF;
          r := NEW;
          IF NEW.status = 'cancelled' AND OLD.status <> 'cancelled' THEN
            kind := 'cancelled'; event := 'session.cancelled';
          ELSE
            kind := 'updated'; event := 'session.updated';
          END IF;
        END IF;
        INSERT INTO session_changes (clinic_id, session_id, plan_id, revision, change)
        VALUES (r.clinic_id, r.id, r.plan_id, r.version, kind);
        PERFORM enqueue_webhook(r.clinic_id, event, jsonb_build_object(
          'id', r.id, 'clinicId', r.clinic_id, 'planId', r.plan_id, 'revision', r.version,
          'status', CASE WHEN kind = 'deleted' THEN 'cancelled' ELSE r.status END));
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER sessions_record_change AFTER INSERT OR UPDATE OR DELETE ON sessions
      FOR EACH ROW EXECUTE FUNCTION record_session_change()`);

    await q.query(`
      CREATE FUNCTION record_plan_event() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_TABLE_NAME = 'plans' THEN
          PERFORM enqueue_webhook(NEW.clinic_id, 'plan.booked', jsonb_build_object(
            'id', NEW.id, 'clinicId', NEW.clinic_id, 'version', NEW.version));
        ELSE
          PERFORM enqueue_webhook(NEW.clinic_id, 'plan.adjusted', jsonb_build_object(
            'id', NEW.plan_id, 'clinicId', NEW.clinic_id, 'version', NEW.plan_version,
            'adjustmentId', NEW.id, 'adjustmentType', NEW.type));
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(
      `CREATE TRIGGER plans_record_event AFTER INSERT ON plans FOR EACH ROW EXECUTE FUNCTION record_plan_event()`,
    );
    await q.query(`
      CREATE TRIGGER plan_adjustments_record_event AFTER INSERT ON plan_adjustments
      FOR EACH ROW EXECUTE FUNCTION record_plan_event()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER plan_adjustments_record_event ON plan_adjustments`);
    await q.query(`DROP TRIGGER plans_record_event ON plans`);
    await q.query(`DROP TRIGGER sessions_record_change ON sessions`);
    await q.query(`DROP FUNCTION record_plan_event`);
    await q.query(`DROP FUNCTION record_session_change`);
    await q.query(`DROP FUNCTION enqueue_webhook`);
    await q.query(`DROP TABLE calendar_feeds`);
    await q.query(`DROP TABLE webhook_attempts`);
    await q.query(`DROP TABLE webhook_messages`);
    await q.query(`DROP TABLE webhook_endpoints`);
    await q.query(`DROP TABLE session_changes`);
    await q.query(`DROP TABLE server_secrets`);
  }
}
