import { createHash, randomUUID } from 'node:crypto';
import request from 'supertest';
import {
  makeClinic,
  makeStaff,
  persistClinicWithKeys,
  persistOperatorKey,
  type ClinicKeys,
} from '../factories/clinic.factory.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';
import { expectProblem } from '../support/problem.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NOW = '2026-11-25T15:00:00.000Z';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

interface KeyItem {
  id: string;
  clinicId: string | null;
  additionalClinicIds: string[];
  name: string;
  role: string;
  keyPrefix: string;
  createdAt: string;
  revokedAt: string | null;
}

describe('API keys (/v1/api-keys)', () => {
  let t: TestApp;
  let operator: string;
  let a: ClinicKeys;
  let b: ClinicKeys;

  const keyCount = async (): Promise<number> =>
    Number((await t.dataSource.query('SELECT count(*) AS n FROM api_keys'))[0].n);
  const idOf = async (key: string): Promise<string> => {
    const rows: { id: string }[] = await t.dataSource.query('SELECT id FROM api_keys WHERE key_hash = $1', [
      sha256(key),
    ]);
    expect(rows).toHaveLength(1);
    return rows[0].id;
  };
  /** Every item of GET /v1/api-keys for a key, following nextCursor. */
  const listAll = async (key: string, limit = 200): Promise<KeyItem[]> => {
    const out: KeyItem[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 200; i++) {
      const res: request.Response = await request(t.http)
        .get('/v1/api-keys')
        .query(cursor ? { limit, cursor } : { limit })
        .set(bearer(key));
      expect({ status: res.status, body: res.body }).toMatchObject({ status: 200 });
      expect(res.body.items.length).toBeLessThanOrEqual(limit);
      out.push(...res.body.items);
      cursor = res.body.nextCursor;
      if (cursor === null) return out;
    }
    throw new Error('paging did not end');
  };
  const createKey = async (key: string, body: Record<string, unknown>) => {
    const res = await request(t.http).post('/v1/api-keys').set(bearer(key)).send(body);
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 201 });
    return res.body as KeyItem & { key: string };
  };

  beforeAll(async () => {
    t = await startTestApp();
    operator = await persistOperatorKey(t.app);
    a = await persistClinicWithKeys(t.app, { name: 'Alpha Clinic' });
    b = await persistClinicWithKeys(t.app, { name: 'Beta Clinic' });
  });
  afterAll(() => t.close());

  describe('who may manage keys', () => {
    it.each(['frontDesk', 'clinician'] as const)(
      'the %s role gets 403 on every route and creates or revokes nothing',
      async (role) => {
        const before = await keyCount();
        expectProblem(
          await request(t.http).post('/v1/api-keys').set(bearer(a[role])).send({ name: 'Sneaky', role: 'admin' }),
          403,
          'FORBIDDEN',
        );
        expectProblem(await request(t.http).get('/v1/api-keys').set(bearer(a[role])), 403, 'FORBIDDEN');
        const target = await idOf(a.frontDesk);
        expectProblem(await request(t.http).delete(`/v1/api-keys/${target}`).set(bearer(a[role])), 403, 'FORBIDDEN');
        expect(await keyCount()).toBe(before);
        // The key survived the attempted revocation.
        await request(t.http).get(`/v1/clinics/${a.clinicId}`).set(bearer(a.frontDesk)).expect(200);
      },
    );

    it.each([
      ['no key', {}],
      ['a garbage key', { Authorization: 'Bearer nonsense' }],
    ])('%s gets 401 on every route', async (_label, headers) => {
      expectProblem(
        await request(t.http).post('/v1/api-keys').set(headers).send({ name: 'x', role: 'admin' }),
        401,
        'UNAUTHENTICATED',
      );
      expectProblem(await request(t.http).get('/v1/api-keys').set(headers), 401, 'UNAUTHENTICATED');
      expectProblem(await request(t.http).delete(`/v1/api-keys/${randomUUID()}`).set(headers), 401, 'UNAUTHENTICATED');
    });
  });

  describe('POST /v1/api-keys', () => {
    it('a clinic admin creates a key for its clinic: the secret is returned once and works at once for its role', async () => {
      const res = await request(t.http)
        .post('/v1/api-keys')
        .set(bearer(a.admin))
        .send({ name: 'Front desk tablet', role: 'front_desk' })
        .expect(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(UUID_RE),
        clinicId: a.clinicId,
        additionalClinicIds: [],
        name: 'Front desk tablet',
        role: 'front_desk',
        keyPrefix: res.body.key.slice(0, 10),
        createdAt: expect.any(String),
        revokedAt: null,
        key: expect.stringMatching(/^cs_[A-Za-z0-9_-]{40,}$/),
      });
      const key: string = res.body.key;
      expect(key.startsWith('cs_')).toBe(true);

      // Works immediately, with the front_desk role's rights and no more.
      const clinic = await request(t.http).get(`/v1/clinics/${a.clinicId}`).set(bearer(key)).expect(200);
      expect(clinic.body.id).toBe(a.clinicId);
      await request(t.http)
        .post('/v1/patients')
        .set(bearer(key))
        .send({ fullName: 'Via New Key', dateOfBirth: '1980-01-01' })
        .expect(201);
      expectProblem(
        await request(t.http).post(`/v1/clinics/${a.clinicId}/chairs`).set(bearer(key)).send({ name: 'Nope' }),
        403,
        'FORBIDDEN',
      );
      expectProblem(await request(t.http).get('/v1/api-keys').set(bearer(key)), 403, 'FORBIDDEN');
      // Scoped to its clinic.
      expectProblem(await request(t.http).get(`/v1/clinics/${b.clinicId}`).set(bearer(key)), 404, 'CLINIC_NOT_FOUND');
    });

    it('a new clinician key may read but not manage the clinic', async () => {
      const { key } = await createKey(a.admin, { name: 'Dr laptop', role: 'clinician' });
      await request(t.http).get(`/v1/clinics/${a.clinicId}/staff`).set(bearer(key)).expect(200);
      expectProblem(
        await request(t.http).post(`/v1/clinics/${a.clinicId}/staff`).set(bearer(key)).send(makeStaff()),
        403,
        'FORBIDDEN',
      );
    });

    it('a new clinic admin key manages its clinic (even without naming it) but is not an operator key', async () => {
      const created = await createKey(a.admin, { name: 'Second admin', role: 'admin' });
      expect(created.clinicId).toBe(a.clinicId);
      await request(t.http)
        .post(`/v1/clinics/${a.clinicId}/chairs`)
        .set(bearer(created.key))
        .send({ name: 'Made by second admin' })
        .expect(201);
      expectProblem(
        await request(t.http).post('/v1/clinics').set(bearer(created.key)).send(makeClinic()),
        403,
        'FORBIDDEN',
      );
    });

    it('a clinic admin may name its own clinic', async () => {
      const created = await createKey(a.admin, { name: 'Named own clinic', role: 'clinician', clinicId: a.clinicId });
      expect(created.clinicId).toBe(a.clinicId);
    });

    it('a clinic admin creating a key for another clinic gets 404 (as for an unknown clinic) and nothing is created', async () => {
      const before = await keyCount();
      const res = await request(t.http)
        .post('/v1/api-keys')
        .set(bearer(a.admin))
        .send({ name: 'Cross clinic', role: 'admin', clinicId: b.clinicId });
      expectProblem(res, 404, 'CLINIC_NOT_FOUND');
      const unknown = await request(t.http)
        .post('/v1/api-keys')
        .set(bearer(a.admin))
        .send({ name: 'Cross clinic', role: 'admin', clinicId: randomUUID() });
      expectProblem(unknown, 404, 'CLINIC_NOT_FOUND');
      expect(res.body.detail).toBe(unknown.body.detail);
      expect(await keyCount()).toBe(before);
    });

    it('an operator key creates a key for any clinic', async () => {
      const created = await createKey(operator, { name: 'B clinician', role: 'clinician', clinicId: b.clinicId });
      expect(created).toMatchObject({ clinicId: b.clinicId, role: 'clinician', name: 'B clinician' });
      await request(t.http).get(`/v1/clinics/${b.clinicId}`).set(bearer(created.key)).expect(200);
      expectProblem(
        await request(t.http).get(`/v1/clinics/${a.clinicId}`).set(bearer(created.key)),
        404,
        'CLINIC_NOT_FOUND',
      );
    });

    it('an operator key without clinicId creates another operator key (admin role, no clinic) that can create clinics', async () => {
      const created = await createKey(operator, { name: 'Second operator', role: 'admin' });
      expect(created.clinicId).toBeNull();
      expect(created.role).toBe('admin');
      const clinic = await request(t.http)
        .post('/v1/clinics')
        .set(bearer(created.key))
        .send(makeClinic({ name: 'Made by second operator' }))
        .expect(201);
      expect(clinic.body.name).toBe('Made by second operator');
    });

    it.each(['front_desk', 'clinician'])(
      'an operator key without clinicId and role %s gets 400 naming role, and nothing is created',
      async (role) => {
        const before = await keyCount();
        const res = await request(t.http).post('/v1/api-keys').set(bearer(operator)).send({ name: 'Clinicless', role });
        expectProblem(res, 400, 'VALIDATION_FAILED', 'role');
        expect(await keyCount()).toBe(before);
      },
    );

    it('an operator key naming an unknown clinic gets 404, and nothing is created', async () => {
      const before = await keyCount();
      const res = await request(t.http)
        .post('/v1/api-keys')
        .set(bearer(operator))
        .send({ name: 'Ghost', role: 'front_desk', clinicId: randomUUID() });
      expectProblem(res, 404, 'CLINIC_NOT_FOUND');
      expect(await keyCount()).toBe(before);
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['an unknown role', { name: 'x', role: 'superuser' }, 'role'],
      ['a staff role instead of an API role', { name: 'x', role: 'nurse' }, 'role'],
      ['a missing role', { name: 'x' }, 'role'],
      ['a null role', { name: 'x', role: null }, 'role'],
      ['an empty name', { name: '', role: 'admin' }, 'name'],
      ['a name over 100 characters', { name: 'k'.repeat(101), role: 'admin' }, 'name'],
      ['a numeric name', { name: 7, role: 'admin' }, 'name'],
      ['a missing name', { role: 'admin' }, 'name'],
      ['a malformed clinicId', { name: 'x', role: 'admin', clinicId: 'alpha' }, 'clinicId'],
      ['a client-chosen secret', { name: 'x', role: 'admin', key: 'cs_mine' }, 'key'],
      ['a client-chosen hash', { name: 'x', role: 'admin', keyHash: sha256('cs_mine') }, 'keyHash'],
      ['a client-chosen revokedAt', { name: 'x', role: 'admin', revokedAt: null }, 'revokedAt'],
    ])('refuses %s with 400 naming the field, and creates nothing', async (_label, body, field) => {
      const before = await keyCount();
      const res = await request(t.http).post('/v1/api-keys').set(bearer(a.admin)).send(body);
      expectProblem(res, 400, 'VALIDATION_FAILED', field);
      expect(await keyCount()).toBe(before);
    });

    it('stores only the SHA-256 hex of the key, never the key itself', async () => {
      const created = await createKey(a.admin, { name: 'Hash check', role: 'front_desk' });
      const [row] = await t.dataSource.query('SELECT key_hash, key_prefix FROM api_keys WHERE id = $1', [created.id]);
      expect(row.key_hash).not.toBe(created.key);
      expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(row.key_hash).toBe(createHash('sha256').update(created.key).digest('hex'));
      expect(row.key_prefix).toBe(created.key.slice(0, 10));
      // No column of any key row, nor any audit row, holds the secret.
      const [{ n }] = await t.dataSource.query(
        'SELECT (SELECT count(*) FROM api_keys k WHERE position($1 in row_to_json(k)::text) > 0) + (SELECT count(*) FROM audit_events e WHERE position($1 in row_to_json(e)::text) > 0) AS n',
        [created.key.slice(10)],
      );
      expect(Number(n)).toBe(0);
    });

    it('issues a different secret every time', async () => {
      const one = await createKey(a.admin, { name: 'Twin', role: 'front_desk' });
      const two = await createKey(a.admin, { name: 'Twin', role: 'front_desk' });
      expect(one.key).not.toBe(two.key);
      expect(one.id).not.toBe(two.id);
    });

    it('leaves an api_key.create audit row naming the key that created it', async () => {
      const created = await createKey(a.admin, { name: 'Audited', role: 'clinician' });
      const rows = await t.dataSource.query(
        "SELECT clinic_id, actor_key_id, actor_role FROM audit_events WHERE action = 'api_key.create' AND entity_id = $1",
        [created.id],
      );
      expect(rows).toEqual([{ clinic_id: a.clinicId, actor_key_id: await idOf(a.admin), actor_role: 'admin' }]);
    });
  });

  describe('GET /v1/api-keys', () => {
    it('lists keys without the secret or its hash', async () => {
      const created = await createKey(a.admin, { name: 'Listed key', role: 'clinician' });
      const items = await listAll(a.admin);
      const item = items.find((k) => k.id === created.id);
      const { key: _secret, ...withoutSecret } = created;
      expect(item).toEqual(withoutSecret);
      for (const k of items) {
        expect(Object.keys(k).sort()).toEqual([
          'additionalClinicIds',
          'clinicId',
          'createdAt',
          'id',
          'keyPrefix',
          'name',
          'revokedAt',
          'role',
        ]);
        expect(k).not.toHaveProperty('key');
        expect(k).not.toHaveProperty('keyHash');
      }
      const raw = await request(t.http).get('/v1/api-keys').query({ limit: 200 }).set(bearer(a.admin)).expect(200);
      expect(raw.text).not.toContain(created.key);
      expect(raw.text).not.toContain(sha256(created.key));
    });

    it("shows a clinic admin exactly its own clinic's keys", async () => {
      const items = await listAll(a.admin);
      const expected: { id: string }[] = await t.dataSource.query('SELECT id FROM api_keys WHERE clinic_id = $1', [
        a.clinicId,
      ]);
      expect(items.map((k) => k.id).sort()).toEqual(expected.map((r) => r.id).sort());
      expect(items.every((k) => k.clinicId === a.clinicId)).toBe(true);
      expect(items.map((k) => k.id)).not.toContain(await idOf(b.admin));
      expect(items.map((k) => k.id)).not.toContain(await idOf(operator));
      const bItems = await listAll(b.admin);
      expect(bItems.length).toBeGreaterThanOrEqual(3);
      expect(bItems.every((k) => k.clinicId === b.clinicId)).toBe(true);
    });

    it('shows an operator every key: all clinics and operator keys', async () => {
      const items = await listAll(operator);
      const all: { id: string }[] = await t.dataSource.query('SELECT id FROM api_keys');
      expect(items.map((k) => k.id).sort()).toEqual(all.map((r) => r.id).sort());
      const clinics = new Set(items.map((k) => k.clinicId));
      expect(clinics).toEqual(new Set([a.clinicId, b.clinicId, null]));
    });

    it.each([1, 2, 5])('pages with limit=%i through every key exactly once, newest first', async (limit) => {
      const paged = await listAll(operator, limit);
      const ids = paged.map((k) => k.id);
      expect(new Set(ids).size).toBe(ids.length);
      const all: { id: string }[] = await t.dataSource.query('SELECT id FROM api_keys');
      expect([...ids].sort()).toEqual(all.map((r) => r.id).sort());
      const times = paged.map((k) => Date.parse(k.createdAt));
      expect(times).toEqual([...times].sort((x, y) => y - x));
      expect(paged).toEqual(await listAll(operator, 200));
    });

    it.each<[string, Record<string, string>, string]>([
      ['a garbage cursor', { cursor: 'garbage' }, 'cursor'],
      ['a cursor of the wrong shape', { cursor: b64(['2026-11-25T15:00:00.000Z']) }, 'cursor'],
      ['a cursor with a tampered time', { cursor: b64(['not-a-time', randomUUID()]) }, 'cursor'],
      ['limit 0', { limit: '0' }, 'limit'],
      ['limit 201', { limit: '201' }, 'limit'],
      ['an unknown parameter', { role: 'admin' }, 'role'],
    ])('refuses %s with 400 naming the parameter', async (_label, query, field) => {
      const res = await request(t.http).get('/v1/api-keys').query(query).set(bearer(operator));
      expectProblem(res, 400, 'VALIDATION_FAILED', field);
    });
  });

  describe('DELETE /v1/api-keys/{id}', () => {
    it('revokes a key: 200 with revokedAt, the key gets 401 at once, the list shows it revoked', async () => {
      const created = await createKey(a.admin, { name: 'To revoke', role: 'front_desk' });
      await request(t.http).get(`/v1/clinics/${a.clinicId}`).set(bearer(created.key)).expect(200);

      const res = await request(t.http).delete(`/v1/api-keys/${created.id}`).set(bearer(a.admin)).expect(200);
      const { key: _secret, ...withoutSecret } = created;
      expect(res.body).toEqual({ ...withoutSecret, revokedAt: NOW });

      expectProblem(
        await request(t.http).get(`/v1/clinics/${a.clinicId}`).set(bearer(created.key)),
        401,
        'UNAUTHENTICATED',
      );
      expectProblem(
        await request(t.http)
          .post('/v1/patients')
          .set(bearer(created.key))
          .send({ fullName: 'x', dateOfBirth: '1980-01-01' }),
        401,
        'UNAUTHENTICATED',
      );
      const listed = (await listAll(a.admin)).find((k) => k.id === created.id);
      expect(listed).toEqual({ ...withoutSecret, revokedAt: NOW });

      const rows = await t.dataSource.query(
        "SELECT actor_key_id FROM audit_events WHERE action = 'api_key.revoke' AND entity_id = $1",
        [created.id],
      );
      expect(rows).toEqual([{ actor_key_id: await idOf(a.admin) }]);
    });

    it('revoking a revoked key again keeps the first revocation time', async () => {
      const created = await createKey(a.admin, { name: 'Twice revoked', role: 'clinician' });
      await request(t.http).delete(`/v1/api-keys/${created.id}`).set(bearer(a.admin)).expect(200);
      t.clock.set(t.clock.now().plus({ hours: 1 }));
      try {
        const again = await request(t.http).delete(`/v1/api-keys/${created.id}`).set(bearer(a.admin)).expect(200);
        expect(again.body.revokedAt).toBe(NOW);
      } finally {
        t.clock.set(t.clock.now().minus({ hours: 1 }));
      }
      expect(t.clock.now().toUTC().toISO()).toBe(NOW);
      const rows = await t.dataSource.query(
        "SELECT count(*)::int AS n FROM audit_events WHERE action = 'api_key.revoke' AND entity_id = $1",
        [created.id],
      );
      expect(rows[0].n).toBe(1);
    });

    it('a clinic admin may revoke its own key; it stops working', async () => {
      const created = await createKey(b.admin, { name: 'Self revoke', role: 'admin' });
      await request(t.http).delete(`/v1/api-keys/${created.id}`).set(bearer(created.key)).expect(200);
      expectProblem(await request(t.http).get('/v1/api-keys').set(bearer(created.key)), 401, 'UNAUTHENTICATED');
    });

    it("a clinic admin cannot revoke another clinic's key or an operator key: 404, and those keys keep working", async () => {
      const unknown = await request(t.http).delete(`/v1/api-keys/${randomUUID()}`).set(bearer(a.admin));
      expectProblem(unknown, 404, 'API_KEY_NOT_FOUND');
      for (const victim of [b.frontDesk, operator]) {
        const res = await request(t.http)
          .delete(`/v1/api-keys/${await idOf(victim)}`)
          .set(bearer(a.admin));
        expectProblem(res, 404, 'API_KEY_NOT_FOUND');
        expect(res.body.detail).toBe(unknown.body.detail);
      }
      await request(t.http).get(`/v1/clinics/${b.clinicId}`).set(bearer(b.frontDesk)).expect(200);
      await request(t.http).get('/v1/api-keys').set(bearer(operator)).expect(200);
      const [{ n }] = await t.dataSource.query(
        'SELECT count(*)::int AS n FROM api_keys WHERE key_hash = ANY($1) AND revoked_at IS NOT NULL',
        [[sha256(b.frontDesk), sha256(operator)]],
      );
      expect(n).toBe(0);
    });

    it("an operator may revoke any clinic's key", async () => {
      const created = await createKey(b.admin, { name: 'Operator revokes', role: 'front_desk' });
      await request(t.http).delete(`/v1/api-keys/${created.id}`).set(bearer(operator)).expect(200);
      expectProblem(
        await request(t.http).get(`/v1/clinics/${b.clinicId}`).set(bearer(created.key)),
        401,
        'UNAUTHENTICATED',
      );
    });

    it('is 400 naming keyId for a malformed id', async () => {
      expectProblem(
        await request(t.http).delete('/v1/api-keys/not-a-uuid').set(bearer(a.admin)),
        400,
        'VALIDATION_FAILED',
        'keyId',
      );
    });
  });
});
