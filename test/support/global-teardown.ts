import { rm } from 'node:fs/promises';
import pg from 'pg';

export default async function globalTeardown(): Promise<void> {
  const adminUrl = process.env.CHAIRSIDE_TEST_ADMIN_URL;
  const template = process.env.CHAIRSIDE_TEST_TEMPLATE;
  const own = globalThis.__chairsideTestCluster;
  if (adminUrl && template && !own) {
    // An external server: leave it as we found it.
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
    await c.end();
  }
  if (own) {
    globalThis.__chairsideTestCluster = undefined;
    await own.cluster.stop();
    // The run's folder too, not only the data inside it.
    await rm(own.dir, { recursive: true, force: true });
  }
}
