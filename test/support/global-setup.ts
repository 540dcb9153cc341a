import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { EmbeddedCluster } from '../../src/database/embedded-postgres.js';

// Jest loads this file with Node's own resolver, which cannot map our `.js` imports to `.ts`
// sources; a `require` of the `.ts` file itself goes through Jest's transform (its hook is in place
// while this runs), and embedded-postgres.ts imports packages only. The workers migrate (see
// test-database.ts).
type EmbeddedPostgresModule = typeof import('../../src/database/embedded-postgres.js');

declare global {
  var __chairsideTestCluster: { cluster: EmbeddedCluster; dir: string } | undefined;
}

/**
 * Once per test run: a real, throwaway PostgreSQL cluster, unless DATABASE_URL names a server
 * to use instead. Each test file then gets its own database copied from a migrated template.
 * The same start code as `npm start`'s, so that `npm test` works from any folder too (issue 14).
 */
export default async function globalSetup(): Promise<void> {
  process.env.CHAIRSIDE_TEST_TEMPLATE = `chairside_template_${process.pid}`;
  if (process.env.DATABASE_URL) {
    process.env.CHAIRSIDE_TEST_ADMIN_URL = process.env.DATABASE_URL;
    return;
  }
  const { startEmbeddedPostgres } = createRequire(import.meta.url)(
    '../../src/database/embedded-postgres.ts',
  ) as EmbeddedPostgresModule;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chairside-test-'));
  try {
    const cluster = await startEmbeddedPostgres(path.join(dir, 'pg'), {
      persistent: false,
      // Throwaway data: durability buys nothing here.
      settings: ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off', 'max_connections=200'],
    });
    globalThis.__chairsideTestCluster = { cluster, dir };
    process.env.CHAIRSIDE_TEST_ADMIN_URL = cluster.adminUrl;
  } catch (err) {
    await import('node:fs/promises').then((fs) => fs.rm(dir, { recursive: true, force: true }));
    throw err;
  }
}
