import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { runMigrations } from '../../src/database/database-bootstrap.js';
import { withDatabase } from '../../src/database/embedded-postgres.js';
import { asRole, ensureRuntimeLogin } from '../../src/database/runtime-role.js';

const TEMPLATE_LOCK_KEY = 7_301_937_499;

/**
 * The login role the tests' service connects as, like the real one: a member of
 * chairside_runtime, no owner, no superuser (issue 14). Its own name, so that tests on a server
 * shared with a development database do not trip over that one's password.
 */
export const TEST_RUNTIME_LOGIN = 'chairside_test_app';
const TEST_RUNTIME_PASSWORD = 'chairside-test-runtime';

/** Set by global-setup: a server URL whose user may create databases, and the template's name. */
export function testServer(): { adminUrl: string; template: string } {
  const adminUrl = process.env.CHAIRSIDE_TEST_ADMIN_URL;
  const template = process.env.CHAIRSIDE_TEST_TEMPLATE;
  if (!adminUrl || !template) throw new Error('run the tests through jest: global-setup prepares the database');
  return { adminUrl, template };
}

async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: testServer().adminUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Creates and migrates the template database once per run (the first worker to get here does it). */
async function ensureTemplate(c: pg.Client, template: string): Promise<void> {
  await c.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY]);
  try {
    const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
    if (rowCount) return;
    await ensureRuntimeLogin(testServer().adminUrl, TEST_RUNTIME_LOGIN, TEST_RUNTIME_PASSWORD);
    const building = `${template}_building`;
    await c.query(`DROP DATABASE IF EXISTS "${building}"`);
    await c.query(`CREATE DATABASE "${building}"`);
    await runMigrations(withDatabase(testServer().adminUrl, building));
    await c.query(`ALTER DATABASE "${building}" RENAME TO "${template}"`);
  } finally {
    await c.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY]);
  }
}

/** A test database as the role that migrated it (the owner of its tables). */
export function ownerUrlOf(runtimeUrl: string): string {
  return withDatabase(testServer().adminUrl, new URL(runtimeUrl).pathname.slice(1));
}

/**
 * A fresh, migrated database for one test file, copied from the template (tens of milliseconds):
 * `url` is the service's (runtime) role, `ownerUrl` the migrating one.
 */
export async function createTestDatabase(): Promise<{ url: string; ownerUrl: string; drop: () => Promise<void> }> {
  const { adminUrl, template } = testServer();
  const name = `chairside_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(async (c) => {
    await ensureTemplate(c, template);
    await c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
  });
  const ownerUrl = withDatabase(adminUrl, name);
  return {
    url: asRole(ownerUrl, TEST_RUNTIME_LOGIN, TEST_RUNTIME_PASSWORD),
    ownerUrl,
    drop: () => withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}
