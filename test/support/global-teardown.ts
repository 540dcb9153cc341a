import pg from 'pg';

export default async function globalTeardown(): Promise<void> {
  const adminUrl = process.env.CHAIRSIDE_TEST_ADMIN_URL;
  const template = process.env.CHAIRSIDE_TEST_TEMPLATE;
  if (adminUrl && template && !globalThis.__chairsideTestCluster) {
    // An external server: leave it as we found it.
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
    await c.end();
  }
  await globalThis.__chairsideTestCluster?.stop();
}
