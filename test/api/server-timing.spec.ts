import request from 'supertest';
import { loadConfig } from '../../src/config/app-config.js';
import { newPatient, setupClinic, type ClinicSetup } from '../factories/series.factory.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

/** Server-Timing entries by name, from the header. */
const entries = (header: string | undefined) =>
  Object.fromEntries(
    (header ?? '')
      .split(',')
      .map((part) => /^\s*([\w-]+);dur=([\d.]+)$/.exec(part))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], Number(m[2])]),
  );

describe('Server-Timing: where a planning answer spent its time, for operators and bench:fill', () => {
  it('is off unless SERVER_TIMING=true', () => {
    expect(loadConfig({}).serverTiming).toBe(false);
    expect(loadConfig({ SERVER_TIMING: 'true' }).serverTiming).toBe(true);
    expect(() => loadConfig({ SERVER_TIMING: 'yes' })).toThrow(/SERVER_TIMING must be true or false/);
  });

  describe.each([true, false])('with serverTiming %s', (on) => {
    let t: TestApp;
    let A: ClinicSetup;
    beforeAll(async () => {
      t = await startTestApp({ serverTiming: on });
      A = await setupClinic(t.app, t.http, 'Timing');
    }, 60_000);
    afterAll(() => t.close());

    it(on ? 'names the phases of a preview and of a refusal, with durations' : 'sends no header', async () => {
      const patientId = await newPatient(t.http, A);
      const planned = await request(t.http)
        .post('/v1/plans/preview')
        .set(bearer(A.keys.frontDesk))
        .send({ patientId, protocolId: A.protocolId, earliestStart: '2026-12-07' });
      expect(planned.status).toBe(200);
      // A window on Sundays only: the clinic is closed, so the refusal looks further ahead.
      const refused = await request(t.http)
        .post('/v1/plans/preview')
        .set(bearer(A.keys.frontDesk))
        .send({ patientId, protocolId: A.protocolId, earliestStart: '2026-12-06', startWithinDays: 1 });
      expect(refused.status).toBe(422);
      if (!on) {
        expect(planned.headers['server-timing']).toBeUndefined();
        expect(refused.headers['server-timing']).toBeUndefined();
        return;
      }
      const p = entries(planned.headers['server-timing']);
      expect(Object.keys(p).sort()).toEqual(['audit', 'auth', 'bookings', 'cache', 'engine', 'reads', 'total'].sort());
      for (const ms of Object.values(p)) expect(ms).toBeGreaterThanOrEqual(0);
      expect(p.total).toBeGreaterThanOrEqual(p.engine);
      const r = entries(refused.headers['server-timing']);
      expect(r).toHaveProperty('earliest');
      expect(refused.body.earliestStart).toEqual(expect.any(String));
    });
  });
});
