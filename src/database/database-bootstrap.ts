import path from 'node:path';
import pg from 'pg';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';
import { dataSourceOptions } from './data-source-options.js';
import { ensureDatabase, startEmbeddedPostgres, withDatabase } from './embedded-postgres.js';

export const EMBEDDED_DATABASE_NAME = 'chairside';
const MIGRATION_LOCK_KEY = 7_301_937_411; // arbitrary, constant: serialises migrations across instances

export interface OpenDatabase {
  url: string;
  embedded: boolean;
  /** Stops the embedded server, if one was started. */
  stop(): Promise<void>;
}

/**
 * Returns the database to use: DATABASE_URL when set, otherwise an embedded PostgreSQL whose data
 * lives under the project's data directory (created on first start, reused afterwards).
 */
export async function openDatabase(config: AppConfig, log: (line: string) => void = () => undefined): Promise<OpenDatabase> {
  if (config.databaseUrl) {
    return { url: config.databaseUrl, embedded: false, stop: async () => undefined };
  }
  const cluster = await startEmbeddedPostgres(path.join(config.dataDir, 'postgres'), { onLog: log });
  try {
    await ensureDatabase(cluster.adminUrl, EMBEDDED_DATABASE_NAME);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return { url: withDatabase(cluster.adminUrl, EMBEDDED_DATABASE_NAME), embedded: true, stop: () => cluster.stop() };
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
