import { chmodSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runMigrations } from '../../src/database/database-bootstrap.js';
import { ensureDatabase, startEmbeddedPostgres, withDatabase, type EmbeddedCluster } from '../../src/database/embedded-postgres.js';

/** A PostgreSQL server of a test file's own, with a migrated database, that the test may stop and start. */
export interface OwnCluster {
  /** The migrated database. */
  url: string;
  /** Stops the server (the data stays). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
}

export async function startOwnCluster(name: string): Promise<OwnCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `chairside-${name}-`));
  chmodSync(dir, 0o755);
  const dataDir = path.join(dir, 'pg');
  let cluster: EmbeddedCluster = await startEmbeddedPostgres(dataDir);
  await ensureDatabase(cluster.adminUrl, name);
  const url = withDatabase(cluster.adminUrl, name);
  await runMigrations(url);
  let running = true;
  return {
    url,
    async stop() {
      if (!running) return;
      await cluster.stop();
      running = false;
    },
    async start() {
      if (running) return;
      cluster = await startEmbeddedPostgres(dataDir, { port: cluster.port });
      running = true;
    },
  };
}
