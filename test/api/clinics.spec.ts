import { createHash, randomUUID } from 'node:crypto';
import request from 'supertest';
import {
  makeClinic,
  makeStaff,
  persistClinicWithKeys,
  persistOperatorKey,
  weekdays,
  type ClinicKeys,
} from '../factories/clinic.factory.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';
import { expectProblem } from '../support/problem.js';

type Method = 'get' | 'post' | 'patch' | 'delete';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('clinics API (/v1/clinics, chairs, staff, closures)', () => {
  let t: TestApp;
  let operator: string;
  let a: ClinicKeys;
  let b: ClinicKeys;
  let revoked: string;
  /** Resources in clinic A and B created through the API in beforeAll. */
  let chairA: string;
  let staffA: string;
  let closureA: string;
  let chairB: string;
  let staffB: string;
  let closureB: string;

  const call = (method: Method, path: string) => {
    const r = request(t.http);
    switch (method) {
      case 'get':
        return r.get(path);
      case 'post':
        return r.post(path);
      case 'patch':
        return r.patch(path);
      case 'delete':
        return r.delete(path);
    }
  };
  const auditCount = async (action: string, entityId: string): Promise<number> => {
    const rows: { n: string }[] = await t.dataSource.query(
      'SELECT count(*) AS n FROM audit_events WHERE action = $1 AND entity_id = $2',
      [action, entityId],
    );
    return Number(rows[0].n);
  };

  beforeAll(async () => {
    t = await startTestApp();
    operator = await persistOperatorKey(t.app);
    a = await persistClinicWithKeys(t.app, { name: 'Alpha Clinic' });
    b = await persistClinicWithKeys(t.app, { name: 'Beta Clinic', timezone: 'Europe/Berlin' });
    const r = await persistClinicWithKeys(t.app, { name: 'Revoked Clinic' });
    revoked = r.admin;
    await t.dataSource.query('UPDATE api_keys SET revoked_at = now() WHERE key_hash = $1', [sha256(revoked)]);

    const post = async (clinicId: string, key: string, what: string, body: object) => {
      const res = await request(t.http).post(`/v1/clinics/${clinicId}/${what}`).set(bearer(key)).send(body);
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    chairA = await post(a.clinicId, a.admin, 'chairs', { name: 'Setup Chair A' });
    staffA = await post(a.clinicId, a.admin, 'staff', makeStaff({ name: 'Setup Nurse A' }));
    closureA = await post(a.clinicId, a.admin, 'closures', { startDate: '2027-03-01', reason: 'Setup closure A' });
    chairB = await post(b.clinicId, b.admin, 'chairs', { name: 'Setup Chair B' });
    staffB = await post(b.clinicId, b.admin, 'staff', makeStaff({ name: 'Setup Nurse B' }));
    closureB = await post(b.clinicId, b.admin, 'closures', { startDate: '2027-03-01', reason: 'Setup closure B' });
  });
  afterAll(() => t.close());

  /** Every route of this controller, with a body valid enough to get past validation. */
  const routes = (): [Method, string, object | undefined][] => [
    ['post', '/v1/clinics', makeClinic()],
    ['get', '/v1/clinics', undefined],
    ['get', `/v1/clinics/${a.clinicId}`, undefined],
    ['patch', `/v1/clinics/${a.clinicId}`, { name: 'Renamed' }],
    ['post', `/v1/clinics/${a.clinicId}/chairs`, { name: 'Chair X' }],
    ['get', `/v1/clinics/${a.clinicId}/chairs`, undefined],
    ['patch', `/v1/clinics/${a.clinicId}/chairs/${chairA}`, { active: false }],
    ['post', `/v1/clinics/${a.clinicId}/staff`, makeStaff()],
    ['get', `/v1/clinics/${a.clinicId}/staff`, undefined],
    ['patch', `/v1/clinics/${a.clinicId}/staff/${staffA}`, { maxConcurrentPatients: 5 }],
    ['post', `/v1/clinics/${a.clinicId}/closures`, { startDate: '2027-01-05', reason: 'x' }],
    ['get', `/v1/clinics/${a.clinicId}/closures`, undefined],
    ['delete', `/v1/clinics/${a.clinicId}/closures/${closureA}`, undefined],
  ];

  describe('authentication', () => {
    it('refuses every route without a key with 401', async () => {
      for (const [method, path, body] of routes()) {
        const req = call(method, path);
        const res = body ? await req.send(body) : await req;
        expectProblem(res, 401, 'UNAUTHENTICATED');
      }
    });

    it.each([
      ['a garbage bearer key', { Authorization: 'Bearer not-a-real-key' }],
      ['a well-formed but unknown key', { Authorization: `Bearer cs_${'A'.repeat(43)}` }],
      ['a key in another scheme', { Authorization: 'Basic dXNlcjpwYXNz' }],
      ['an empty bearer', { Authorization: 'Bearer ' }],
      ['an over-long key', { Authorization: `Bearer ${'x'.repeat(500)}` }],
    ])('refuses %s with 401', async (_label, headers) => {
      for (const [method, path, body] of routes()) {
        const req = call(method, path).set(headers);
        const res = body ? await req.send(body) : await req;
        expectProblem(res, 401, 'UNAUTHENTICATED');
      }
    });

    it('refuses a revoked key with 401, also on read routes', async () => {
      for (const [method, path, body] of routes()) {
        const req = call(method, path).set(bearer(revoked));
        const res = body ? await req.send(body) : await req;
        expectProblem(res, 401, 'UNAUTHENTICATED');
      }
    });
  });

  describe('roles', () => {
    const writes = (): [Method, string, object | undefined][] => routes().filter(([m]) => m !== 'get');

    it.each(['frontDesk', 'clinician'] as const)(
      'refuses every write to the %s role with 403 and changes nothing',
      async (role) => {
        const before = await request(t.http).get(`/v1/clinics/${a.clinicId}`).set(bearer(a.admin)).expect(200);
        const chairsBefore = await request(t.http)
          .get(`/v1/clinics/${a.clinicId}/chairs`)
          .set(bearer(a.admin))
          .expect(200);
        for (const [method, path, body] of writes()) {
          const req = call(method, path).set(bearer(a[role]));
          const res = body ? await req.send(body) : await req;
          expectProblem(res, 403, 'FORBIDDEN');
        }
        const after = await request(t.http).get(`/v1/clinics/${a.clinicId}`).set(bearer(a.admin)).expect(200);
        expect(after.body).toEqual(before.body);
        const chairsAfter = await request(t.http)
          .get(`/v1/clinics/${a.clinicId}/chairs`)
          .set(bearer(a.admin))
          .expect(200);
        expect(chairsAfter.body).toEqual(chairsBefore.body);
        const closures = await request(t.http)
          .get(`/v1/clinics/${a.clinicId}/closures`)
          .set(bearer(a.admin))
          .expect(200);
        expect(closures.body.items.map((c: { id: string }) => c.id)).toContain(closureA);
      },
    );

    it.each(['frontDesk', 'clinician', 'admin'] as const)(
      'lets the %s role read its clinic, chairs, staff and closures',
      async (role) => {
        const clinic = await request(t.http).get(`/v1/clinics/${a.clinicId}`).set(bearer(a[role])).expect(200);
        expect(clinic.body.id).toBe(a.clinicId);
        const chairs = await request(t.http).get(`/v1/clinics/${a.clinicId}/chairs`).set(bearer(a[role])).expect(200);
        expect(chairs.body.items.map((c: { id: string }) => c.id)).toContain(chairA);
        const staff = await request(t.http).get(`/v1/clinics/${a.clinicId}/staff`).set(bearer(a[role])).expect(200);
        expect(staff.body.items.map((s: { id: string }) => s.id)).toContain(staffA);
        const closures = await request(t.http)
          .get(`/v1/clinics/${a.clinicId}/closures`)
          .set(bearer(a[role]))
          .expect(200);
        expect(closures.body.items.map((c: { id: string }) => c.id)).toContain(closureA);
        const list = await request(t.http).get('/v1/clinics').set(bearer(a[role])).expect(200);
        expect(list.body.items.map((c: { id: string }) => c.id)).toEqual([a.clinicId]);
      },
    );

    it('refuses POST /v1/clinics to a clinic admin (only an operator key may create clinics)', async () => {
      const [{ n: before }] = await t.dataSource.query('SELECT count(*) AS n FROM clinics');
      const res = await request(t.http)
        .post('/v1/clinics')
        .set(bearer(a.admin))
        .send(makeClinic({ name: 'Sneaky Clinic' }));
      expectProblem(res, 403, 'FORBIDDEN');
      const [{ n: after }] = await t.dataSource.query('SELECT count(*) AS n FROM clinics');
      expect(after).toBe(before);
    });
  });

  describe('POST /v1/clinics', () => {
    it('creates a clinic with an operator key and returns it', async () => {
      const body = makeClinic({
        name: 'Fort Lauderdale',
        timezone: 'America/New_York',
        // Split shifts, touching intervals, a Saturday, and 24:00 as the end of the day.
        openingHours: [
          ...weekdays([1, 2, 3, 4, 5], '08:00', '12:00'),
          ...weekdays([1, 2, 3, 4, 5], '12:00', '18:00'),
          { weekday: 6, start: '09:00', end: '24:00' },
        ],
      });
      const res = await request(t.http).post('/v1/clinics').set(bearer(operator)).send(body).expect(201);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({
        id: expect.stringMatching(UUID_RE),
        name: 'Fort Lauderdale',
        timezone: 'America/New_York',
        openingHours: body.openingHours,
        checkInOpensDaysBefore: 0,
        maxStartsPerSlot: null,
        maxStartsPerNursePerSlot: null,
        levelling: 'off',
        version: 1,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expect(Number.isNaN(Date.parse(res.body.createdAt))).toBe(false);

      const got = await request(t.http).get(`/v1/clinics/${res.body.id}`).set(bearer(operator)).expect(200);
      expect(got.body).toEqual(res.body);
      expect(await auditCount('clinic.create', res.body.id)).toBe(1);
    });

    it.each(['UTC', 'Europe/Berlin', 'Asia/Kolkata', 'Australia/Lord_Howe', 'America/Argentina/Buenos_Aires'])(
      'accepts the IANA zone %s',
      async (timezone) => {
        const res = await request(t.http)
          .post('/v1/clinics')
          .set(bearer(operator))
          .send(makeClinic({ name: `Zone ${timezone}`, timezone }))
          .expect(201);
        expect(res.body.timezone).toBe(timezone);
      },
    );

    it('accepts a clinic with no opening hours yet', async () => {
      const res = await request(t.http)
        .post('/v1/clinics')
        .set(bearer(operator))
        .send(makeClinic({ name: 'Not open yet', openingHours: [] }))
        .expect(201);
      expect(res.body.openingHours).toEqual([]);
    });

    const iv = (weekday: unknown, start: unknown, end: unknown) => ({ weekday, start, end });
    it.each<[string, Record<string, unknown>, string]>([
      ['an unknown zone Mars/Base', { timezone: 'Mars/Base' }, 'timezone'],
      ['an unknown zone Europe/Atlantis', { timezone: 'Europe/Atlantis' }, 'timezone'],
      ['a zone with a space', { timezone: 'America/New York' }, 'timezone'],
      ['an offset instead of a zone', { timezone: '+05:00' }, 'timezone'],
      ['an empty zone', { timezone: '' }, 'timezone'],
      ['a numeric zone', { timezone: 123 }, 'timezone'],
      ['a null zone', { timezone: null }, 'timezone'],
      ['a missing zone', { timezone: undefined }, 'timezone'],
      ['a numeric name', { name: 123 }, 'name'],
      ['an empty name', { name: '' }, 'name'],
      ['a name over 200 characters', { name: 'x'.repeat(201) }, 'name'],
      ['a missing name', { name: undefined }, 'name'],
      ['opening hours that are not an array', { openingHours: 'Mon-Fri 8-18' }, 'openingHours'],
      ['missing opening hours', { openingHours: undefined }, 'openingHours'],
      [
        'overlapping intervals on one weekday',
        { openingHours: [iv(1, '08:00', '12:00'), iv(1, '11:00', '14:00')] },
        'openingHours',
      ],
      [
        'one interval inside another',
        { openingHours: [iv(3, '08:00', '18:00'), iv(3, '09:00', '10:00')] },
        'openingHours',
      ],
      ['the same interval twice', { openingHours: [iv(5, '08:00', '12:00'), iv(5, '08:00', '12:00')] }, 'openingHours'],
      [
        'overlap listed out of order among other days',
        { openingHours: [iv(2, '13:00', '17:00'), iv(1, '08:00', '12:00'), iv(2, '08:00', '13:30')] },
        'openingHours',
      ],
      ['end before start', { openingHours: [iv(1, '12:00', '08:00')] }, 'openingHours.0.end'],
      ['end equal to start', { openingHours: [iv(1, '08:00', '08:00')] }, 'openingHours.0.end'],
      ['weekday 0', { openingHours: [iv(0, '08:00', '12:00')] }, 'openingHours.0.weekday'],
      ['weekday 8', { openingHours: [iv(8, '08:00', '12:00')] }, 'openingHours.0.weekday'],
      ['a fractional weekday', { openingHours: [iv(1.5, '08:00', '12:00')] }, 'openingHours.0.weekday'],
      ['a weekday as a string', { openingHours: [iv('1', '08:00', '12:00')] }, 'openingHours.0.weekday'],
      ['start 25:00', { openingHours: [iv(1, '25:00', '26:00')] }, 'openingHours.0.start'],
      ['end 25:00', { openingHours: [iv(1, '08:00', '25:00')] }, 'openingHours.0.end'],
      ['start 24:00', { openingHours: [iv(1, '24:00', '24:00')] }, 'openingHours.0.start'],
      ['a time without a leading zero', { openingHours: [iv(1, '8:00', '12:00')] }, 'openingHours.0.start'],
      ['minute 60', { openingHours: [iv(1, '08:00', '18:60')] }, 'openingHours.0.end'],
      ['a time with seconds', { openingHours: [iv(1, '08:00:00', '12:00')] }, 'openingHours.0.start'],
      [
        'the error in the second interval',
        { openingHours: [iv(1, '08:00', '12:00'), iv(2, '08:00', '07:00')] },
        'openingHours.1.end',
      ],
      ['an unknown top-level field', { fax: '+1 555' }, 'fax'],
      ['a client-chosen id', { id: randomUUID() }, 'id'],
      ['a client-chosen version', { version: 7 }, 'version'],
      [
        'an unknown field inside an interval',
        { openingHours: [{ weekday: 1, start: '08:00', end: '12:00', note: 'x' }] },
        'openingHours.0.note',
      ],
    ])('refuses %s with 400 naming the field', async (_label, overrides, field) => {
      const [{ n: before }] = await t.dataSource.query('SELECT count(*) AS n FROM clinics');
      const res = await request(t.http)
        .post('/v1/clinics')
        .set(bearer(operator))
        .send({ ...makeClinic({ name: 'Invalid' }), ...overrides });
      expectProblem(res, 400, 'VALIDATION_FAILED', field);
      const [{ n: after }] = await t.dataSource.query('SELECT count(*) AS n FROM clinics');
      expect(after).toBe(before);
    });

    it.each([
      ['null items', [null]],
      ['number items', [1, 2]],
      ['string items', ['Mon 08:00-18:00']],
    ])('refuses opening hours with %s with 400, not 500', async (_label, openingHours) => {
      const res = await request(t.http)
        .post('/v1/clinics')
        .set(bearer(operator))
        .send({ ...makeClinic(), openingHours });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect((res.body.errors as { field: string }[]).some((e) => e.field.startsWith('openingHours'))).toBe(true);
    });

    it('reports every invalid field at once', async () => {
      const res = await request(t.http)
        .post('/v1/clinics')
        .set(bearer(operator))
        .send({ name: '', timezone: 'Mars/Base', openingHours: [iv(0, '08:00', '07:00')] });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      const fields = (res.body.errors as { field: string }[]).map((e) => e.field);
      expect(fields).toEqual(
        expect.arrayContaining(['name', 'timezone', 'openingHours.0.weekday', 'openingHours.0.end']),
      );
    });

    it('refuses a body that is not JSON with 400', async () => {
      const res = await request(t.http)
        .post('/v1/clinics')
        .set(bearer(operator))
        .set('Content-Type', 'application/json')
        .send('{"name": ');
      expectProblem(res, 400, 'MALFORMED_REQUEST');
    });

    it('refuses a NUL character in the name with 400, not 500', async () => {
      const res = await request(t.http)
        .post('/v1/clinics')
        .set(bearer(operator))
        .send(makeClinic({ name: 'Bad\u0000Name' }));
      expectProblem(res, 400, 'VALIDATION_FAILED');
    });
  });

  describe('GET /v1/clinics (paging)', () => {
    beforeAll(async () => {
      // Same names on purpose: the id breaks the tie between them across page boundaries.
      for (const name of ['Paging Same', 'Paging Same', 'Paging Same', 'Paging Zeta', 'Paging Alpha']) {
        await request(t.http).post('/v1/clinics').set(bearer(operator)).send(makeClinic({ name })).expect(201);
      }
    });

    it('with an operator key and limit=1, follows nextCursor through every clinic exactly once, in name order', async () => {
      const expected: { id: string }[] = await t.dataSource.query('SELECT id FROM clinics ORDER BY name, id');
      expect(expected.length).toBeGreaterThan(5);
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 100; page++) {
        const res: request.Response = await request(t.http)
          .get('/v1/clinics')
          .query(cursor ? { limit: 1, cursor } : { limit: 1 })
          .set(bearer(operator))
          .expect(200);
        expect(res.body.items.length).toBeLessThanOrEqual(1);
        seen.push(...res.body.items.map((c: { id: string }) => c.id));
        cursor = res.body.nextCursor;
        if (cursor === null) break;
        expect(typeof cursor).toBe('string');
      }
      expect(cursor).toBeNull();
      expect(seen).toEqual(expected.map((r) => r.id));
    });

    it('returns a full page without a cursor when everything fits', async () => {
      const res = await request(t.http).get('/v1/clinics').query({ limit: 200 }).set(bearer(operator)).expect(200);
      const [{ n }] = await t.dataSource.query('SELECT count(*) AS n FROM clinics');
      expect(res.body.items).toHaveLength(Number(n));
      expect(res.body.nextCursor).toBeNull();
      const ordered: { id: string }[] = await t.dataSource.query('SELECT id FROM clinics ORDER BY name, id');
      expect(res.body.items.map((c: { id: string }) => c.id)).toEqual(ordered.map((r) => r.id));
    });

    it('shows a clinic key only its own clinic', async () => {
      const res = await request(t.http).get('/v1/clinics').set(bearer(b.clinician)).expect(200);
      expect(res.body).toEqual({
        items: [expect.objectContaining({ id: b.clinicId, name: 'Beta Clinic', timezone: 'Europe/Berlin' })],
        nextCursor: null,
      });
    });

    it.each([
      ['plain garbage', 'garbage'],
      ['punctuation', '!!!'],
      ['an empty string', ''],
      ['an object', b64({ name: 'Alpha Clinic' })],
      ['a one-element array', b64(['Alpha Clinic'])],
      ['numbers', b64([1, 2])],
      ['a tampered id', b64(['Alpha Clinic', 'not-a-uuid'])],
    ])('refuses a cursor that is %s with 400 naming cursor', async (_label, cursor) => {
      const res = await request(t.http).get('/v1/clinics').query({ cursor }).set(bearer(operator));
      expectProblem(res, 400, 'VALIDATION_FAILED', 'cursor');
    });

    it.each([['0'], ['201'], ['abc'], ['1.5'], ['-1']])('refuses limit=%s with 400 naming limit', async (limit) => {
      const res = await request(t.http).get('/v1/clinics').query({ limit }).set(bearer(operator));
      expectProblem(res, 400, 'VALIDATION_FAILED', 'limit');
    });

    it('refuses an unknown query parameter with 400', async () => {
      const res = await request(t.http).get('/v1/clinics').query({ sort: 'name' }).set(bearer(operator));
      expectProblem(res, 400, 'VALIDATION_FAILED', 'sort');
    });
  });

  describe('GET and PATCH /v1/clinics/{id}', () => {
    let clinicId: string;
    let admin: string;
    beforeAll(async () => {
      const c = await persistClinicWithKeys(t.app, { name: 'Patchable Clinic' });
      clinicId = c.clinicId;
      admin = c.admin;
    });

    it('changes only the given fields and raises version on every change', async () => {
      const before = (await request(t.http).get(`/v1/clinics/${clinicId}`).set(bearer(admin)).expect(200)).body;
      expect(before.version).toBe(1);

      const renamed = await request(t.http)
        .patch(`/v1/clinics/${clinicId}`)
        .set(bearer(admin))
        .send({ name: 'Patched Clinic' })
        .expect(200);
      expect(renamed.body).toEqual({ ...before, name: 'Patched Clinic', version: 2, updatedAt: expect.any(String) });

      const hours = [{ weekday: 7, start: '10:00', end: '14:00' }];
      const moved = await request(t.http)
        .patch(`/v1/clinics/${clinicId}`)
        .set(bearer(admin))
        .send({ timezone: 'America/Chicago', openingHours: hours })
        .expect(200);
      expect(moved.body).toMatchObject({
        id: clinicId,
        name: 'Patched Clinic',
        timezone: 'America/Chicago',
        openingHours: hours,
        version: 3,
      });

      const got = await request(t.http).get(`/v1/clinics/${clinicId}`).set(bearer(admin)).expect(200);
      expect(got.body).toEqual(moved.body);
      expect(await auditCount('clinic.update', clinicId)).toBe(2);
    });

    it('serialises concurrent patches: each raises version once', async () => {
      const before = (await request(t.http).get(`/v1/clinics/${clinicId}`).set(bearer(admin)).expect(200)).body
        .version as number;
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          request(t.http)
            .patch(`/v1/clinics/${clinicId}`)
            .set(bearer(admin))
            .send({ name: `Concurrent ${i}` }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
      const versions = results.map((r) => r.body.version as number).sort((x, y) => x - y);
      expect(versions).toEqual(Array.from({ length: 8 }, (_, i) => before + 1 + i));
      const after = await request(t.http).get(`/v1/clinics/${clinicId}`).set(bearer(admin)).expect(200);
      expect(after.body.version).toBe(before + 8);
    });

    it('lets an operator key patch any clinic', async () => {
      const before = (await request(t.http).get(`/v1/clinics/${clinicId}`).set(bearer(operator)).expect(200)).body;
      const res = await request(t.http)
        .patch(`/v1/clinics/${clinicId}`)
        .set(bearer(operator))
        .send({ name: 'Operator Renamed' })
        .expect(200);
      expect(res.body.name).toBe('Operator Renamed');
      expect(res.body.version).toBe(before.version + 1);
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['name: null', { name: null }, 'name'],
      ['timezone: null', { timezone: null }, 'timezone'],
      ['openingHours: null', { openingHours: null }, 'openingHours'],
      ['name: 123', { name: 123 }, 'name'],
      ['an empty name', { name: '' }, 'name'],
      ['timezone Mars/Base', { timezone: 'Mars/Base' }, 'timezone'],
      [
        'overlapping opening hours',
        {
          openingHours: [
            { weekday: 1, start: '08:00', end: '12:00' },
            { weekday: 1, start: '09:00', end: '13:00' },
          ],
        },
        'openingHours',
      ],
      ['end before start', { openingHours: [{ weekday: 1, start: '12:00', end: '11:59' }] }, 'openingHours.0.end'],
      ['weekday 8', { openingHours: [{ weekday: 8, start: '08:00', end: '12:00' }] }, 'openingHours.0.weekday'],
      ['version', { version: 99 }, 'version'],
      ['an unknown field', { phone: '555' }, 'phone'],
    ])('refuses %s with 400 (not 500) and leaves the clinic unchanged', async (_label, body, field) => {
      const before = (await request(t.http).get(`/v1/clinics/${clinicId}`).set(bearer(admin)).expect(200)).body;
      const res = await request(t.http).patch(`/v1/clinics/${clinicId}`).set(bearer(admin)).send(body);
      expectProblem(res, 400, 'VALIDATION_FAILED', field);
      const after = (await request(t.http).get(`/v1/clinics/${clinicId}`).set(bearer(admin)).expect(200)).body;
      expect(after).toEqual(before);
    });
  });

  describe('bad and unknown ids', () => {
    it.each<[Method, () => string, string]>([
      ['get', () => '/v1/clinics/not-a-uuid', 'clinicId'],
      ['patch', () => '/v1/clinics/123', 'clinicId'],
      ['get', () => `/v1/clinics/${a.clinicId}x/chairs`, 'clinicId'],
      ['post', () => '/v1/clinics/abc/chairs', 'clinicId'],
      ['get', () => '/v1/clinics/abc/staff', 'clinicId'],
      ['get', () => '/v1/clinics/abc/closures', 'clinicId'],
      ['patch', () => `/v1/clinics/${a.clinicId}/chairs/chair-1`, 'chairId'],
      ['patch', () => `/v1/clinics/${a.clinicId}/staff/42`, 'staffId'],
      ['delete', () => `/v1/clinics/${a.clinicId}/closures/xmas`, 'closureId'],
    ])('%s %s is a 400 naming the path parameter', async (method, path, field) => {
      const res = await call(method, path()).set(bearer(operator)).send({});
      expectProblem(res, 400, 'VALIDATION_FAILED', field);
    });

    it.each<[Method, () => string, object, string]>([
      ['get', () => `/v1/clinics/${randomUUID()}`, {}, 'CLINIC_NOT_FOUND'],
      ['patch', () => `/v1/clinics/${randomUUID()}`, { name: 'x' }, 'CLINIC_NOT_FOUND'],
      ['get', () => `/v1/clinics/${randomUUID()}/chairs`, {}, 'CLINIC_NOT_FOUND'],
      ['post', () => `/v1/clinics/${randomUUID()}/chairs`, { name: 'x' }, 'CLINIC_NOT_FOUND'],
      ['get', () => `/v1/clinics/${randomUUID()}/staff`, {}, 'CLINIC_NOT_FOUND'],
      ['post', () => `/v1/clinics/${randomUUID()}/staff`, makeStaff(), 'CLINIC_NOT_FOUND'],
      ['get', () => `/v1/clinics/${randomUUID()}/closures`, {}, 'CLINIC_NOT_FOUND'],
      [
        'post',
        () => `/v1/clinics/${randomUUID()}/closures`,
        { startDate: '2027-01-01', reason: 'x' },
        'CLINIC_NOT_FOUND',
      ],
      ['patch', () => `/v1/clinics/${a.clinicId}/chairs/${randomUUID()}`, { name: 'x' }, 'CHAIR_NOT_FOUND'],
      ['patch', () => `/v1/clinics/${a.clinicId}/staff/${randomUUID()}`, { name: 'x' }, 'STAFF_NOT_FOUND'],
      ['delete', () => `/v1/clinics/${a.clinicId}/closures/${randomUUID()}`, {}, 'CLOSURE_NOT_FOUND'],
      // An operator names a resource of clinic B under clinic A: it is not in A.
      ['patch', () => `/v1/clinics/${a.clinicId}/chairs/${chairB}`, { name: 'x' }, 'CHAIR_NOT_FOUND'],
      ['patch', () => `/v1/clinics/${a.clinicId}/staff/${staffB}`, { name: 'x' }, 'STAFF_NOT_FOUND'],
      ['delete', () => `/v1/clinics/${a.clinicId}/closures/${closureB}`, {}, 'CLOSURE_NOT_FOUND'],
    ])('%s %s with an operator key is a 404', async (method, path, body, code) => {
      const res = await call(method, path()).set(bearer(operator)).send(body);
      expectProblem(res, 404, code);
    });

    it("answers a clinic key asking for another clinic's resources exactly as for an unknown clinic, and changes nothing", async () => {
      const unknown = await request(t.http).get(`/v1/clinics/${randomUUID()}`).set(bearer(a.admin));
      expectProblem(unknown, 404, 'CLINIC_NOT_FOUND');
      const attempts: [Method, string, object][] = [
        ['get', `/v1/clinics/${b.clinicId}`, {}],
        ['patch', `/v1/clinics/${b.clinicId}`, { name: 'Hijacked' }],
        ['get', `/v1/clinics/${b.clinicId}/chairs`, {}],
        ['post', `/v1/clinics/${b.clinicId}/chairs`, { name: 'Hijack chair' }],
        ['patch', `/v1/clinics/${b.clinicId}/chairs/${chairB}`, { active: false }],
        ['get', `/v1/clinics/${b.clinicId}/staff`, {}],
        ['post', `/v1/clinics/${b.clinicId}/staff`, makeStaff({ name: 'Hijack nurse' })],
        ['patch', `/v1/clinics/${b.clinicId}/staff/${staffB}`, { active: false }],
        ['get', `/v1/clinics/${b.clinicId}/closures`, {}],
        ['post', `/v1/clinics/${b.clinicId}/closures`, { startDate: '2027-01-01', reason: 'hijack' }],
        ['delete', `/v1/clinics/${b.clinicId}/closures/${closureB}`, {}],
      ];
      for (const [method, path, body] of attempts) {
        const res = await call(method, path).set(bearer(a.admin)).send(body);
        expectProblem(res, 404, 'CLINIC_NOT_FOUND');
        expect(res.body.detail).toBe(unknown.body.detail);
        expect(res.body.errors).toEqual(unknown.body.errors);
      }
      const clinic = await request(t.http).get(`/v1/clinics/${b.clinicId}`).set(bearer(b.admin)).expect(200);
      expect(clinic.body).toMatchObject({ name: 'Beta Clinic', version: 1 });
      const chairs = await request(t.http).get(`/v1/clinics/${b.clinicId}/chairs`).set(bearer(b.admin)).expect(200);
      expect(chairs.body.items).toEqual([{ id: chairB, clinicId: b.clinicId, name: 'Setup Chair B', active: true }]);
      const staff = await request(t.http).get(`/v1/clinics/${b.clinicId}/staff`).set(bearer(b.admin)).expect(200);
      expect(staff.body.items).toEqual([expect.objectContaining({ id: staffB, active: true })]);
      const closures = await request(t.http).get(`/v1/clinics/${b.clinicId}/closures`).set(bearer(b.admin)).expect(200);
      expect(closures.body.items.map((c: { id: string }) => c.id)).toEqual([closureB]);
    });
  });

  describe('chairs', () => {
    let clinicId: string;
    let admin: string;
    beforeAll(async () => {
      const c = await persistClinicWithKeys(t.app, { name: 'Chair Clinic' });
      clinicId = c.clinicId;
      admin = c.admin;
    });

    it('creates chairs (active by default), lists them in name order', async () => {
      const two = await request(t.http)
        .post(`/v1/clinics/${clinicId}/chairs`)
        .set(bearer(admin))
        .send({ name: 'Chair 2' })
        .expect(201);
      expect(two.body).toEqual({ id: expect.stringMatching(UUID_RE), clinicId, name: 'Chair 2', active: true });
      const one = await request(t.http)
        .post(`/v1/clinics/${clinicId}/chairs`)
        .set(bearer(admin))
        .send({ name: 'Chair 1', active: false })
        .expect(201);
      expect(one.body).toEqual({ id: expect.stringMatching(UUID_RE), clinicId, name: 'Chair 1', active: false });
      expect(await auditCount('chair.create', one.body.id)).toBe(1);

      const list = await request(t.http).get(`/v1/clinics/${clinicId}/chairs`).set(bearer(admin)).expect(200);
      expect(list.body).toEqual({ items: [one.body, two.body] });
    });

    it('refuses a duplicate chair name in the same clinic with 409 CHAIR_NAME_TAKEN', async () => {
      await request(t.http)
        .post(`/v1/clinics/${clinicId}/chairs`)
        .set(bearer(admin))
        .send({ name: 'Recliner' })
        .expect(201);
      const res = await request(t.http)
        .post(`/v1/clinics/${clinicId}/chairs`)
        .set(bearer(admin))
        .send({ name: 'Recliner' });
      expectProblem(res, 409, 'CHAIR_NAME_TAKEN');
      const list = await request(t.http).get(`/v1/clinics/${clinicId}/chairs`).set(bearer(admin)).expect(200);
      expect(list.body.items.filter((c: { name: string }) => c.name === 'Recliner')).toHaveLength(1);
    });

    it('lets exactly one of several concurrent requests for the same chair name win; the others get 409', async () => {
      const results = await Promise.all(
        Array.from({ length: 6 }, () =>
          request(t.http).post(`/v1/clinics/${clinicId}/chairs`).set(bearer(admin)).send({ name: 'Race Chair' }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
      for (const r of results.filter((x) => x.status === 409)) expectProblem(r, 409, 'CHAIR_NAME_TAKEN');
      const list = await request(t.http).get(`/v1/clinics/${clinicId}/chairs`).set(bearer(admin)).expect(200);
      expect(list.body.items.filter((c: { name: string }) => c.name === 'Race Chair')).toHaveLength(1);
    });

    it('allows the same chair name in another clinic', async () => {
      await request(t.http)
        .post(`/v1/clinics/${clinicId}/chairs`)
        .set(bearer(admin))
        .send({ name: 'Shared Name' })
        .expect(201);
      const res = await request(t.http)
        .post(`/v1/clinics/${a.clinicId}/chairs`)
        .set(bearer(a.admin))
        .send({ name: 'Shared Name' })
        .expect(201);
      expect(res.body.clinicId).toBe(a.clinicId);
    });

    it('renames and deactivates a chair; renaming onto a taken name is 409', async () => {
      const chair = (
        await request(t.http)
          .post(`/v1/clinics/${clinicId}/chairs`)
          .set(bearer(admin))
          .send({ name: 'Bay 7' })
          .expect(201)
      ).body;
      await request(t.http)
        .post(`/v1/clinics/${clinicId}/chairs`)
        .set(bearer(admin))
        .send({ name: 'Bay 8' })
        .expect(201);

      const off = await request(t.http)
        .patch(`/v1/clinics/${clinicId}/chairs/${chair.id}`)
        .set(bearer(admin))
        .send({ active: false })
        .expect(200);
      expect(off.body).toEqual({ ...chair, active: false });
      const renamed = await request(t.http)
        .patch(`/v1/clinics/${clinicId}/chairs/${chair.id}`)
        .set(bearer(admin))
        .send({ name: 'Bay 7A' })
        .expect(200);
      expect(renamed.body).toEqual({ ...chair, name: 'Bay 7A', active: false });
      // Keeping its own name is not a clash.
      await request(t.http)
        .patch(`/v1/clinics/${clinicId}/chairs/${chair.id}`)
        .set(bearer(admin))
        .send({ name: 'Bay 7A' })
        .expect(200);

      const clash = await request(t.http)
        .patch(`/v1/clinics/${clinicId}/chairs/${chair.id}`)
        .set(bearer(admin))
        .send({ name: 'Bay 8' });
      expectProblem(clash, 409, 'CHAIR_NAME_TAKEN');
      const list = await request(t.http).get(`/v1/clinics/${clinicId}/chairs`).set(bearer(admin)).expect(200);
      expect(list.body.items.find((c: { id: string }) => c.id === chair.id)).toEqual({
        ...chair,
        name: 'Bay 7A',
        active: false,
      });
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['an empty name', { name: '' }, 'name'],
      ['a numeric name', { name: 123 }, 'name'],
      ['a missing name', {}, 'name'],
      ['a name over 100 characters', { name: 'c'.repeat(101) }, 'name'],
      ['active as a string', { name: 'Chair Z', active: 'yes' }, 'active'],
      ['active: null', { name: 'Chair Z', active: null }, 'active'],
      ['an unknown field', { name: 'Chair Z', colour: 'blue' }, 'colour'],
      ['a client-chosen clinicId', { name: 'Chair Z', clinicId: randomUUID() }, 'clinicId'],
    ])('POST refuses %s with 400', async (_label, body, field) => {
      const res = await request(t.http).post(`/v1/clinics/${clinicId}/chairs`).set(bearer(admin)).send(body);
      expectProblem(res, 400, 'VALIDATION_FAILED', field);
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['name: null', { name: null }, 'name'],
      ['active: null', { active: null }, 'active'],
      ['an empty name', { name: '' }, 'name'],
      ['active: 1', { active: 1 }, 'active'],
      ['an unknown field', { seats: 2 }, 'seats'],
    ])('PATCH refuses %s with 400 (not 500) and leaves the chair unchanged', async (_label, body, field) => {
      const chair = (
        await request(t.http)
          .post(`/v1/clinics/${clinicId}/chairs`)
          .set(bearer(admin))
          .send({ name: `Patch ${_label}` })
          .expect(201)
      ).body;
      const res = await request(t.http)
        .patch(`/v1/clinics/${clinicId}/chairs/${chair.id}`)
        .set(bearer(admin))
        .send(body);
      expectProblem(res, 400, 'VALIDATION_FAILED', field);
      const list = await request(t.http).get(`/v1/clinics/${clinicId}/chairs`).set(bearer(admin)).expect(200);
      expect(list.body.items.find((c: { id: string }) => c.id === chair.id)).toEqual(chair);
    });

    it('refuses a NUL character in a chair name with 400, not 500', async () => {
      const res = await request(t.http)
        .post(`/v1/clinics/${clinicId}/chairs`)
        .set(bearer(admin))
        .send({ name: 'Chair\u0000' });
      expectProblem(res, 400, 'VALIDATION_FAILED');
    });

    it('refuses a NUL character in a closure reason with 400, not 500', async () => {
      const res = await request(t.http)
        .post(`/v1/clinics/${clinicId}/closures`)
        .set(bearer(admin))
        .send({ startDate: '2027-04-01', reason: 'Nul\u0000' });
      expectProblem(res, 400, 'VALIDATION_FAILED');
    });
  });

  describe('staff', () => {
    let clinicId: string;
    let admin: string;
    beforeAll(async () => {
      const c = await persistClinicWithKeys(t.app, { name: 'Staff Clinic' });
      clinicId = c.clinicId;
      admin = c.admin;
    });

    it('creates staff members with defaults and lists them in name order', async () => {
      const body = makeStaff({
        name: 'Maria Lopez, RN',
        availability: [...weekdays([1, 3], '07:00', '12:00'), { weekday: 3, start: '13:00', end: '19:00' }],
      });
      const maria = await request(t.http)
        .post(`/v1/clinics/${clinicId}/staff`)
        .set(bearer(admin))
        .send(body)
        .expect(201);
      expect(maria.body).toEqual({
        id: expect.stringMatching(UUID_RE),
        clinicId,
        name: 'Maria Lopez, RN',
        role: 'nurse',
        availability: body.availability,
        maxConcurrentPatients: 2,
        active: true,
      });
      const { maxConcurrentPatients: _omit, ...withoutMax } = makeStaff({ name: 'Dr. Adams', role: 'physician' });
      const adams = await request(t.http)
        .post(`/v1/clinics/${clinicId}/staff`)
        .set(bearer(admin))
        .send(withoutMax)
        .expect(201);
      expect(adams.body).toMatchObject({
        name: 'Dr. Adams',
        role: 'physician',
        maxConcurrentPatients: 1,
        active: true,
      });
      const theo = await request(t.http)
        .post(`/v1/clinics/${clinicId}/staff`)
        .set(bearer(admin))
        .send(makeStaff({ name: 'Theo Therapist', role: 'therapist', active: false, maxConcurrentPatients: 50 }))
        .expect(201);
      expect(theo.body).toMatchObject({ role: 'therapist', active: false, maxConcurrentPatients: 50 });
      expect(await auditCount('staff.create', maria.body.id)).toBe(1);

      const list = await request(t.http).get(`/v1/clinics/${clinicId}/staff`).set(bearer(admin)).expect(200);
      expect(list.body).toEqual({ items: [adams.body, maria.body, theo.body] });
    });

    it('patches availability, limit and active, keeping the other fields', async () => {
      const s = (
        await request(t.http)
          .post(`/v1/clinics/${clinicId}/staff`)
          .set(bearer(admin))
          .send(makeStaff({ name: 'Patch Nurse' }))
          .expect(201)
      ).body;
      const availability = weekdays([6, 7], '09:00', '13:00');
      const res = await request(t.http)
        .patch(`/v1/clinics/${clinicId}/staff/${s.id}`)
        .set(bearer(admin))
        .send({ availability, maxConcurrentPatients: 4 })
        .expect(200);
      expect(res.body).toEqual({ ...s, availability, maxConcurrentPatients: 4 });
      const off = await request(t.http)
        .patch(`/v1/clinics/${clinicId}/staff/${s.id}`)
        .set(bearer(admin))
        .send({ active: false, role: 'therapist' })
        .expect(200);
      expect(off.body).toEqual({ ...s, availability, maxConcurrentPatients: 4, active: false, role: 'therapist' });
      const list = await request(t.http).get(`/v1/clinics/${clinicId}/staff`).set(bearer(admin)).expect(200);
      expect(list.body.items.find((x: { id: string }) => x.id === s.id)).toEqual(off.body);
      expect(await auditCount('staff.update', s.id)).toBe(2);
    });

    const iv = (weekday: unknown, start: unknown, end: unknown) => ({ weekday, start, end });
    it.each<[string, Record<string, unknown>, string]>([
      ['an unknown role', { role: 'surgeon' }, 'role'],
      ['an API role instead of a staff role', { role: 'admin' }, 'role'],
      ['a missing role', { role: undefined }, 'role'],
      ['maxConcurrentPatients 0', { maxConcurrentPatients: 0 }, 'maxConcurrentPatients'],
      ['maxConcurrentPatients 51', { maxConcurrentPatients: 51 }, 'maxConcurrentPatients'],
      ['maxConcurrentPatients 1.5', { maxConcurrentPatients: 1.5 }, 'maxConcurrentPatients'],
      ['maxConcurrentPatients "2"', { maxConcurrentPatients: '2' }, 'maxConcurrentPatients'],
      ['maxConcurrentPatients: null', { maxConcurrentPatients: null }, 'maxConcurrentPatients'],
      ['active: null', { active: null }, 'active'],
      ['a numeric name', { name: 123 }, 'name'],
      ['missing availability', { availability: undefined }, 'availability'],
      [
        'overlapping availability',
        { availability: [iv(2, '08:00', '12:00'), iv(2, '11:30', '15:00')] },
        'availability',
      ],
      ['availability ending before it starts', { availability: [iv(2, '15:00', '08:00')] }, 'availability.0.end'],
      ['availability on weekday 0', { availability: [iv(0, '08:00', '12:00')] }, 'availability.0.weekday'],
      ['availability at 25:00', { availability: [iv(2, '08:00', '25:00')] }, 'availability.0.end'],
      ['an unknown field', { email: 'n@example.org' }, 'email'],
    ])('POST refuses %s with 400', async (_label, overrides, field) => {
      const res = await request(t.http)
        .post(`/v1/clinics/${clinicId}/staff`)
        .set(bearer(admin))
        .send({ ...makeStaff(), ...overrides });
      expectProblem(res, 400, 'VALIDATION_FAILED', field);
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['name: null', { name: null }, 'name'],
      ['role: null', { role: null }, 'role'],
      ['availability: null', { availability: null }, 'availability'],
      ['maxConcurrentPatients: null', { maxConcurrentPatients: null }, 'maxConcurrentPatients'],
      ['active: null', { active: null }, 'active'],
      ['role surgeon', { role: 'surgeon' }, 'role'],
      [
        'overlapping availability',
        { availability: [iv(4, '08:00', '12:00'), iv(4, '08:00', '09:00')] },
        'availability',
      ],
    ])('PATCH refuses %s with 400 (not 500) and leaves the staff member unchanged', async (_label, body, field) => {
      const before = (
        await request(t.http).get(`/v1/clinics/${a.clinicId}/staff`).set(bearer(a.admin)).expect(200)
      ).body.items.find((x: { id: string }) => x.id === staffA);
      const res = await request(t.http)
        .patch(`/v1/clinics/${a.clinicId}/staff/${staffA}`)
        .set(bearer(a.admin))
        .send(body);
      expectProblem(res, 400, 'VALIDATION_FAILED', field);
      const after = (
        await request(t.http).get(`/v1/clinics/${a.clinicId}/staff`).set(bearer(a.admin)).expect(200)
      ).body.items.find((x: { id: string }) => x.id === staffA);
      expect(after).toEqual(before);
    });
  });

  describe('closures', () => {
    let clinicId: string;
    let admin: string;
    const created: Record<string, { id: string }> = {};
    beforeAll(async () => {
      const c = await persistClinicWithKeys(t.app, { name: 'Closure Clinic' });
      clinicId = c.clinicId;
      admin = c.admin;
    });
    const post = (body: object) =>
      request(t.http).post(`/v1/clinics/${clinicId}/closures`).set(bearer(admin)).send(body);

    it('creates a whole-day closure (endDate defaults to startDate, no times)', async () => {
      const res = await post({ startDate: '2026-12-25', reason: 'Christmas Day' }).expect(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(UUID_RE),
        clinicId,
        startDate: '2026-12-25',
        endDate: '2026-12-25',
        startTime: null,
        endTime: null,
        reason: 'Christmas Day',
      });
      created.xmas = res.body;
      expect(await auditCount('closure.create', res.body.id)).toBe(1);
    });

    it('creates a multi-day closure across the new year', async () => {
      const res = await post({ startDate: '2026-12-31', endDate: '2027-01-02', reason: 'New Year' }).expect(201);
      expect(res.body).toMatchObject({
        startDate: '2026-12-31',
        endDate: '2027-01-02',
        startTime: null,
        endTime: null,
      });
      created.newYear = res.body;
    });

    it('creates a part-day closure', async () => {
      const res = await post({
        startDate: '2026-12-02',
        startTime: '12:00',
        endTime: '17:00',
        reason: 'Staff meeting',
      }).expect(201);
      expect(res.body).toMatchObject({
        startDate: '2026-12-02',
        endDate: '2026-12-02',
        startTime: '12:00',
        endTime: '17:00',
        reason: 'Staff meeting',
      });
      created.meeting = res.body;
    });

    it('creates a closure from one evening to the next morning (end time earlier than start time on a later day)', async () => {
      const res = await post({
        startDate: '2026-12-10',
        endDate: '2026-12-11',
        startTime: '18:00',
        endTime: '08:00',
        reason: 'Power work',
      }).expect(201);
      expect(res.body).toMatchObject({
        startDate: '2026-12-10',
        endDate: '2026-12-11',
        startTime: '18:00',
        endTime: '08:00',
      });
      created.power = res.body;
    });

    it('accepts 24:00 as the end of a part-day closure', async () => {
      const res = await post({
        startDate: '2026-12-15',
        startTime: '13:00',
        endTime: '24:00',
        reason: 'Afternoon off',
      }).expect(201);
      expect(res.body).toMatchObject({
        startDate: '2026-12-15',
        endDate: '2026-12-15',
        startTime: '13:00',
        endTime: '24:00',
      });
      created.afternoon = res.body;
    });

    it('lists closures in date order and filters by from/to (overlap with the range)', async () => {
      const ids = async (query: Record<string, string>) => {
        const res = await request(t.http)
          .get(`/v1/clinics/${clinicId}/closures`)
          .query(query)
          .set(bearer(admin))
          .expect(200);
        return res.body.items.map((x: { id: string }) => x.id);
      };
      const { xmas, newYear, meeting, power, afternoon } = created;
      expect(await ids({})).toEqual([meeting.id, power.id, afternoon.id, xmas.id, newYear.id]);
      expect(await ids({ from: '2026-12-25' })).toEqual([xmas.id, newYear.id]);
      expect(await ids({ to: '2026-12-10' })).toEqual([meeting.id, power.id]);
      // The multi-day closure overlaps a range that starts on its second day.
      expect(await ids({ from: '2026-12-11', to: '2026-12-14' })).toEqual([power.id]);
      expect(await ids({ from: '2027-01-02', to: '2027-01-31' })).toEqual([newYear.id]);
      expect(await ids({ from: '2027-01-03' })).toEqual([]);
      expect(await ids({ from: '2026-12-03', to: '2026-12-09' })).toEqual([]);
    });

    it.each<[string, Record<string, string>, string]>([
      ['a malformed from', { from: '2026-13-01' }, 'from'],
      ['a non-existent to', { to: '2026-02-30' }, 'to'],
      ['a from with a time', { from: '2026-12-01T00:00:00Z' }, 'from'],
      ['an unknown filter', { reason: 'x' }, 'reason'],
    ])('refuses %s with 400', async (_label, query, field) => {
      const res = await request(t.http).get(`/v1/clinics/${clinicId}/closures`).query(query).set(bearer(admin));
      expectProblem(res, 400, 'VALIDATION_FAILED', field);
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['endDate before startDate', { startDate: '2026-12-10', endDate: '2026-12-09', reason: 'x' }, 'endDate'],
      [
        'endTime before startTime on the same day',
        { startDate: '2026-12-10', startTime: '14:00', endTime: '13:00', reason: 'x' },
        'endTime',
      ],
      [
        'endTime equal to startTime on the same day',
        { startDate: '2026-12-10', startTime: '14:00', endTime: '14:00', reason: 'x' },
        'endTime',
      ],
      [
        'endTime before startTime with an explicit equal endDate',
        { startDate: '2026-12-10', endDate: '2026-12-10', startTime: '14:00', endTime: '09:00', reason: 'x' },
        'endTime',
      ],
      ['a startTime without an endTime', { startDate: '2026-12-10', startTime: '14:00', reason: 'x' }, 'endTime'],
      ['an endTime without a startTime', { startDate: '2026-12-10', endTime: '14:00', reason: 'x' }, 'startTime'],
      ['a non-existent date', { startDate: '2026-02-30', reason: 'x' }, 'startDate'],
      ['a date without leading zeros', { startDate: '2026-12-5', reason: 'x' }, 'startDate'],
      ['a malformed endDate', { startDate: '2026-12-05', endDate: '05/12/2026', reason: 'x' }, 'endDate'],
      ['a missing startDate', { reason: 'x' }, 'startDate'],
      ['startTime 25:00', { startDate: '2026-12-10', startTime: '25:00', endTime: '26:00', reason: 'x' }, 'startTime'],
      ['startTime 24:00', { startDate: '2026-12-10', startTime: '24:00', endTime: '24:00', reason: 'x' }, 'startTime'],
      ['a missing reason', { startDate: '2026-12-10' }, 'reason'],
      ['an empty reason', { startDate: '2026-12-10', reason: '' }, 'reason'],
      ['a numeric reason', { startDate: '2026-12-10', reason: 42 }, 'reason'],
      ['an unknown field', { startDate: '2026-12-10', reason: 'x', allDay: true }, 'allDay'],
    ])('POST refuses %s with 400 and stores nothing', async (_label, body, field) => {
      const [{ n: before }] = await t.dataSource.query('SELECT count(*) AS n FROM closures WHERE clinic_id = $1', [
        clinicId,
      ]);
      const res = await post(body);
      expectProblem(res, 400, 'VALIDATION_FAILED', field);
      const [{ n: after }] = await t.dataSource.query('SELECT count(*) AS n FROM closures WHERE clinic_id = $1', [
        clinicId,
      ]);
      expect(after).toBe(before);
    });

    it('deletes a closure with 204; it is gone, and deleting it again is 404', async () => {
      const x = (await post({ startDate: '2027-02-14', reason: 'Delete me' }).expect(201)).body;
      const res = await request(t.http)
        .delete(`/v1/clinics/${clinicId}/closures/${x.id}`)
        .set(bearer(admin))
        .expect(204);
      expect(res.text).toBe('');
      const list = await request(t.http).get(`/v1/clinics/${clinicId}/closures`).set(bearer(admin)).expect(200);
      expect(list.body.items.map((c: { id: string }) => c.id)).not.toContain(x.id);
      expect(list.body.items.map((c: { id: string }) => c.id)).toContain(created.xmas.id);
      expect(await auditCount('closure.delete', x.id)).toBe(1);
      const again = await request(t.http).delete(`/v1/clinics/${clinicId}/closures/${x.id}`).set(bearer(admin));
      expectProblem(again, 404, 'CLOSURE_NOT_FOUND');
      expect(await auditCount('closure.delete', x.id)).toBe(1);
    });
  });
});
