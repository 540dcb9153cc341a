import request from 'supertest';
import { persistClinicWithKeys, type ClinicKeys } from '../factories/clinic.factory.js';
import { startOwnCluster, type OwnCluster } from '../support/own-cluster.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// A database server of its own, so that this file can stop and restart it.
describe('when the database goes away', () => {
  let cluster: OwnCluster;
  let t: TestApp;
  let keys: ClinicKeys;

  beforeAll(async () => {
    cluster = await startOwnCluster('outage');
    t = await startTestApp({ databaseUrl: cluster.url, ownerUrl: cluster.ownerUrl });
    keys = await persistClinicWithKeys(t.app);
  });

  afterAll(async () => {
    await t?.close();
    await cluster?.remove();
  });

  it('reports 503 on /health and problem+json 503 on requests, then recovers when it returns', async () => {
    await request(t.http).get('/health').expect(200);
    await request(t.http).get('/v1/clinics').set(bearer(keys.admin)).expect(200);

    await cluster.stop();

    const health = await request(t.http).get('/health').expect(503);
    expect(health.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(health.body).toMatchObject({ status: 503, code: 'DATABASE_UNAVAILABLE' });
    expect(health.body.checks.database.status).toBe('down');

    const api = await request(t.http).get('/v1/clinics').set(bearer(keys.admin)).expect(503);
    expect(api.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(api.body).toMatchObject({ status: 503, code: 'DATABASE_UNAVAILABLE' });
    expect(JSON.stringify(api.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|stack/);

    // The same server comes back on the same port.
    await cluster.start();

    await request(t.http).get('/health').expect(200);
    const back = await request(t.http).get('/v1/clinics').set(bearer(keys.admin)).expect(200);
    expect(back.body.items).toHaveLength(1);
  });
});
