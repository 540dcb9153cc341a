import request from 'supertest';
import { persistClinicWithKeys, makePatient } from '../factories/clinic.factory.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// The audit trail and published protocol versions are protected by the database itself.
describe('append-only tables', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    const keys = await persistClinicWithKeys(t.app);
    await request(t.http).post('/v1/patients').set(bearer(keys.frontDesk)).send(makePatient()).expect(201);
  });
  afterAll(() => t.close());

  it.each([
    ['UPDATE audit_events SET action = $1', ['nothing.happened']],
    ['DELETE FROM audit_events', []],
    ['TRUNCATE audit_events', []],
    ['TRUNCATE protocol_versions CASCADE', []],
  ])('refuses %s', async (sql, params) => {
    await expect(t.dataSource.query(sql, params)).rejects.toThrow(/append-only|cannot be deleted|immutable/);
    const [{ n }] = await t.dataSource.query('SELECT count(*)::int AS n FROM audit_events');
    expect(n).toBeGreaterThan(0);
  });
});
