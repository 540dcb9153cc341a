import request from 'supertest';
import {
  makePatient,
  persistClinicWithKeys,
  persistOperatorKey,
  type ClinicKeys,
} from '../factories/clinic.factory.js';
import { expectProblem } from '../support/problem.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// ---------------------------------------------------------------------------------------------
// The audit trail as an admin reads it: GET /v1/audit, with who (key, role), the route, the
// entity, before/after for updates, filters, paging, and clinic isolation.
// ---------------------------------------------------------------------------------------------

type Json = Record<string, any>;

describe('audit trail (GET /v1/audit)', () => {
  let t: TestApp;
  let A: ClinicKeys;
  let B: ClinicKeys;
  let operator: string;
  let patientA: string;
  let patientB: string;
  const api = () => request(t.http);
  const keyIdOf = async (key: string): Promise<string> =>
    (await t.dataSource.query('SELECT id FROM api_keys WHERE key_prefix = $1', [key.slice(0, 10)]))[0].id;
  const audit = async (key: string, query: Json = {}): Promise<Json> => {
    const res = await api().get('/v1/audit').query(query).set(bearer(key));
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 200 });
    return res.body;
  };

  beforeAll(async () => {
    t = await startTestApp();
    A = await persistClinicWithKeys(t.app, { name: 'Clinic A' });
    B = await persistClinicWithKeys(t.app, { name: 'Clinic B' });
    operator = await persistOperatorKey(t.app);
    patientA = (
      await api()
        .post('/v1/patients')
        .set(bearer(A.frontDesk))
        .send(makePatient({ fullName: 'Ada Audit' }))
        .expect(201)
    ).body.id;
    patientB = (
      await api()
        .post('/v1/patients')
        .set(bearer(B.frontDesk))
        .send(makePatient({ fullName: 'Bo Audit' }))
        .expect(201)
    ).body.id;
    await api().get(`/v1/patients/${patientA}`).set(bearer(A.clinician)).expect(200);
    await api()
      .patch(`/v1/patients/${patientA}`)
      .set(bearer(A.frontDesk))
      .send({ fullName: 'Ada Audited', weightKg: 70 })
      .expect(200);
  });
  afterAll(() => t.close());

  it('records who did what to a patient, by which route, newest first, with before/after for the update', async () => {
    const page = await audit(A.admin, { patientId: patientA });
    const mine = page.items.filter((e: Json) => e.action !== 'audit.read');
    expect(mine.map((e: Json) => e.action)).toEqual(['patient.update', 'patient.read', 'patient.create']);
    const [update, read, create] = mine;
    expect(update).toMatchObject({
      clinicId: A.clinicId,
      actorRole: 'front_desk',
      actorKeyId: await keyIdOf(A.frontDesk),
      entityType: 'patient',
      entityId: patientA,
      patientId: patientA,
      route: 'PATCH /v1/patients/:patientId',
      // The front desk's weight waits for a clinician: recorded as pending, not as the weight.
      changes: {
        before: { fullName: 'Ada Audit', pendingWeightKg: 72.4 },
        after: { fullName: 'Ada Audited', pendingWeightKg: 70 },
      },
    });
    expect(read).toMatchObject({ actorRole: 'clinician', route: 'GET /v1/patients/:patientId', changes: null });
    expect(create).toMatchObject({ actorRole: 'front_desk', route: 'POST /v1/patients' });
    expect(typeof update.requestId).toBe('string');
  });

  it('any page of the trail that shows a patient is a read of that patient, audited, filter or not', async () => {
    const count = async () =>
      (
        await t.dataSource.query(
          `SELECT count(*)::int AS n FROM audit_events WHERE action = 'audit.read' AND patient_id = $1`,
          [patientA],
        )
      )[0].n as number;
    const before = await count();
    const page = await audit(A.admin, { action: 'patient.update' });
    expect(page.items.some((e: Json) => e.patientId === patientA && e.changes)).toBe(true);
    expect(await count()).toBe(before + 1);
    // A page showing no patient writes nothing.
    const quiet = await t.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'audit.read'`);
    expect((await audit(A.admin, { action: 'no.such.action' })).items).toEqual([]);
    expect(await t.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'audit.read'`)).toEqual(
      quiet,
    );
  });

  it('reading the trail about a patient is itself audited', async () => {
    const before = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM audit_events WHERE action = 'audit.read' AND patient_id = $1`,
      [patientA],
    );
    await audit(A.admin, { patientId: patientA });
    const after = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM audit_events WHERE action = 'audit.read' AND patient_id = $1`,
      [patientA],
    );
    expect(after[0].n).toBe(before[0].n + 1);
  });

  it('filters by actor key and by time, and pages without gaps or repeats', async () => {
    const clinicianKeyId = await keyIdOf(A.clinician);
    const byClinician = await audit(A.admin, { actorKeyId: clinicianKeyId });
    expect(byClinician.items.length).toBeGreaterThan(0);
    expect(byClinician.items.every((e: Json) => e.actorKeyId === clinicianKeyId)).toBe(true);

    // Reading the trail writes audit.read rows as it goes (newest first, so never into later pages):
    // compare the rest.
    const others = (items: Json[]) => items.filter((e) => e.action !== 'audit.read').map((e) => e.id as string);
    const all: Json[] = (await audit(A.admin, { limit: 200 })).items;
    const seen: Json[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 50; i++) {
      const page = await audit(A.admin, { limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items);
      cursor = page.nextCursor ?? undefined;
      if (!cursor) break;
    }
    expect(others(seen)).toEqual(others(all));
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);

    expect(
      others((await audit(A.admin, { from: '2026-11-25T15:00:00Z', to: '2026-11-25T15:00:01Z', limit: 200 })).items),
    ).toEqual(others(all));
    expect((await audit(A.admin, { to: '2026-11-25T14:59:59Z' })).items).toEqual([]);
  });

  it("keeps clinics apart: a clinic admin never sees another clinic's events; an operator sees both", async () => {
    expect((await audit(A.admin, { patientId: patientB })).items).toEqual([]);
    expect((await audit(A.admin, { clinicId: B.clinicId })).items).toEqual([]);
    const aOnly = (await audit(A.admin, { limit: 200 })).items as Json[];
    expect(aOnly.every((e) => e.clinicId === A.clinicId)).toBe(true);
    const opB = (await audit(operator, { clinicId: B.clinicId, limit: 200 })).items as Json[];
    expect(opB.some((e) => e.patientId === patientB)).toBe(true);
    expect(opB.every((e) => e.clinicId === B.clinicId)).toBe(true);
  });

  it.each(['frontDesk', 'clinician'] as const)('is for admins only (%s → 403)', async (role) => {
    expectProblem(await api().get('/v1/audit').set(bearer(A[role])), 403, 'FORBIDDEN');
  });

  it('needs a key', async () => {
    expectProblem(await api().get('/v1/audit'), 401, 'UNAUTHENTICATED');
  });

  it.each([
    [{ from: 'yesterday' }, 'from'],
    [{ from: '2026-11-25T10:00:00' }, 'from'],
    [{ patientId: 'not-a-uuid' }, 'patientId'],
    [{ limit: '0' }, 'limit'],
    [{ cursor: 'garbage' }, 'cursor'],
    [{ from: '2026-11-26T00:00:00Z', to: '2026-11-25T00:00:00Z' }, 'to'],
    [{ sneaky: '1' }, 'sneaky'],
  ])('refuses %j with a 400 naming %s', async (query, field) => {
    expectProblem(await api().get('/v1/audit').query(query).set(bearer(A.admin)), 400, 'VALIDATION_FAILED', field);
  });
});
