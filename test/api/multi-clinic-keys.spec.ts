import { createHash, randomUUID } from 'node:crypto';
import request from 'supertest';
import {
  makePatient,
  persistClinicWithKeys,
  persistOperatorKey,
  type ClinicKeys,
} from '../factories/clinic.factory.js';
import { expectProblem } from '../support/problem.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const HEADER = 'Chairside-Clinic';

// An admin key may be given several clinics (issue: "an API key belongs to one clinic; admins may
// be given several"). It belongs to its own clinic and acts there by default; the Chairside-Clinic
// header picks another of its clinics for one request. Any other clinic looks unknown (404).
describe('admin keys for several clinics (Chairside-Clinic header)', () => {
  let t: TestApp;
  let operator: string;
  let a: ClinicKeys;
  let b: ClinicKeys;
  let c: ClinicKeys;
  let group: { id: string; key: string };
  let patientA: string;
  let patientB: string;
  let patientC: string;

  const count = async (sql: string, params: unknown[] = []) => Number((await t.dataSource.query(sql, params))[0].n);
  const newPatient = async (key: string, clinicId: string) => {
    const res = await request(t.http)
      .post('/v1/patients')
      .set(bearer(key))
      .send(makePatient({ fullName: `Pat ${clinicId.slice(0, 4)}` }));
    expect(res.status).toBe(201);
    return res.body.id as string;
  };

  beforeAll(async () => {
    t = await startTestApp();
    operator = await persistOperatorKey(t.app);
    a = await persistClinicWithKeys(t.app, { name: 'Alpha Clinic' });
    b = await persistClinicWithKeys(t.app, { name: 'Beta Clinic' });
    c = await persistClinicWithKeys(t.app, { name: 'Gamma Clinic' });
    patientA = await newPatient(a.admin, a.clinicId);
    patientB = await newPatient(b.admin, b.clinicId);
    patientC = await newPatient(c.admin, c.clinicId);
    const res = await request(t.http)
      .post('/v1/api-keys')
      .set(bearer(operator))
      .send({ name: 'Group admin', role: 'admin', clinicId: a.clinicId, additionalClinicIds: [c.clinicId] });
    expect({ status: res.status, body: res.body }).toMatchObject({
      status: 201,
      body: {
        clinicId: a.clinicId,
        additionalClinicIds: [c.clinicId],
        role: 'admin',
        key: expect.stringMatching(/^cs_/),
      },
    });
    group = { id: res.body.id, key: res.body.key };
  });
  afterAll(() => t.close());

  it('acts in its own clinic without the header, and in another of its clinics with it', async () => {
    const home = await request(t.http).get('/v1/patients').set(bearer(group.key));
    expect(home.status).toBe(200);
    expect(home.body.items.map((p: { id: string }) => p.id)).toEqual([patientA]);

    const other = await request(t.http).get('/v1/patients').set(bearer(group.key)).set(HEADER, c.clinicId);
    expect(other.status).toBe(200);
    expect(other.body.items.map((p: { id: string }) => p.id)).toEqual([patientC]);

    // Ids resolve only in the clinic the request acts in.
    expect((await request(t.http).get(`/v1/patients/${patientC}`).set(bearer(group.key))).status).toBe(404);
    expect(
      (await request(t.http).get(`/v1/patients/${patientC}`).set(bearer(group.key)).set(HEADER, c.clinicId)).status,
    ).toBe(200);
    expect(
      (await request(t.http).get(`/v1/patients/${patientA}`).set(bearer(group.key)).set(HEADER, c.clinicId)).status,
    ).toBe(404);
  });

  it('writes in the picked clinic, audited there under the same key', async () => {
    const before = await count('SELECT count(*)::int AS n FROM patients WHERE clinic_id = $1', [a.clinicId]);
    const res = await request(t.http)
      .post('/v1/patients')
      .set(bearer(group.key))
      .set(HEADER, c.clinicId)
      .send(makePatient({ fullName: 'Gamma Two' }));
    expect(res.status).toBe(201);
    expect(res.body.clinicId).toBe(c.clinicId);
    expect(await count('SELECT count(*)::int AS n FROM patients WHERE clinic_id = $1', [a.clinicId])).toBe(before);
    const audit = await t.dataSource.query(
      `SELECT clinic_id, actor_key_id, actor_role FROM audit_events WHERE action = 'patient.create' AND entity_id = $1`,
      [res.body.id],
    );
    expect(audit).toEqual([{ clinic_id: c.clinicId, actor_key_id: group.id, actor_role: 'admin' }]);
  });

  it('lists every clinic it may act in, and no other', async () => {
    const res = await request(t.http).get('/v1/clinics').set(bearer(group.key));
    expect(res.status).toBe(200);
    expect(res.body.items.map((x: { id: string }) => x.id).sort()).toEqual([a.clinicId, c.clinicId].sort());
  });

  it('a clinic it was not given answers 404 like an unknown clinic, and nothing is written', async () => {
    const patients = await count('SELECT count(*)::int AS n FROM patients');
    for (const clinic of [b.clinicId, randomUUID()]) {
      expectProblem(
        await request(t.http).get('/v1/patients').set(bearer(group.key)).set(HEADER, clinic),
        404,
        'CLINIC_NOT_FOUND',
      );
      expectProblem(
        await request(t.http).get(`/v1/patients/${patientB}`).set(bearer(group.key)).set(HEADER, clinic),
        404,
        'CLINIC_NOT_FOUND',
      );
      expectProblem(
        await request(t.http).post('/v1/patients').set(bearer(group.key)).set(HEADER, clinic).send(makePatient()),
        404,
        'CLINIC_NOT_FOUND',
      );
    }
    expect(await count('SELECT count(*)::int AS n FROM patients')).toBe(patients);
  });

  it('a single-clinic key may name its own clinic in the header, but no other', async () => {
    expect(
      (await request(t.http).get(`/v1/patients/${patientB}`).set(bearer(b.frontDesk)).set(HEADER, b.clinicId)).status,
    ).toBe(200);
    expectProblem(
      await request(t.http).get('/v1/patients').set(bearer(b.frontDesk)).set(HEADER, c.clinicId),
      404,
      'CLINIC_NOT_FOUND',
    );
  });

  it('a malformed header is a 400 naming it; a role refusal still comes first as 403', async () => {
    expectProblem(
      await request(t.http).get('/v1/patients').set(bearer(group.key)).set(HEADER, 'gamma'),
      400,
      'VALIDATION_FAILED',
      'Chairside-Clinic',
    );
    // Two header lines are joined by Node into one value, which is not a clinic id.
    const twice = await request(t.http)
      .get('/v1/patients')
      .set(bearer(group.key))
      .set(HEADER, [a.clinicId, c.clinicId] as unknown as string);
    expectProblem(twice, 400, 'VALIDATION_FAILED', 'Chairside-Clinic');
    expectProblem(
      await request(t.http)
        .post('/v1/api-keys')
        .set(bearer(b.frontDesk))
        .set(HEADER, 'gamma')
        .send({ name: 'x', role: 'admin' }),
      403,
      'FORBIDDEN',
    );
  });

  it('an operator key with the header acts in that one clinic; an unknown clinic is 404', async () => {
    const res = await request(t.http).get('/v1/patients').set(bearer(operator)).set(HEADER, b.clinicId);
    expect(res.status).toBe(200);
    expect(res.body.items.map((p: { id: string }) => p.id)).toEqual([patientB]);
    expectProblem(
      await request(t.http).get('/v1/patients').set(bearer(operator)).set(HEADER, randomUUID()),
      404,
      'CLINIC_NOT_FOUND',
    );
  });

  it('the OpenAPI document offers the header on every keyed operation, and not where no key is used', async () => {
    const doc = (await request(t.http).get('/openapi.json')).body as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
    };
    const ops = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, op })),
    );
    const has = (route: string) =>
      ops.find((o) => o.route === route)!.op.parameters?.some((p) => p.name === HEADER && p.in === 'header') ?? false;
    expect(ops.length).toBeGreaterThan(40);
    for (const route of ['GET /v1/patients', 'POST /v1/plans', 'GET /v1/sync/sessions', 'POST /v1/api-keys'])
      expect({ route, has: has(route) }).toEqual({ route, has: true });
    for (const route of ['GET /health', 'GET /v1/calendar/feeds/{token}.ics'])
      expect({ route, has: has(route) }).toEqual({ route, has: false });
  });

  describe('creating one', () => {
    const post = (key: string, body: Record<string, unknown>) =>
      request(t.http).post('/v1/api-keys').set(bearer(key)).send(body);

    it('takes an operator key: a clinic admin (even of every clinic named) gets 403 and nothing is created', async () => {
      const keys = await count('SELECT count(*)::int AS n FROM api_keys');
      expectProblem(
        await post(a.admin, { name: 'x', role: 'admin', additionalClinicIds: [c.clinicId] }),
        403,
        'FORBIDDEN',
      );
      expectProblem(
        await post(group.key, { name: 'x', role: 'admin', additionalClinicIds: [c.clinicId] }),
        403,
        'FORBIDDEN',
      );
      expect(await count('SELECT count(*)::int AS n FROM api_keys')).toBe(keys);
    });

    it('is refused with 400 naming the field for another role, a missing own clinic, the own clinic repeated, or malformed ids', async () => {
      const keys = await count('SELECT count(*)::int AS n FROM api_keys');
      expectProblem(
        await post(operator, {
          name: 'x',
          role: 'front_desk',
          clinicId: a.clinicId,
          additionalClinicIds: [c.clinicId],
        }),
        400,
        'VALIDATION_FAILED',
        'role',
      );
      expectProblem(
        await post(operator, { name: 'x', role: 'admin', additionalClinicIds: [c.clinicId] }),
        400,
        'VALIDATION_FAILED',
        'clinicId',
      );
      expectProblem(
        await post(operator, { name: 'x', role: 'admin', clinicId: a.clinicId, additionalClinicIds: [a.clinicId] }),
        400,
        'VALIDATION_FAILED',
        'additionalClinicIds',
      );
      expectProblem(
        await post(operator, { name: 'x', role: 'admin', clinicId: a.clinicId, additionalClinicIds: ['nope'] }),
        400,
        'VALIDATION_FAILED',
        'additionalClinicIds',
      );
      expectProblem(
        await post(operator, {
          name: 'x',
          role: 'admin',
          clinicId: a.clinicId,
          additionalClinicIds: [c.clinicId, c.clinicId],
        }),
        400,
        'VALIDATION_FAILED',
        'additionalClinicIds',
      );
      expectProblem(
        await post(operator, { name: 'x', role: 'admin', clinicId: a.clinicId, additionalClinicIds: null }),
        400,
        'VALIDATION_FAILED',
        'additionalClinicIds',
      );
      expect(await count('SELECT count(*)::int AS n FROM api_keys')).toBe(keys);
    });

    it('naming an unknown clinic is 404 and creates nothing', async () => {
      const keys = await count('SELECT count(*)::int AS n FROM api_keys');
      expectProblem(
        await post(operator, { name: 'x', role: 'admin', clinicId: a.clinicId, additionalClinicIds: [randomUUID()] }),
        404,
        'CLINIC_NOT_FOUND',
      );
      expect(await count('SELECT count(*)::int AS n FROM api_keys')).toBe(keys);
    });

    it('the database itself refuses a grant to a key that is not a clinic admin key, or of its own clinic', async () => {
      const frontDeskId = (
        await t.dataSource.query('SELECT id FROM api_keys WHERE key_hash = $1', [sha256(a.frontDesk)])
      )[0].id;
      const operatorId = (
        await t.dataSource.query('SELECT id FROM api_keys WHERE key_hash = $1', [sha256(operator)])
      )[0].id;
      const insert = (keyId: string, home: string | null, clinic: string) =>
        t.dataSource.query('INSERT INTO api_key_clinics (key_id, home_clinic_id, clinic_id) VALUES ($1, $2, $3)', [
          keyId,
          home,
          clinic,
        ]);
      await expect(insert(frontDeskId, a.clinicId, c.clinicId)).rejects.toThrow(/api_key_clinics_key_fk/);
      await expect(insert(operatorId, a.clinicId, c.clinicId)).rejects.toThrow(/api_key_clinics_key_fk/);
      await expect(insert(group.id, c.clinicId, b.clinicId)).rejects.toThrow(/api_key_clinics_key_fk/);
      await expect(insert(group.id, a.clinicId, a.clinicId)).rejects.toThrow(/api_key_clinics_not_home_ck/);
    });
  });

  describe('listing and revoking', () => {
    const listed = async (key: string) => {
      const res = await request(t.http).get('/v1/api-keys').query({ limit: 200 }).set(bearer(key));
      expect(res.status).toBe(200);
      return res.body.items as { id: string; clinicId: string; additionalClinicIds: string[] }[];
    };

    it("its own clinic's admin lists it (without the clinics they do not share); a granted clinic's admin learns nothing of the other clinic, but finds the grant in their audit trail", async () => {
      expect((await listed(operator)).find((k) => k.id === group.id)).toMatchObject({
        clinicId: a.clinicId,
        additionalClinicIds: [c.clinicId],
      });
      expect((await listed(a.admin)).find((k) => k.id === group.id)).toEqual(
        expect.objectContaining({ clinicId: a.clinicId, additionalClinicIds: [] }),
      );
      // The key itself, acting in C, lists itself with both clinics.
      const self = await request(t.http)
        .get('/v1/api-keys')
        .query({ limit: 200 })
        .set(bearer(group.key))
        .set(HEADER, c.clinicId);
      expect(self.body.items.find((k: { id: string }) => k.id === group.id)).toMatchObject({
        clinicId: a.clinicId,
        additionalClinicIds: [c.clinicId],
      });
      // C's admin: not in the list, and no answer anywhere names clinic A.
      const cList = await request(t.http).get('/v1/api-keys').query({ limit: 200 }).set(bearer(c.admin));
      expect(cList.body.items.map((k: { id: string }) => k.id)).not.toContain(group.id);
      expect(cList.text).not.toContain(a.clinicId);
      const cAudit = await request(t.http).get('/v1/audit').query({ entityId: group.id }).set(bearer(c.admin));
      expect(cAudit.status).toBe(200);
      expect(cAudit.body.items).toEqual([
        expect.objectContaining({ action: 'api_key.grant', entityType: 'api_key', entityId: group.id }),
      ]);
      expect(cAudit.text).not.toContain(a.clinicId);
      expect((await listed(b.admin)).map((k) => k.id)).not.toContain(group.id);
      // Single-clinic keys still show an empty list.
      expect(
        (await listed(b.admin)).every(
          (k) => Array.isArray(k.additionalClinicIds) && k.additionalClinicIds.length === 0,
        ),
      ).toBe(true);
    });

    it("only its own clinic's admin (or an operator) revokes it, everywhere at once; to any other clinic's admin it does not exist (404)", async () => {
      const revoke = (key: string) => request(t.http).delete(`/v1/api-keys/${group.id}`).set(bearer(key));
      expectProblem(await revoke(c.admin), 404, 'API_KEY_NOT_FOUND');
      expectProblem(await revoke(b.admin), 404, 'API_KEY_NOT_FOUND');
      // Acting in C, the key sees itself (it may act in A too) but is revoked in its own clinic.
      expectProblem(
        await request(t.http).delete(`/v1/api-keys/${group.id}`).set(bearer(group.key)).set(HEADER, c.clinicId),
        403,
        'FORBIDDEN',
      );
      expect((await request(t.http).get('/v1/patients').set(bearer(group.key)).set(HEADER, c.clinicId)).status).toBe(
        200,
      );
      const res = await revoke(a.admin);
      expect({ status: res.status, revoked: typeof res.body.revokedAt }).toEqual({ status: 200, revoked: 'string' });
      for (const clinic of [a.clinicId, c.clinicId]) {
        expectProblem(
          await request(t.http).get('/v1/patients').set(bearer(group.key)).set(HEADER, clinic),
          401,
          'UNAUTHENTICATED',
        );
      }
    });
  });
});
