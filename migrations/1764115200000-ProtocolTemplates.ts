import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Protocol templates: one editable draft per protocol, and numbered published versions whose
 * content never changes (a trigger refuses it); only `retired_at` may be set on a version.
 * Steps are validated JSON (jsonb): a version is read and pinned as a whole.
 */
export class ProtocolTemplates1764115200000 implements MigrationInterface {
  name = 'ProtocolTemplates1764115200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE protocols (
        clinic_id        uuid NOT NULL REFERENCES clinics (id),
        id               uuid NOT NULL DEFAULT gen_random_uuid(),
        name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        indication       text NOT NULL CHECK (length(indication) BETWEEN 1 AND 200),
        description      text,
        draft_steps      jsonb NOT NULL CHECK (jsonb_typeof(draft_steps) = 'array'),
        draft_revision   integer NOT NULL DEFAULT 1,
        draft_updated_at timestamptz NOT NULL DEFAULT now(),
        latest_version   integer NOT NULL DEFAULT 0,
        created_at       timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (clinic_id, id)
      )`);
    await q.query(`CREATE INDEX protocols_id_idx ON protocols (id)`);
    await q.query(`CREATE INDEX protocols_clinic_name_idx ON protocols (clinic_id, name, id)`);

    await q.query(`
      CREATE TABLE protocol_versions (
        clinic_id    uuid NOT NULL,
        protocol_id  uuid NOT NULL,
        version      integer NOT NULL CHECK (version >= 1),
        name         text NOT NULL,
        indication   text NOT NULL,
        description  text,
        steps        jsonb NOT NULL CHECK (jsonb_typeof(steps) = 'array'),
        published_at timestamptz NOT NULL DEFAULT now(),
        published_by uuid,
        retired_at   timestamptz,
        PRIMARY KEY (clinic_id, protocol_id, version),
        FOREIGN KEY (clinic_id, protocol_id) REFERENCES protocols (clinic_id, id)
      )`);
    await q.query(`
      CREATE FUNCTION protocol_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP IN ('DELETE', 'TRUNCATE') THEN
          RAISE EXCEPTION 'published protocol versions cannot be deleted';
        END IF;
        IF (NEW.clinic_id, NEW.protocol_id, NEW.version, NEW.name, NEW.indication, NEW.steps, NEW.published_at, NEW.published_by)
           IS DISTINCT FROM (OLD.clinic_id, OLD.protocol_id, OLD.version, OLD.name, OLD.indication, OLD.steps, OLD.published_at, OLD.published_by)
           OR NEW.description IS DISTINCT FROM OLD.description
           OR (OLD.retired_at IS NOT NULL AND NEW.retired_at IS DISTINCT FROM OLD.retired_at) THEN
          RAISE EXCEPTION 'published protocol versions are immutable (only retiring is allowed)';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER protocol_versions_immutable BEFORE UPDATE OR DELETE ON protocol_versions
      FOR EACH ROW EXECUTE FUNCTION protocol_versions_immutable()`);
    await q.query(`
      CREATE TRIGGER protocol_versions_no_truncate BEFORE TRUNCATE ON protocol_versions
      FOR EACH STATEMENT EXECUTE FUNCTION protocol_versions_immutable()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE protocol_versions`);
    await q.query(`DROP FUNCTION protocol_versions_immutable`);
    await q.query(`DROP TABLE protocols`);
  }
}
