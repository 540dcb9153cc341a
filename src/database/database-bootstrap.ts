import path from 'node:path';
import pg from 'pg';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';
import { dataSourceOptions } from './data-source-options.js';
import { ensureDatabase, startEmbeddedPostgres, withDatabase } from './embedded-postgres.js';
import { asRole, ensureRuntimeLogin, RUNTIME_LOGIN } from './runtime-role.js';

export const EMBEDDED_DATABASE_NAME = 'chairside';
const MIGRATION_LOCK_KEY = 7_301_937_411; // arbitrary, constant: serialises migrations across instances

export interface OpenDatabase {
  /** What the service connects as: a role that may use the tables, not change them (see RuntimeRole). */
  url: string;
  /** What migrations run as: the owner of the tables. */
  migrationUrl: string;
  embedded: boolean;
  /** Stops the embedded server, if one was started. */
  stop(): Promise<void>;
}

/**
 * Returns the database to use: DATABASE_URL when set (migrated as MIGRATION_DATABASE_URL when that
 * is set too), otherwise an embedded PostgreSQL whose data lives under the project's data directory
 * (created on first start, reused afterwards); the service uses it as its own login role, not as
 * the superuser that migrates it.
 */
export async function openDatabase(
  config: AppConfig,
  log: (line: string) => void = () => undefined,
): Promise<OpenDatabase> {
  if (config.databaseUrl) {
    return {
      url: config.databaseUrl,
      migrationUrl: config.migrationDatabaseUrl ?? config.databaseUrl,
      embedded: false,
      stop: async () => undefined,
    };
  }
  const cluster = await startEmbeddedPostgres(path.join(config.dataDir, 'postgres'), { onLog: log });
  try {
    await ensureDatabase(cluster.adminUrl, EMBEDDED_DATABASE_NAME);
    await ensureRuntimeLogin(cluster.adminUrl, RUNTIME_LOGIN, EMBEDDED_RUNTIME_PASSWORD);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  const migrationUrl = withDatabase(cluster.adminUrl, EMBEDDED_DATABASE_NAME);
  return {
    url: asRole(migrationUrl, RUNTIME_LOGIN, EMBEDDED_RUNTIME_PASSWORD),
    migrationUrl,
    embedded: true,
    stop: () => cluster.stop(),
  };
}

/** The embedded server listens on loopback only; its roles' passwords are fixed and printed. */
export const EMBEDDED_RUNTIME_PASSWORD = 'chairside-embedded';

/**
 * What the role at `url` may do beyond using the tables: whether it is a superuser, and which
 * tables it owns. The service warns at start when either is so (the audit trail's triggers are
 * then only as safe as that role's password).
 */
export async function roleStanding(url: string): Promise<{ role: string; superuser: boolean; ownedTables: number }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query(
      `SELECT current_user AS role, r.rolsuper AS superuser,
              (SELECT count(*)::int FROM pg_tables t WHERE t.schemaname = 'public' AND pg_has_role(current_user, t.tableowner, 'USAGE')) AS "ownedTables"
         FROM pg_roles r WHERE r.rolname = current_user`,
    );
    return rows[0];
  } finally {
    await c.end();
  }
}

/**
 * Applies every pending migration, each in its own transaction, under an advisory lock so that
 * several instances starting at once migrate one after the other. Returns the names applied.
 */
export async function runMigrations(url: string): Promise<string[]> {
  const lock = new pg.Client({ connectionString: url });
  await lock.connect();
  const ds = new DataSource(dataSourceOptions(url, 2));
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await ds.initialize();
    const applied = await ds.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    if (ds.isInitialized) await ds.destroy();
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.end();
  }
}
