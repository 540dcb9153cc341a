import request from 'supertest';
import { persistClinicWithKeys, persistOperatorKey, type ClinicKeys } from '../factories/clinic.factory.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

const PUBLIC_PATHS = new Set(['/health', '/v1/calendar/feeds/{token}.ics']);
const SAMPLE_UUID = '00000000-0000-4000-8000-000000000000';

interface Operation {
  method: string;
  path: string;
  op: { responses: Record<string, unknown>; security?: unknown[]; summary?: string };
}

describe('HTTP conventions', () => {
  let t: TestApp;
  let keys: ClinicKeys;
  let operations: Operation[];

  beforeAll(async () => {
    t = await startTestApp();
    keys = await persistClinicWithKeys(t.app);
    const spec = await request(t.http).get('/openapi.json').expect(200);
    operations = Object.entries(spec.body.paths as Record<string, Record<string, Operation['op']>>).flatMap(
      ([path, methods]) => Object.entries(methods).map(([method, op]) => ({ method, path, op })),
    );
  });
  afterAll(() => t.close());

  const concrete = (path: string) => path.replace(/\{[^}]+\}/g, SAMPLE_UUID);

  it('documents the API in OpenAPI, with a UI at /docs', async () => {
    expect(operations.length).toBeGreaterThanOrEqual(18);
    const paths = new Set(operations.map((o) => `${o.method.toUpperCase()} ${o.path}`));
    for (const expected of [
      'GET /health',
      'POST /v1/clinics',
      'PATCH /v1/clinics/{clinicId}',
      'POST /v1/clinics/{clinicId}/chairs',
      'GET /v1/clinics/{clinicId}/staff',
      'POST /v1/clinics/{clinicId}/closures',
      'GET /v1/patients',
      'PATCH /v1/patients/{patientId}',
      'DELETE /v1/api-keys/{keyId}',
    ]) {
      expect(paths).toContain(expected);
    }
    const ui = await request(t.http).get('/docs').redirects(1).expect(200);
    expect(ui.text).toMatch(/swagger/i);
  });

  it('documents a success and an error response for every operation, and 401/403 for every protected one', () => {
    for (const { path, method, op } of operations) {
      const codes = Object.keys(op.responses);
      expect({ route: `${method} ${path}`, hasSuccess: codes.some((c) => /^2\d\d$/.test(c)) }).toEqual({
        route: `${method} ${path}`,
        hasSuccess: true,
      });
      if (!PUBLIC_PATHS.has(path)) {
        expect({ route: `${method} ${path}`, codes: codes.filter((c) => c === '401' || c === '403') }).toEqual({
          route: `${method} ${path}`,
          codes: ['401', '403'],
        });
        expect(op.security).toBeDefined();
      }
    }
  });

  it('refuses every non-public route without a key, and with an unknown key, as 401 problem+json', async () => {
    const protectedOps = operations.filter((o) => !PUBLIC_PATHS.has(o.path));
    expect(protectedOps.length).toBeGreaterThan(10);
    for (const { method, path } of protectedOps) {
      for (const headers of [{}, bearer('cs_not-a-real-key'), { Authorization: 'Basic abc' }]) {
        const res = await request(t.http)[method as 'get'](concrete(path)).set(headers).send({});
        expect({ route: `${method} ${path}`, status: res.status }).toEqual({ route: `${method} ${path}`, status: 401 });
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body.code).toBe('UNAUTHENTICATED');
      }
    }
  });

  it("answers with its own request id, whatever id the caller sends (the caller's is kept beside it)", async () => {
    const res = await request(t.http).get('/health').set('x-request-id', 'trace-123').expect(200);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const generated = await request(t.http).get('/health').set('x-request-id', 'bad id with spaces').expect(200);
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated.headers['x-request-id']).not.toBe(res.headers['x-request-id']);
  });

  describe('malformed input is a 4xx problem+json, never a 500', () => {
    const json = { 'Content-Type': 'application/json' };
    it.each([
      [
        'malformed JSON',
        () => request(t.http).post('/v1/patients').set(bearer(keys.frontDesk)).set(json).send('{"fullName": '),
        400,
        'MALFORMED_REQUEST',
      ],
      [
        'a JSON array',
        () => request(t.http).post('/v1/patients').set(bearer(keys.frontDesk)).set(json).send('[1,2]'),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'a bare JSON string',
        () => request(t.http).post('/v1/patients').set(bearer(keys.frontDesk)).set(json).send('"x"'),
        400,
        'MALFORMED_REQUEST',
      ],
      [
        'an empty body',
        () => request(t.http).post('/v1/patients').set(bearer(keys.frontDesk)).set(json).send(''),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'a body over 1 MB',
        () =>
          request(t.http)
            .post('/v1/patients')
            .set(bearer(keys.frontDesk))
            .set(json)
            .send(JSON.stringify({ notes: 'x'.repeat(1_100_000) })),
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'a form body',
        () => request(t.http).post('/v1/patients').set(bearer(keys.frontDesk)).type('form').send('fullName=x'),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'wrong types',
        () =>
          request(t.http)
            .post('/v1/patients')
            .set(bearer(keys.frontDesk))
            .send({ fullName: 12, dateOfBirth: true, weightKg: '70' }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'nested wrong types',
        () =>
          request(t.http)
            .post('/v1/patients')
            .set(bearer(keys.frontDesk))
            .send({ fullName: 'A', dateOfBirth: '1990-01-01', unavailable: [{ weekday: 'mon' }, 7, null] }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'an unknown field',
        () =>
          request(t.http)
            .post('/v1/patients')
            .set(bearer(keys.frontDesk))
            .send({ fullName: 'A', dateOfBirth: '1990-01-01', isAdmin: true }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'a bad UUID in the path',
        () => request(t.http).get('/v1/patients/not-a-uuid').set(bearer(keys.frontDesk)),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'a non-numeric limit',
        () => request(t.http).get('/v1/patients?limit=ten').set(bearer(keys.frontDesk)),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'a repeated query parameter',
        () => request(t.http).get('/v1/patients?q=a&q=b').set(bearer(keys.frontDesk)),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'an unknown query parameter',
        () => request(t.http).get('/v1/patients?sort=name').set(bearer(keys.frontDesk)),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'a forged cursor',
        () => request(t.http).get('/v1/patients?cursor=abc').set(bearer(keys.frontDesk)),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'an unknown route',
        () => request(t.http).get('/v1/no-such-thing').set(bearer(keys.frontDesk)),
        404,
        'ROUTE_NOT_FOUND',
      ],
      [
        'an unknown method on a known path',
        () => request(t.http).put('/v1/patients').set(bearer(keys.frontDesk)).send({}),
        404,
        'ROUTE_NOT_FOUND',
      ],
    ])('%s', async (_name, send, status, code) => {
      const res = await send();
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({
        status,
        code,
        type: expect.stringMatching(/^urn:chairside:problem:/),
        title: expect.any(String),
        detail: expect.any(String),
      });
      if (code === 'VALIDATION_FAILED') {
        expect(res.body.errors.length).toBeGreaterThan(0);
        for (const e of res.body.errors) expect(e).toEqual({ field: expect.any(String), message: expect.any(String) });
      }
    });

    it('refuses __proto__ in a body as an unknown field, without polluting prototypes', async () => {
      const res = await request(t.http)
        .post('/v1/patients')
        .set(bearer(keys.frontDesk))
        .set(json)
        .send('{"fullName":"Proto Test","dateOfBirth":"1990-01-01","__proto__":{"polluted":1}}')
        .expect(400);
      expect(res.body.errors).toEqual([{ field: '__proto__', message: 'is not a known field' }]);
      expect(res.body.polluted).toBeUndefined();
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('names each bad field in errors[]', async () => {
      const res = await request(t.http)
        .post('/v1/patients')
        .set(bearer(keys.frontDesk))
        .send({
          fullName: 'A',
          dateOfBirth: '1990-13-01',
          unavailable: [{ weekday: 8, start: '09:00', end: '08:00' }],
          extra: 1,
        })
        .expect(400);
      const fields = res.body.errors.map((e: { field: string }) => e.field);
      expect(fields).toEqual(
        expect.arrayContaining(['dateOfBirth', 'unavailable.0.weekday', 'unavailable.0.end', 'extra']),
      );
    });

    it('writes nothing for a refused request', async () => {
      await request(t.http)
        .post('/v1/patients')
        .set(bearer(keys.frontDesk))
        .send({ fullName: 'Nobody', dateOfBirth: '2999-01-01' })
        .expect(400);
      const rows = await t.dataSource.query(`SELECT count(*)::int AS n FROM patients WHERE full_name = 'Nobody'`);
      expect(rows[0].n).toBe(0);
    });
  });

  it('scopes an operator key to every clinic and a clinic key to its own', async () => {
    const operator = await persistOperatorKey(t.app);
    const other = await persistClinicWithKeys(t.app, { name: 'Other Clinic' });
    const all = await request(t.http).get('/v1/clinics').set(bearer(operator)).expect(200);
    expect(all.body.items.map((c: { id: string }) => c.id).sort()).toEqual([keys.clinicId, other.clinicId].sort());
    const own = await request(t.http).get('/v1/clinics').set(bearer(keys.frontDesk)).expect(200);
    expect(own.body.items.map((c: { id: string }) => c.id)).toEqual([keys.clinicId]);
    await request(t.http).get(`/v1/clinics/${other.clinicId}`).set(bearer(keys.admin)).expect(404);
  });
});
