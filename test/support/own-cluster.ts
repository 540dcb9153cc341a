import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runMigrations } from '../../src/database/database-bootstrap.js';
import {
  ensureDatabase,
  startEmbeddedPostgres,
  withDatabase,
  type EmbeddedCluster,
} from '../../src/database/embedded-postgres.js';
import { asRole, ensureRuntimeLogin, RUNTIME_LOGIN } from '../../src/database/runtime-role.js';

/** A PostgreSQL server of a test file's own, with a migrated database, that the test may stop and start. */
export interface OwnCluster {
  /** The migrated database, as the service's role (chairside_app, like the embedded database's). */
  url: string;
  /** The same, as its owner. */
  ownerUrl: string;
  /** Stops the server (the data stays). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  remove(): Promise<void>;
}

export async function startOwnCluster(name: string): Promise<OwnCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `chairside-${name}-`));
  const dataDir = path.join(dir, 'pg');
  let cluster: EmbeddedCluster = await startEmbeddedPostgres(dataDir);
  await ensureDatabase(cluster.adminUrl, name);
  const ownerUrl = withDatabase(cluster.adminUrl, name);
  await runMigrations(ownerUrl);
  await ensureRuntimeLogin(cluster.adminUrl, RUNTIME_LOGIN, 'chairside-own-cluster');
  const url = asRole(ownerUrl, RUNTIME_LOGIN, 'chairside-own-cluster');
  let running = true;
  const stop = async () => {
    if (!running) return;
    await cluster.stop();
    running = false;
  };
  return {
    url,
    ownerUrl,
    stop,
    async remove() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    async start() {
      if (running) return;
      cluster = await startEmbeddedPostgres(dataDir, { port: cluster.port });
      running = true;
    },
  };
}
