import request from 'supertest';
import { setupClinic, bookPlan, type ClinicSetup } from '../factories/series.factory.js';
import { expectProblem } from '../support/problem.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';
import { logSink } from '../support/log-sink.js';

// ---------------------------------------------------------------------------------------------
// What a security probe found: patient data cacheable, prototype-polluting keys passed over in
// silence, and a client's X-Request-Id replacing ours in the logs and the audit trail.
// ---------------------------------------------------------------------------------------------

type Json = Record<string, any>;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('security probe findings', () => {
  let t: TestApp;
  let A: ClinicSetup;
  let plan: Json;
  const { lines, sink } = logSink();
  const api = () => request(t.http);

  beforeAll(async () => {
    t = await startTestApp({ logLevel: 'info', logDestination: sink });
    A = await setupClinic(t.app, t.http, 'Probe Clinic');
    plan = await bookPlan(t.http, A, { protocolId: A.shortProtocolId, earliestStart: '2026-11-30' });
  }, 60_000);
  afterAll(() => t.close());

  describe('Cache-Control: no-store on every answer carrying patient data', () => {
    it.each([
      ['GET one patient', () => api().get(`/v1/patients/${plan.patientId}`).set(bearer(A.keys.frontDesk)), 200],
      ['search patients', () => api().get('/v1/patients?q=pat').set(bearer(A.keys.frontDesk)), 200],
      [
        'register a patient',
        () =>
          api()
            .post('/v1/patients')
            .set(bearer(A.keys.frontDesk))
            .send({ fullName: 'Cache Probe', dateOfBirth: '1990-01-01' }),
        201,
      ],
      [
        'change a patient',
        () =>
          api().patch(`/v1/patients/${plan.patientId}`).set(bearer(A.keys.frontDesk)).send({ phone: '+1 555 0101' }),
        200,
      ],
      ['a plan', () => api().get(`/v1/plans/${plan.id}`).set(bearer(A.keys.frontDesk)), 200],
      ["a patient's plans", () => api().get(`/v1/patients/${plan.patientId}/plans`).set(bearer(A.keys.frontDesk)), 200],
      ['a session', () => api().get(`/v1/sessions/${plan.sessions[0].id}`).set(bearer(A.keys.frontDesk)), 200],
      ['the audit trail', () => api().get('/v1/audit').set(bearer(A.keys.admin)), 200],
      ['a refusal', () => api().post('/v1/patients').set(bearer(A.keys.frontDesk)).send({ fullName: 'X' }), 400],
    ])('%s', async (_name, call, status) => {
      const res = await call();
      expect(res.status).toBe(status);
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('calendar feeds keep their own private caching for calendar apps', async () => {
      const feed = await api()
        .post('/v1/calendar/feeds')
        .set(bearer(A.keys.frontDesk))
        .send({ scope: 'clinic' })
        .expect(201);
      const res = await api()
        .get(new URL(feed.body.url as string).pathname)
        .expect(200);
      expect(res.headers['cache-control']).toBe('private, max-age=300');
    });
  });

  describe('__proto__ and constructor are unknown fields (400), like any other', () => {
    const patients = async () => Number((await t.dataSource.query('SELECT count(*) AS n FROM patients'))[0].n);
    const raw = (method: 'post' | 'patch', path: string, body: string) =>
      api()[method](path).set(bearer(A.keys.clinician)).set('Content-Type', 'application/json').send(body);

    it.each([
      [
        '__proto__ at the top',
        '{"fullName":"Proto Probe","dateOfBirth":"1990-01-01","__proto__":{"weightKg":400}}',
        '__proto__',
      ],
      [
        'constructor at the top',
        '{"fullName":"Proto Probe","dateOfBirth":"1990-01-01","constructor":{"prototype":{"x":1}}}',
        'constructor',
      ],
      [
        '__proto__ nested',
        '{"fullName":"Proto Probe","dateOfBirth":"1990-01-01","unavailable":[{"weekday":1,"start":"08:00","end":"09:00","__proto__":{"x":1}}]}',
        'unavailable.0.__proto__',
      ],
      ['__proto__: null', '{"fullName":"Proto Probe","dateOfBirth":"1990-01-01","__proto__":null}', '__proto__'],
    ])('POST with %s: 400 naming the field, nothing written', async (_name, body, field) => {
      const before = await patients();
      const res = await raw('post', '/v1/patients', body);
      expectProblem(res, 400, 'VALIDATION_FAILED', field);
      expect(res.body.errors).toContainEqual({ field, message: 'is not a known field' });
      expect(await patients()).toBe(before);
    });

    it('PATCH with __proto__ changes nothing', async () => {
      const before = (await api().get(`/v1/patients/${plan.patientId}`).set(bearer(A.keys.clinician)).expect(200)).body;
      expectProblem(
        await raw('patch', `/v1/patients/${plan.patientId}`, '{"__proto__":{"weightKg":300},"notes":"x"}'),
        400,
        'VALIDATION_FAILED',
        '__proto__',
      );
      const after = (await api().get(`/v1/patients/${plan.patientId}`).set(bearer(A.keys.clinician)).expect(200)).body;
      expect(after.version).toBe(before.version);
    });

    it('in a query string too', async () => {
      expectProblem(
        await api().get('/v1/patients?__proto__=x').set(bearer(A.keys.frontDesk)),
        400,
        'VALIDATION_FAILED',
        '__proto__',
      );
      expectProblem(
        await api().get('/v1/patients?constructor=x').set(bearer(A.keys.frontDesk)),
        400,
        'VALIDATION_FAILED',
        'constructor',
      );
    });
  });

  describe("our request id names the request; the client's X-Request-Id is kept beside it", () => {
    it('in the answer, the log line and the audit trail', async () => {
      const res = await api()
        .get(`/v1/patients/${plan.patientId}`)
        .set(bearer(A.keys.clinician))
        .set('x-request-id', 'client-trace-42')
        .expect(200);
      const ours = res.headers['x-request-id'];
      expect(ours).toMatch(UUID_RE);
      const rows: Json[] = await t.dataSource.query(
        `SELECT request_id, client_request_id, action FROM audit_events WHERE patient_id = $1 AND request_id = $2`,
        [plan.patientId, ours],
      );
      expect(rows).toEqual([{ request_id: ours, client_request_id: 'client-trace-42', action: 'patient.read' }]);
      const listed = await api()
        .get(`/v1/audit?patientId=${plan.patientId}&action=patient.read&limit=1`)
        .set(bearer(A.keys.admin))
        .expect(200);
      expect(listed.body.items[0]).toMatchObject({ requestId: ours, clientRequestId: 'client-trace-42' });

      await new Promise((r) => setTimeout(r, 50)); // pino writes asynchronously
      const line = lines.map((l) => JSON.parse(l)).find((l) => l.req?.id === ours);
      expect(line).toMatchObject({ req: { id: ours, clientRequestId: 'client-trace-42' } });
    });

    it('two requests with the same client id stay two requests', async () => {
      const a = await api()
        .get(`/v1/patients/${plan.patientId}`)
        .set(bearer(A.keys.clinician))
        .set('x-request-id', 'dup-1')
        .expect(200);
      const b = await api()
        .get(`/v1/patients/${plan.patientId}`)
        .set(bearer(A.keys.clinician))
        .set('x-request-id', 'dup-1')
        .expect(200);
      expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
      const rows: Json[] = await t.dataSource.query(
        `SELECT DISTINCT request_id FROM audit_events WHERE client_request_id = 'dup-1'`,
      );
      expect(rows).toHaveLength(2);
    });

    it("a problem body's requestId is ours; an ill-formed or overlong client id is not kept", async () => {
      const res = await api()
        .get('/v1/patients/00000000-0000-4000-8000-000000000000')
        .set(bearer(A.keys.clinician))
        .set('x-request-id', 'bad id <script>');
      expectProblem(res, 404, 'PATIENT_NOT_FOUND');
      expect(res.body.requestId).toBe(res.headers['x-request-id']);
      expect(res.body.requestId).toMatch(UUID_RE);
      const long = await api()
        .get(`/v1/patients/${plan.patientId}`)
        .set(bearer(A.keys.clinician))
        .set('x-request-id', 'x'.repeat(101))
        .expect(200);
      const rows: Json[] = await t.dataSource.query(
        `SELECT client_request_id FROM audit_events WHERE request_id = $1`,
        [long.headers['x-request-id']],
      );
      expect(rows).toEqual([{ client_request_id: null }]);
    });
  });
});
