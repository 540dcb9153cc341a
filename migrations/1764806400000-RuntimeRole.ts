import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The tables the service may only add rows to and read: no UPDATE, no DELETE (and no TRUNCATE). */
export const APPEND_ONLY_TABLES = ['audit_events', 'session_observations', 'plan_adjustments', 'protocol_versions'];

/**
 * The service's own database role. Migrations run as the owner of the tables; the service connects
 * as a login role that is a member of `chairside_runtime`, which owns nothing and is no superuser:
 * it cannot `ALTER TABLE … DISABLE TRIGGER`, `DROP TRIGGER` or `SET session_replication_role`, so
 * the append-only triggers hold, and on the append-only tables it may only INSERT and SELECT
 * (protocol versions: also set `retired_at`). Default privileges give it the same rights as here on
 * tables and sequences later migrations create; a new append-only table revokes UPDATE and DELETE
 * in its own migration.
 *
 * Roles belong to the server, not the database: the group is created when missing (which needs
 * CREATEROLE) and never dropped. The login role (its name and password are the operator's) is
 * made a member outside migrations: by the service itself for the embedded database, by the
 * operator for their own server (README, "Your own PostgreSQL").
 */
export class RuntimeRole1764806400000 implements MigrationInterface {
  name = 'RuntimeRole1764806400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      DO $$
      BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chairside_runtime') THEN
          CREATE ROLE chairside_runtime NOLOGIN;
        END IF;
      EXCEPTION
        WHEN duplicate_object OR unique_violation THEN NULL; -- created meanwhile by another database's migration
        WHEN insufficient_privilege THEN
          RAISE EXCEPTION 'the role chairside_runtime is missing and % may not create it', current_user
            USING HINT = 'As a role with CREATEROLE: CREATE ROLE chairside_runtime NOLOGIN; then GRANT chairside_runtime TO the service''s login role.';
      END $$`);
    await q.query(`GRANT USAGE ON SCHEMA public TO chairside_runtime`);
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO chairside_runtime`);
    await q.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO chairside_runtime`);
    await q.query(`REVOKE UPDATE, DELETE ON ${APPEND_ONLY_TABLES.join(', ')} FROM chairside_runtime`);
    // Retiring a published version is the one change its trigger allows.
    await q.query(`GRANT UPDATE (retired_at) ON protocol_versions TO chairside_runtime`);
    // The service checks at start that nothing is pending; only migrations (as the owner) write here.
    await q.query(`REVOKE INSERT, UPDATE, DELETE ON migrations FROM chairside_runtime`);
    await q.query(
      `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO chairside_runtime`,
    );
    await q.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO chairside_runtime`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM chairside_runtime`);
    await q.query(
      `ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM chairside_runtime`,
    );
    await q.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM chairside_runtime`);
    await q.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM chairside_runtime`);
    await q.query(`REVOKE USAGE ON SCHEMA public FROM chairside_runtime`);
  }
}
