import request from 'supertest';
import { makePatient } from '../factories/clinic.factory.js';
import { setupClinic, type ClinicSetup } from '../factories/series.factory.js';
import { expectProblem } from '../support/problem.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// ---------------------------------------------------------------------------------------------
// Weight tailoring is a clinician's: mg/kg doses are computed from a clinician-confirmed weight.
// A weight the front desk enters is recorded (and audited) as pending and is not used for doses;
// a booking or preview whose mg/kg doses would need it is refused (409 WEIGHT_UNCONFIRMED) until
// a clinician or admin confirms it (PATCH with the weight). The demo protocol doses 0.5 mg/kg.
// ---------------------------------------------------------------------------------------------

type Json = Record<string, any>;

describe('patient weight: front-desk entries wait for a clinician', () => {
  let t: TestApp;
  let A: ClinicSetup;
  const api = () => request(t.http);
  const patch = (key: string, id: string, body: Json) => api().patch(`/v1/patients/${id}`).set(bearer(key)).send(body);
  const getPatient = async (id: string) =>
    (await api().get(`/v1/patients/${id}`).set(bearer(A.keys.clinician)).expect(200)).body as Json;
  const create = async (key: string, body: Json = {}) =>
    (await api().post('/v1/patients').set(bearer(key)).send(makePatient(body)).expect(201)).body as Json;
  const infusionMg = (plan: Json) =>
    (plan.sessions as Json[]).filter((s) => s.kind === 'infusion').map((s) => s.dose.totalMg as number);
  const planCount = async (patientId: string) =>
    Number((await t.dataSource.query('SELECT count(*) AS n FROM plans WHERE patient_id = $1', [patientId]))[0].n);

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-11-25T15:00:00Z' });
    A = await setupClinic(t.app, t.http, 'Weight Clinic');
  }, 60_000);
  afterAll(() => t.close());

  it('a front-desk PATCH of weightKg is recorded as pending and never doses; booking says WEIGHT_UNCONFIRMED until a clinician confirms', async () => {
    const p = await create(A.keys.clinician, { weightKg: 70 });
    expect(p).toMatchObject({ weightKg: 70, pendingWeightKg: null, pendingWeightAt: null });
    expect(p.weightConfirmedAt).toEqual('2026-11-25T15:00:00.000Z');
    expect(typeof p.weightConfirmedBy).toBe('string');

    const changed = await patch(A.keys.frontDesk, p.id, { weightKg: 400 }).expect(200);
    expect(changed.body).toMatchObject({
      weightKg: 70,
      pendingWeightKg: 400,
      pendingWeightAt: '2026-11-25T15:00:00.000Z',
    });
    expect(changed.body.pendingWeightBy).not.toBe(p.weightConfirmedBy);
    expect(await getPatient(p.id)).toMatchObject({ weightKg: 70, pendingWeightKg: 400 });

    // The front desk books the template as it is: refused while the weight waits, for preview and booking alike.
    const body = { patientId: p.id, protocolId: A.protocolId };
    const refused = await api().post('/v1/plans').set(bearer(A.keys.frontDesk)).send(body);
    expectProblem(refused, 409, 'WEIGHT_UNCONFIRMED');
    expect(refused.body.detail).toMatch(/confirm/);
    expectProblem(
      await api().post('/v1/plans/preview').set(bearer(A.keys.frontDesk)).send(body),
      409,
      'WEIGHT_UNCONFIRMED',
    );
    expectProblem(
      await api().post('/v1/plans/preview').set(bearer(A.keys.clinician)).send(body),
      409,
      'WEIGHT_UNCONFIRMED',
    );
    expect(await planCount(p.id)).toBe(0);

    // A clinician stating the weight in the tailoring decides for this plan.
    const stated = await api()
      .post('/v1/plans/preview')
      .set(bearer(A.keys.clinician))
      .send({ ...body, tailoring: { weightKg: 70 } })
      .expect(200);
    expect(new Set(infusionMg(stated.body))).toEqual(new Set([35]));

    // The clinician weighs the patient again and confirms 71 kg: the pending value is settled, the booking doses on 71 kg.
    const confirmed = await patch(A.keys.clinician, p.id, { weightKg: 71 }).expect(200);
    expect(confirmed.body).toMatchObject({
      weightKg: 71,
      pendingWeightKg: null,
      pendingWeightAt: null,
      pendingWeightBy: null,
    });
    const booked = await api().post('/v1/plans').set(bearer(A.keys.frontDesk)).send(body).expect(201);
    expect(new Set(infusionMg(booked.body))).toEqual(new Set([35.5]));

    // The audit says what each entry did: the front desk's went to pendingWeightKg, the clinician's to weightKg.
    const rows: Json[] = await t.dataSource.query(
      `SELECT actor_role, changes FROM audit_events WHERE patient_id = $1 AND action = 'patient.update' ORDER BY id`,
      [p.id],
    );
    expect(rows).toEqual([
      { actor_role: 'front_desk', changes: { before: { pendingWeightKg: null }, after: { pendingWeightKg: 400 } } },
      {
        actor_role: 'clinician',
        changes: { before: { weightKg: 70, pendingWeightKg: 400 }, after: { weightKg: 71, pendingWeightKg: null } },
      },
    ]);
  });

  it('a clinician confirms the pending weight by sending it; the booking then doses on it', async () => {
    const p = await create(A.keys.admin, { weightKg: 80 });
    await patch(A.keys.frontDesk, p.id, { weightKg: 82 }).expect(200);
    const confirmed = await patch(A.keys.admin, p.id, { weightKg: 82 }).expect(200);
    expect(confirmed.body).toMatchObject({ weightKg: 82, pendingWeightKg: null });
    const booked = await api()
      .post('/v1/plans')
      .set(bearer(A.keys.frontDesk))
      .send({ patientId: p.id, protocolId: A.protocolId })
      .expect(201);
    expect(new Set(infusionMg(booked.body))).toEqual(new Set([41]));
  });

  it('a patient registered by the front desk with a weight has it pending, not confirmed', async () => {
    const p = await create(A.keys.frontDesk, { weightKg: 65 });
    expect(p).toMatchObject({ weightKg: null, weightConfirmedAt: null, pendingWeightKg: 65 });
    expectProblem(
      await api()
        .post('/v1/plans/preview')
        .set(bearer(A.keys.frontDesk))
        .send({ patientId: p.id, protocolId: A.protocolId }),
      409,
      'WEIGHT_UNCONFIRMED',
    );
  });

  it("the front desk's null withdraws its pending weight and never clears the confirmed one; the confirmed weight again settles it", async () => {
    const p = await create(A.keys.clinician, { weightKg: 60 });
    await patch(A.keys.frontDesk, p.id, { weightKg: 90 }).expect(200);
    expect((await patch(A.keys.frontDesk, p.id, { weightKg: null }).expect(200)).body).toMatchObject({
      weightKg: 60,
      pendingWeightKg: null,
    });
    await patch(A.keys.frontDesk, p.id, { weightKg: 90 }).expect(200);
    expect((await patch(A.keys.frontDesk, p.id, { weightKg: 60 }).expect(200)).body).toMatchObject({
      weightKg: 60,
      pendingWeightKg: null,
    });
    // Other fields from the front desk leave the weights alone.
    await patch(A.keys.frontDesk, p.id, { weightKg: 91 }).expect(200);
    expect((await patch(A.keys.frontDesk, p.id, { phone: '+1 555 0100' }).expect(200)).body).toMatchObject({
      weightKg: 60,
      pendingWeightKg: 91,
    });
    // A clinician's null clears both.
    expect((await patch(A.keys.clinician, p.id, { weightKg: null }).expect(200)).body).toMatchObject({
      weightKg: null,
      weightConfirmedAt: null,
      pendingWeightKg: null,
    });
  });

  it('the database keeps a confirmed weight with its confirmation, and a pending one with its time', async () => {
    const p = await create(A.keys.clinician, { weightKg: 70 });
    await expect(
      t.dataSource.query('UPDATE patients SET weight_confirmed_at = NULL WHERE id = $1', [p.id]),
    ).rejects.toThrow(/patients_weight_confirmed_ck/);
    await expect(
      t.dataSource.query('UPDATE patients SET pending_weight_kg = 80 WHERE id = $1', [p.id]),
    ).rejects.toThrow(/patients_pending_weight_ck/);
  });
});
