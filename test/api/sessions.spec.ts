import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import pg from 'pg';
import request from 'supertest';
import { persistOperatorKey, type ClinicKeys } from '../factories/clinic.factory.js';
import { bookPlan, newPatient, refOf, setupClinic, type ClinicSetup as Setup } from '../factories/series.factory.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';
import { expectProblem } from '../support/problem.js';
import { atSessionTime } from '../support/session-clock.js';

// ---------------------------------------------------------------------------------------------
// Sessions API: the lifecycle of a booked session (check-in, completion with the dose given,
// no-show, cancellation) under the transition table, the append-only plan adjustment log it
// writes, the plan's version and status, and the day sheet (GET /v1/sessions). The clock stands
// at Wednesday 2026-11-25 10:00 in New York.
// ---------------------------------------------------------------------------------------------

const NOW = '2026-11-25T15:00:00Z';
const ZONE = 'America/New_York';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Json = Record<string, any>;
type Action = 'check-in' | 'complete' | 'no-show' | 'cancel';
type Status = 'scheduled' | 'checked_in' | 'completed' | 'no_show' | 'cancelled';

const ACTION_TARGET: Record<Action, Status> = {
  'check-in': 'checked_in',
  complete: 'completed',
  'no-show': 'no_show',
  cancel: 'cancelled',
};
const plusMinutes = (iso: string, minutes: number) =>
  DateTime.fromISO(iso, { setZone: true }).plus({ minutes }).toISO({ suppressMilliseconds: true })!;
const byStartThenId = (a: Json, b: Json) =>
  Date.parse(a.start) - Date.parse(b.start) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

describe('sessions API (/v1/sessions) and the plan adjustment log', () => {
  let t: TestApp;
  let A: Setup;
  let B: Setup;
  let planB: Json;
  const api = () => request(t.http);

  const send = (key: string, id: string, action: Action, body?: Json) => {
    const r = api().post(`/v1/sessions/${id}/${action}`).set(bearer(key));
    return body === undefined ? r.send() : r.send(body);
  };
  /** At the session's time when it is still ahead (check-in and completion wait for it: see session-clock.spec.ts). */
  const act = (key: string, id: string, action: Action, body?: Json): Promise<request.Response> =>
    action === 'check-in' || action === 'complete'
      ? atSessionTime(t, id, async () => send(key, id, action, body), action === 'complete' ? 'end' : 'start')
      : send(key, id, action, body).then((r) => r);
  /** A body that passes validation for the action (so only the status decides). */
  const validBody = (action: Action): Json | undefined =>
    action === 'complete'
      ? { doseGiven: { amount: 0.5, unit: 'mg/kg' } }
      : action === 'cancel'
        ? { reason: 'Patient has the flu' }
        : action === 'no-show'
          ? {}
          : undefined;
  async function actOk(
    key: string,
    id: string,
    action: Action,
    body: Json | undefined = validBody(action),
  ): Promise<Json> {
    const res = await act(key, id, action, body);
    expect({ status: res.status, body: res.body }).toMatchObject({
      status: 200,
      body: { id, status: ACTION_TARGET[action] },
    });
    return res.body as Json;
  }
  const getSession = (key: string, id: string) => api().get(`/v1/sessions/${id}`).set(bearer(key));
  const getPlan = async (key: string, id: string): Promise<Json> =>
    (await api().get(`/v1/plans/${id}`).set(bearer(key)).expect(200)).body;
  const adjustments = async (key: string, planId: string): Promise<Json[]> => {
    const res = await api().get(`/v1/plans/${planId}/adjustments`).set(bearer(key));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    return res.body.items as Json[];
  };
  const sessionRow = async (id: string): Promise<Json> => {
    const [row] = await t.dataSource.query(
      'SELECT status, version, checked_in_at, actual_start, actual_end, dose_given, status_reason FROM sessions WHERE id = $1',
      [id],
    );
    return row;
  };
  const planRow = async (id: string): Promise<{ status: string; version: number }> => {
    const [row] = await t.dataSource.query('SELECT status, version FROM plans WHERE id = $1', [id]);
    return row;
  };
  const adjustmentCount = async (planId: string): Promise<number> => {
    const [{ n }] = await t.dataSource.query('SELECT count(*)::int AS n FROM plan_adjustments WHERE plan_id = $1', [
      planId,
    ]);
    return n;
  };
  const keyId = async (keys: ClinicKeys, role: string): Promise<string> => {
    const [row] = await t.dataSource.query('SELECT id FROM api_keys WHERE clinic_id = $1 AND role = $2', [
      keys.clinicId,
      role,
    ]);
    return row.id;
  };

  /** Brings a scheduled session to `status` through the API. */
  async function bringTo(s: Setup, id: string, status: Status): Promise<void> {
    switch (status) {
      case 'scheduled':
        return;
      case 'checked_in':
        await actOk(s.keys.frontDesk, id, 'check-in');
        return;
      case 'completed':
        await actOk(s.keys.frontDesk, id, 'check-in');
        await actOk(s.keys.clinician, id, 'complete');
        return;
      case 'no_show':
        await actOk(s.keys.frontDesk, id, 'no-show');
        return;
      case 'cancelled':
        await actOk(s.keys.frontDesk, id, 'cancel');
        return;
    }
  }

  beforeAll(async () => {
    t = await startTestApp();
    A = await setupClinic(t.app, t.http, 'Alpha');
    B = await setupClinic(t.app, t.http, 'Beta');
    planB = await bookPlan(t.http, B, { earliestStart: '2026-11-30' });
  });
  afterAll(() => t.close());

  // ---------------------------------------------------------------------------------------------
  describe('check-in and completion', () => {
    it('check-in, then completion with the dose given (mg/kg on the plan weight) and the observed times, as GET shows', async () => {
      // The patient weighs 72.4 kg, but the plan was tailored at 81.3 kg: the plan's weight counts.
      const plan = await bookPlan(
        t.http,
        A,
        { earliestStart: '2026-11-30', tailoring: { weightKg: 81.3 } },
        { weightKg: 72.4 },
      );
      const inf = refOf(plan, 'infusion#1');
      expect(inf).toMatchObject({
        status: 'scheduled',
        version: 1,
        checkedInAt: null,
        actualStart: null,
        actualEnd: null,
        doseGiven: null,
      });
      expect(inf.dose).toMatchObject({ amount: 0.5, unit: 'mg/kg' });

      const checkedIn = await act(A.keys.frontDesk, inf.id, 'check-in');
      expect(checkedIn.status).toBe(200);
      expect(checkedIn.headers['content-type']).toMatch(/^application\/json/);
      expect(checkedIn.body).toMatchObject({
        id: inf.id,
        planId: plan.id,
        ref: 'infusion#1',
        status: 'checked_in',
        version: 2,
        start: inf.start,
        chair: inf.chair,
        staff: inf.staff,
      });
      expect(Date.parse(checkedIn.body.checkedInAt)).toBe(Date.parse(inf.start)); // checked in at its start (see act)
      expect(checkedIn.body.doseGiven).toBeNull();
      expect((await getSession(A.keys.frontDesk, inf.id).expect(200)).body).toEqual(checkedIn.body);

      const actualStart = plusMinutes(inf.start, 5); // with the clinic's offset
      const actualEndLocal = plusMinutes(inf.start, 50);
      const actualEndUtc = new Date(Date.parse(actualEndLocal)).toISOString(); // sent in UTC
      const done = await act(A.keys.clinician, inf.id, 'complete', {
        doseGiven: { amount: 0.47, unit: 'mg/kg' },
        actualStart,
        actualEnd: actualEndUtc,
      });
      expect(done.status).toBe(200);
      expect(done.body).toMatchObject({
        id: inf.id,
        status: 'completed',
        version: 3,
        // 0.47 mg/kg × 81.3 kg = 38.211 mg
        doseGiven: { amount: 0.47, unit: 'mg/kg', totalMg: 38.2 },
        actualStart,
        // Shown with the clinic's offset, whatever offset it was sent with.
        actualEnd: actualEndLocal,
        // What was planned stays as planned.
        start: inf.start,
        end: inf.end,
        dose: inf.dose,
      });
      expect(actualEndLocal).toMatch(/-05:00$/);
      expect(Date.parse(done.body.checkedInAt)).toBe(Date.parse(inf.start));

      const got = await getSession(A.keys.clinician, inf.id);
      expect(got.status).toBe(200);
      expect(got.body).toEqual(done.body);

      const row = await sessionRow(inf.id);
      expect(row.status).toBe('completed');
      expect(row.version).toBe(3);
      expect(row.actual_start.getTime()).toBe(Date.parse(actualStart));
      expect(row.actual_end.getTime()).toBe(Date.parse(actualEndLocal));
      expect(row.dose_given).toEqual({ amount: 0.47, unit: 'mg/kg', totalMg: 38.2 });
    });

    it('rounds totalMg to 0.1 mg; mg/kg on the patient weight when the plan was not tailored', async () => {
      const plan = await bookPlan(t.http, A, {}, { weightKg: 72.4 });
      const cases: [string, number, number][] = [
        ['infusion#1', 0.5, 36.2], // 36.2
        ['infusion#2', 0.33, 23.9], // 23.892
        ['infusion#3', 0.61, 44.2], // 44.164
      ];
      for (const [ref, amount, totalMg] of cases) {
        const s = refOf(plan, ref);
        await actOk(A.keys.frontDesk, s.id, 'check-in');
        const done = await actOk(A.keys.clinician, s.id, 'complete', { doseGiven: { amount, unit: 'mg/kg' } });
        expect(done.doseGiven).toEqual({ amount, unit: 'mg/kg', totalMg });
        expect({ actualStart: done.actualStart, actualEnd: done.actualEnd }).toEqual({
          actualStart: null,
          actualEnd: null,
        });
      }
    });

    it('a session without a planned dose completes without doseGiven', async () => {
      const plan = await bookPlan(t.http, A);
      const intake = refOf(plan, 'intake#1');
      expect(intake.dose).toBeNull();
      await actOk(A.keys.frontDesk, intake.id, 'check-in');
      const done = await actOk(A.keys.clinician, intake.id, 'complete', {});
      expect(done.doseGiven).toBeNull();
      const therapy = refOf(plan, 'therapy#1');
      await actOk(A.keys.frontDesk, therapy.id, 'check-in');
      const end = plusMinutes(therapy.start, 55);
      const t2 = await actOk(A.keys.clinician, therapy.id, 'complete', { actualStart: therapy.start, actualEnd: end });
      expect({ doseGiven: t2.doseGiven, actualStart: t2.actualStart, actualEnd: t2.actualEnd }).toEqual({
        doseGiven: null,
        actualStart: therapy.start,
        actualEnd: end,
      });
    });

    it('no-show keeps its optional reason; cancel keeps its reason', async () => {
      const plan = await bookPlan(t.http, A);
      const a = refOf(plan, 'infusion#1');
      const b = refOf(plan, 'infusion#2');
      const c = refOf(plan, 'therapy#2');
      expect((await actOk(A.keys.frontDesk, a.id, 'no-show', { reason: 'No answer on the phone' })).statusReason).toBe(
        'No answer on the phone',
      );
      expect((await actOk(A.keys.frontDesk, b.id, 'no-show', {})).statusReason).toBeNull();
      const cancelled = await actOk(A.keys.frontDesk, c.id, 'cancel', { reason: 'Patient has the flu' });
      expect(cancelled).toMatchObject({ status: 'cancelled', statusReason: 'Patient has the flu', version: 2 });
      expect((await getSession(A.keys.frontDesk, c.id).expect(200)).body).toEqual(cancelled);
      expect((await sessionRow(c.id)).status_reason).toBe('Patient has the flu');
    });

    it('a checked-in session can still be called off (checked_in → cancelled)', async () => {
      const plan = await bookPlan(t.http, A);
      const s = refOf(plan, 'infusion#1');
      await actOk(A.keys.frontDesk, s.id, 'check-in');
      const res = await actOk(A.keys.frontDesk, s.id, 'cancel', { reason: 'Blood pressure too high to infuse' });
      expect(res).toMatchObject({ status: 'cancelled', version: 3, statusReason: 'Blood pressure too high to infuse' });
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('transitions not in the table', () => {
    const WRONG: [Status, Action][] = [
      ['scheduled', 'complete'],
      ['checked_in', 'check-in'],
      ['checked_in', 'no-show'],
      ...(['completed', 'no_show', 'cancelled'] as Status[]).flatMap((s) =>
        (['check-in', 'complete', 'no-show', 'cancel'] as Action[]).map((a): [Status, Action] => [s, a]),
      ),
    ];
    const sessionIn = new Map<Status, { id: string; planId: string }>();

    beforeAll(async () => {
      const plan = await bookPlan(t.http, A);
      const statuses: Status[] = ['scheduled', 'checked_in', 'completed', 'no_show', 'cancelled'];
      for (const [i, status] of statuses.entries()) {
        const s = refOf(plan, `infusion#${i + 1}`);
        await bringTo(A, s.id, status);
        sessionIn.set(status, { id: s.id, planId: plan.id });
      }
    });

    it.each(WRONG)(
      '%s, then %s: 409 INVALID_TRANSITION naming the current status; nothing changes',
      async (status, action) => {
        const { id, planId } = sessionIn.get(status)!;
        const before = {
          session: await sessionRow(id),
          plan: await planRow(planId),
          log: await adjustmentCount(planId),
        };
        const res = await act(A.keys.clinician, id, action, validBody(action));
        expectProblem(res, 409, 'INVALID_TRANSITION');
        expect(res.body.currentStatus).toBe(status);
        expect({
          session: await sessionRow(id),
          plan: await planRow(planId),
          log: await adjustmentCount(planId),
        }).toEqual(before);
        expect((await getSession(A.keys.frontDesk, id).expect(200)).body.status).toBe(status);
      },
    );
  });

  // ---------------------------------------------------------------------------------------------
  describe('refused input: 400 naming the field, nothing changes', () => {
    let plan: Json;
    let checkedIn: Json;
    let scheduled: Json;

    beforeAll(async () => {
      plan = await bookPlan(t.http, A);
      checkedIn = refOf(plan, 'infusion#1');
      scheduled = refOf(plan, 'infusion#2');
      await actOk(A.keys.frontDesk, checkedIn.id, 'check-in');
    });

    async function expectRefused(id: string, action: Action, body: Json | undefined, field: string): Promise<void> {
      const before = {
        session: await sessionRow(id),
        plan: await planRow(plan.id),
        log: await adjustmentCount(plan.id),
      };
      expectProblem(await act(A.keys.clinician, id, action, body), 400, 'VALIDATION_FAILED', [field]);
      expect({
        session: await sessionRow(id),
        plan: await planRow(plan.id),
        log: await adjustmentCount(plan.id),
      }).toEqual(before);
    }

    it('cancel needs a reason (missing, empty, not a string, too long)', async () => {
      await expectRefused(scheduled.id, 'cancel', {}, 'reason');
      await expectRefused(scheduled.id, 'cancel', undefined, 'reason');
      await expectRefused(scheduled.id, 'cancel', { reason: '' }, 'reason');
      await expectRefused(scheduled.id, 'cancel', { reason: 42 }, 'reason');
      await expectRefused(scheduled.id, 'cancel', { reason: 'x'.repeat(1001) }, 'reason');
      await expectRefused(checkedIn.id, 'cancel', {}, 'reason');
      expect((await sessionRow(scheduled.id)).status).toBe('scheduled');
    });

    it('complete without doseGiven on a session with a planned dose: 400 naming doseGiven', async () => {
      await expectRefused(checkedIn.id, 'complete', {}, 'doseGiven');
      await expectRefused(
        checkedIn.id,
        'complete',
        { actualStart: plusMinutes(checkedIn.start, 2), actualEnd: plusMinutes(checkedIn.start, 45) },
        'doseGiven',
      );
    });

    it('a dose in another unit than planned, or no unit: 400 naming doseGiven.unit', async () => {
      await expectRefused(checkedIn.id, 'complete', { doseGiven: { amount: 36, unit: 'mg' } }, 'doseGiven.unit');
      await expectRefused(checkedIn.id, 'complete', { doseGiven: { amount: 0.5, unit: 'ml' } }, 'doseGiven.unit');
      await expectRefused(checkedIn.id, 'complete', { doseGiven: { amount: 0.5 } }, 'doseGiven.unit');
    });

    it('a malformed amount: 400 naming doseGiven.amount', async () => {
      await expectRefused(checkedIn.id, 'complete', { doseGiven: { amount: -0.5, unit: 'mg/kg' } }, 'doseGiven.amount');
      await expectRefused(
        checkedIn.id,
        'complete',
        { doseGiven: { amount: '0.5', unit: 'mg/kg' } },
        'doseGiven.amount',
      );
      await expectRefused(checkedIn.id, 'complete', { doseGiven: { unit: 'mg/kg' } }, 'doseGiven.amount');
    });

    it('actualEnd not after actualStart: 400 naming actualEnd', async () => {
      const dose = { amount: 0.5, unit: 'mg/kg' };
      const start = plusMinutes(checkedIn.start, 10);
      await expectRefused(
        checkedIn.id,
        'complete',
        { doseGiven: dose, actualStart: start, actualEnd: start },
        'actualEnd',
      );
      await expectRefused(
        checkedIn.id,
        'complete',
        { doseGiven: dose, actualStart: start, actualEnd: plusMinutes(checkedIn.start, 9) },
        'actualEnd',
      );
      // The same instant written with another offset is still not after.
      await expectRefused(
        checkedIn.id,
        'complete',
        { doseGiven: dose, actualStart: start, actualEnd: new Date(Date.parse(start)).toISOString() },
        'actualEnd',
      );
    });

    it('observed times must be ISO 8601 instants with an offset: 400 naming the field', async () => {
      const dose = { amount: 0.5, unit: 'mg/kg' };
      // Its own checked-in session, so that an accepted request cannot disturb the other cases.
      const checkedIn = refOf(plan, 'infusion#3');
      await actOk(A.keys.frontDesk, checkedIn.id, 'check-in');
      await expectRefused(checkedIn.id, 'complete', { doseGiven: dose, actualStart: 'this morning' }, 'actualStart');
      await expectRefused(
        checkedIn.id,
        'complete',
        { doseGiven: dose, actualEnd: '2026-13-40T10:00:00-05:00' },
        'actualEnd',
      );
      // Without an offset the instant is ambiguous (it would be read in the server's zone, not the clinic's).
      const local = DateTime.fromISO(checkedIn.start, { zone: ZONE })
        .plus({ minutes: 5 })
        .toFormat("yyyy-MM-dd'T'HH:mm:ss");
      await expectRefused(checkedIn.id, 'complete', { doseGiven: dose, actualStart: local }, 'actualStart');
      await expectRefused(checkedIn.id, 'complete', { doseGiven: dose, actualEnd: local }, 'actualEnd');
    });

    it('unknown fields are refused', async () => {
      await expectRefused(
        checkedIn.id,
        'complete',
        { doseGiven: { amount: 0.5, unit: 'mg/kg' }, craving: 3 },
        'craving',
      );
      await expectRefused(scheduled.id, 'cancel', { reason: 'Flu', status: 'scheduled' }, 'status');
    });

    it('a session id that is not a UUID: 400 naming sessionId', async () => {
      for (const bad of ['not-a-uuid', '123', `${randomUUID()}x`]) {
        expectProblem(await getSession(A.keys.frontDesk, bad), 400, 'VALIDATION_FAILED', ['sessionId']);
        for (const action of ['check-in', 'complete', 'no-show', 'cancel'] as Action[]) {
          expectProblem(await act(A.keys.clinician, bad, action, validBody(action)), 400, 'VALIDATION_FAILED', [
            'sessionId',
          ]);
        }
      }
      expectProblem(
        await api().get('/v1/plans/nope/adjustments').set(bearer(A.keys.frontDesk)),
        400,
        'VALIDATION_FAILED',
        ['planId'],
      );
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('keys, roles and clinics', () => {
    it('front desk checks in, marks no-shows and cancels, but may not complete (403); clinician and admin complete', async () => {
      const plan = await bookPlan(t.http, A);
      const [s1, s2, s3, s4, s5] = [1, 2, 3, 4, 5].map((n) => refOf(plan, `infusion#${n}`));
      await actOk(A.keys.frontDesk, s1.id, 'check-in');
      await actOk(A.keys.frontDesk, s2.id, 'no-show', { reason: 'Did not come' });
      await actOk(A.keys.frontDesk, s3.id, 'cancel', { reason: 'Called in sick' });

      const before = {
        session: await sessionRow(s1.id),
        plan: await planRow(plan.id),
        log: await adjustmentCount(plan.id),
      };
      expectProblem(await act(A.keys.frontDesk, s1.id, 'complete', validBody('complete')), 403, 'FORBIDDEN');
      expect({
        session: await sessionRow(s1.id),
        plan: await planRow(plan.id),
        log: await adjustmentCount(plan.id),
      }).toEqual(before);

      await actOk(A.keys.clinician, s1.id, 'complete');
      await actOk(A.keys.clinician, s4.id, 'check-in');
      await actOk(A.keys.admin, s4.id, 'complete');
      await actOk(A.keys.admin, s5.id, 'check-in');
      await actOk(A.keys.admin, s5.id, 'cancel', { reason: 'Chair broken' });
    });

    it('every session route needs a valid key: 401', async () => {
      const plan = await bookPlan(t.http, A);
      const s = refOf(plan, 'infusion#1');
      const reqs = (auth: Record<string, string>) => [
        api().get('/v1/sessions').query({ from: '2026-11-30', to: '2026-12-04' }).set(auth),
        api().get(`/v1/sessions/${s.id}`).set(auth),
        api().get(`/v1/plans/${plan.id}/adjustments`).set(auth),
        ...(['check-in', 'complete', 'no-show', 'cancel'] as Action[]).map((a) =>
          api()
            .post(`/v1/sessions/${s.id}/${a}`)
            .set(auth)
            .send(validBody(a) ?? {}),
        ),
      ];
      for (const auth of [{}, { Authorization: 'Bearer not-a-key' }, { Authorization: A.keys.frontDesk }] as Record<
        string,
        string
      >[]) {
        for (const r of reqs(auth)) expectProblem(await r, 401, 'UNAUTHENTICATED');
      }
      expect(await sessionRow(s.id)).toMatchObject({ status: 'scheduled', version: 1 });
      expect(await adjustmentCount(plan.id)).toBe(0);
    });

    it("another clinic's session or plan, or an unknown one: 404, nothing changes", async () => {
      const other = refOf(planB, 'infusion#6');
      const before = await sessionRow(other.id);
      for (const id of [other.id, randomUUID()]) {
        expectProblem(await getSession(A.keys.admin, id), 404, 'SESSION_NOT_FOUND');
        for (const action of ['check-in', 'complete', 'no-show', 'cancel'] as Action[]) {
          expectProblem(await act(A.keys.admin, id, action, validBody(action)), 404, 'SESSION_NOT_FOUND');
        }
      }
      expect(await sessionRow(other.id)).toEqual(before);
      expectProblem(
        await api().get(`/v1/plans/${planB.id}/adjustments`).set(bearer(A.keys.admin)),
        404,
        'PLAN_NOT_FOUND',
      );
      expectProblem(
        await api().get(`/v1/plans/${randomUUID()}/adjustments`).set(bearer(A.keys.admin)),
        404,
        'PLAN_NOT_FOUND',
      );
      // Its own clinic sees it.
      expect((await getSession(B.keys.frontDesk, other.id)).status).toBe(200);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('the adjustment log and the plan version', () => {
    let L: Setup;
    beforeAll(async () => {
      L = await setupClinic(t.app, t.http, 'Log');
    });

    it('each status change appends one entry (type, actor, reason, before/after) and raises the plan version by one', async () => {
      const plan = await bookPlan(t.http, L);
      expect(plan.version).toBe(1);
      expect(await adjustments(L.keys.frontDesk, plan.id)).toEqual([]);
      const [s1, s2, s3, s4] = [1, 2, 3, 4].map((n) => refOf(plan, `infusion#${n}`));
      const frontDeskKey = await keyId(L.keys, 'front_desk');
      const clinicianKey = await keyId(L.keys, 'clinician');
      const adminKey = await keyId(L.keys, 'admin');
      // Each step at a time it is allowed: a check-in on the session's day, a completion after its start.
      const utcAt = (iso: string, minutes: number) => DateTime.fromISO(iso).plus({ minutes }).toUTC().toISO()!;

      const steps: {
        key: string;
        keyId: string;
        role: string;
        id: string;
        ref: string;
        action: Action;
        body?: Json;
        type: string;
        reason: string | null;
        from: Status;
        at: string;
      }[] = [
        {
          key: L.keys.frontDesk,
          keyId: frontDeskKey,
          role: 'front_desk',
          id: s1.id,
          ref: 'infusion#1',
          action: 'check-in',
          type: 'check_in',
          reason: null,
          from: 'scheduled',
          at: utcAt(s1.start, -10),
        },
        {
          key: L.keys.clinician,
          keyId: clinicianKey,
          role: 'clinician',
          id: s1.id,
          ref: 'infusion#1',
          action: 'complete',
          body: { doseGiven: { amount: 0.5, unit: 'mg/kg' } },
          type: 'complete',
          reason: null,
          from: 'checked_in',
          at: utcAt(s1.start, 90),
        },
        {
          key: L.keys.frontDesk,
          keyId: frontDeskKey,
          role: 'front_desk',
          id: s2.id,
          ref: 'infusion#2',
          action: 'no-show',
          body: { reason: 'No answer' },
          type: 'no_show',
          reason: 'No answer',
          from: 'scheduled',
          at: utcAt(s2.start, 60),
        },
        {
          key: L.keys.admin,
          keyId: adminKey,
          role: 'admin',
          id: s3.id,
          ref: 'infusion#3',
          action: 'cancel',
          body: { reason: 'Patient travelling' },
          type: 'cancel_session',
          reason: 'Patient travelling',
          from: 'scheduled',
          at: utcAt(s2.start, 120),
        },
        {
          key: L.keys.frontDesk,
          keyId: frontDeskKey,
          role: 'front_desk',
          id: s4.id,
          ref: 'infusion#4',
          action: 'check-in',
          type: 'check_in',
          reason: null,
          from: 'scheduled',
          at: utcAt(s4.start, -5),
        },
        {
          key: L.keys.frontDesk,
          keyId: frontDeskKey,
          role: 'front_desk',
          id: s4.id,
          ref: 'infusion#4',
          action: 'cancel',
          body: { reason: 'Felt unwell' },
          type: 'cancel_session',
          reason: 'Felt unwell',
          from: 'checked_in',
          at: utcAt(s4.start, 15),
        },
      ];
      let prev: Json[] = [];
      try {
        for (const [i, step] of steps.entries()) {
          t.clock.set(DateTime.fromISO(step.at, { zone: 'utc' }));
          const res = await send(step.key, step.id, step.action, step.body ?? validBody(step.action));
          expect({ status: res.status, body: res.body }).toMatchObject({
            status: 200,
            body: { id: step.id, status: ACTION_TARGET[step.action] },
          });
          // The plan's version went up by exactly one, as GET /v1/plans shows.
          const got = await getPlan(L.keys.frontDesk, plan.id);
          expect(got.version).toBe(2 + i);
          const log = await adjustments(L.keys.frontDesk, plan.id);
          expect(log).toHaveLength(i + 1);
          expect(log[i]).toEqual({
            id: expect.stringMatching(UUID_RE),
            planId: plan.id,
            planVersion: 2 + i,
            type: step.type,
            reason: step.reason,
            actorKeyId: step.keyId,
            actorRole: step.role,
            occurredAt: new Date(step.at).toISOString(),
            changes: [
              {
                sessionId: step.id,
                ref: step.ref,
                before: expect.objectContaining({ status: step.from }),
                after: expect.objectContaining({ status: ACTION_TARGET[step.action] }),
              },
            ],
          });
          // Earlier entries are untouched.
          expect(log.slice(0, i)).toEqual(prev);
          prev = log;
        }
      } finally {
        t.clock.set(DateTime.fromISO(NOW, { zone: 'utc' }));
      }
      const log = await adjustments(L.keys.clinician, plan.id);
      expect(log.map((e) => e.planVersion)).toEqual([2, 3, 4, 5, 6, 7]);
      expect(new Set(log.map((e) => e.id)).size).toBe(6);
      // The completion records the dose given in its `after`.
      expect(log[1].changes[0].after).toMatchObject({
        status: 'completed',
        doseGiven: { amount: 0.5, unit: 'mg/kg', totalMg: 36.2 },
      });
      expect(await planRow(plan.id)).toMatchObject({ version: 7, status: 'active' });
    });

    it('refused changes (409, 400, 403, 404) append nothing and leave the version alone', async () => {
      const plan = await bookPlan(t.http, L);
      const s = refOf(plan, 'infusion#1');
      await actOk(L.keys.frontDesk, s.id, 'check-in');
      const before = { plan: await planRow(plan.id), log: await adjustments(L.keys.frontDesk, plan.id) };
      expect(before.plan.version).toBe(2);
      expectProblem(await act(L.keys.frontDesk, s.id, 'check-in'), 409, 'INVALID_TRANSITION');
      expectProblem(await act(L.keys.frontDesk, s.id, 'complete', validBody('complete')), 403, 'FORBIDDEN');
      expectProblem(await act(L.keys.clinician, s.id, 'complete', {}), 400, 'VALIDATION_FAILED', ['doseGiven']);
      expectProblem(await act(L.keys.clinician, s.id, 'cancel', {}), 400, 'VALIDATION_FAILED', ['reason']);
      expect({ plan: await planRow(plan.id), log: await adjustments(L.keys.frontDesk, plan.id) }).toEqual(before);
      expect((await getPlan(L.keys.frontDesk, plan.id)).version).toBe(2);
    });

    it('plan_adjustments refuses UPDATE, DELETE and TRUNCATE', async () => {
      const plan = await bookPlan(t.http, L);
      await actOk(L.keys.frontDesk, refOf(plan, 'infusion#1').id, 'check-in');
      await actOk(L.keys.frontDesk, refOf(plan, 'infusion#2').id, 'cancel', { reason: 'Flu' });
      const before = await adjustments(L.keys.frontDesk, plan.id);
      expect(before).toHaveLength(2);
      const attempts: [string, unknown[]][] = [
        ["UPDATE plan_adjustments SET reason = 'rewritten' WHERE plan_id = $1", [plan.id]],
        ['UPDATE plan_adjustments SET plan_version = plan_version + 100 WHERE plan_id = $1', [plan.id]],
        ['DELETE FROM plan_adjustments WHERE plan_id = $1', [plan.id]],
        ['DELETE FROM plan_adjustments', []],
        ['TRUNCATE plan_adjustments', []],
      ];
      // As the owner of the table (the service's own role may not even try: test/api/append-only.spec.ts).
      for (const [sql, params] of attempts) {
        await expect(t.asOwner(sql, params)).rejects.toThrow(/append-only/);
      }
      expect(await adjustments(L.keys.frontDesk, plan.id)).toEqual(before);
    });

    it('the plan becomes completed when none of its sessions is scheduled or checked in', async () => {
      const plan = await bookPlan(t.http, L, { protocolId: L.shortProtocolId });
      expect(plan.sessions.map((s: Json) => s.ref).sort()).toEqual(['infusion#1', 'infusion#2', 'intake#1']);
      const [intake, i1, i2] = ['intake#1', 'infusion#1', 'infusion#2'].map((r) => refOf(plan, r));
      const status = async () => (await getPlan(L.keys.frontDesk, plan.id)).status;

      await actOk(L.keys.frontDesk, intake.id, 'check-in');
      await actOk(L.keys.clinician, intake.id, 'complete', {});
      expect(await status()).toBe('active');
      await actOk(L.keys.frontDesk, i1.id, 'no-show');
      expect(await status()).toBe('active');
      await actOk(L.keys.frontDesk, i2.id, 'check-in');
      expect(await status()).toBe('active'); // checked in is not done
      await actOk(L.keys.clinician, i2.id, 'complete');
      const done = await getPlan(L.keys.frontDesk, plan.id);
      expect(done).toMatchObject({ status: 'completed', version: 6 });
      expect(await planRow(plan.id)).toEqual({ status: 'completed', version: 6 });
      expect((await adjustments(L.keys.frontDesk, plan.id)).map((e) => e.type)).toEqual([
        'check_in',
        'complete',
        'no_show',
        'check_in',
        'complete',
      ]);

      // Every session cancelled also leaves nothing to happen.
      const other = await bookPlan(t.http, L, { protocolId: L.shortProtocolId });
      const refs = ['intake#1', 'infusion#1', 'infusion#2'];
      for (const [i, ref] of refs.entries()) {
        expect((await getPlan(L.keys.frontDesk, other.id)).status).toBe('active');
        await actOk(L.keys.frontDesk, refOf(other, ref).id, 'cancel', { reason: `reason ${i}` });
      }
      expect(await getPlan(L.keys.frontDesk, other.id)).toMatchObject({ status: 'completed', version: 4 });
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('a cancelled session frees its chair and staff time', () => {
    let F: Setup;
    beforeAll(async () => {
      // One chair: the infusion's slot is taken until it is cancelled.
      F = await setupClinic(t.app, t.http, 'Freed', { chairs: 1, nurseMax: 1 });
    });

    /** Inserts (and rolls back) another patient's session over `s` on its chair and/or its staff seat; returns the SQLSTATE or null. */
    async function tryOverlap(s: Json, on: { chair: boolean; seat: boolean }): Promise<string | null> {
      const patientId = await newPatient(t.http, F);
      const [plan] = await t.dataSource.query(
        `INSERT INTO plans (clinic_id, patient_id, protocol_id, protocol_version, tailoring, earliest_start)
         VALUES ($1, $2, $3, 1, '{}'::jsonb, '2026-11-25') RETURNING id`,
        [F.keys.clinicId, patientId, F.protocolId],
      );
      const [{ seat }] = await t.dataSource.query('SELECT staff_seat AS seat FROM sessions WHERE id = $1', [s.id]);
      const c = new pg.Client({ connectionString: t.databaseUrl });
      await c.connect();
      try {
        await c.query('BEGIN');
        await c.query(
          `INSERT INTO sessions (clinic_id, plan_id, patient_id, ref, step_key, occurrence, kind, label, starts_at, ends_at, occupied_until, chair_id, staff_id, staff_seat)
           VALUES ($1, $2, $3, 'other#1', 'other', 1, 'infusion', 'Another booking', $4, $5, $5, $6, $7, $8)`,
          [
            F.keys.clinicId,
            plan.id,
            patientId,
            plusMinutes(s.start, 10),
            s.end,
            on.chair ? s.chair.id : null,
            on.seat ? s.staff.id : null,
            on.seat ? seat : null,
          ],
        );
        return null;
      } catch (e) {
        return (e as { code?: string }).code ?? 'error';
      } finally {
        await c.query('ROLLBACK');
        await c.end();
      }
    }

    const slotStarts = async (date: string): Promise<Json[]> => {
      const res = await api()
        .get(`/v1/clinics/${F.keys.clinicId}/availability`)
        .query({ from: date, to: date, durationMinutes: 40, recoveryMinutes: 60, needsChair: 'true', role: 'nurse' })
        .set(bearer(F.keys.frontDesk));
      expect(res.status).toBe(200);
      return res.body.slots;
    };

    it('the chair and the nurse seat are taken while scheduled, free once cancelled (availability and the database agree)', async () => {
      const plan = await bookPlan(t.http, F);
      const s = refOf(plan, 'infusion#1');
      expect(s.chair).toEqual(F.chairs[0]);
      expect(s.staff).toEqual(F.nurse);

      expect((await slotStarts(s.localDate)).map((x) => x.start)).not.toContain(s.start);
      expect(await tryOverlap(s, { chair: true, seat: false })).toBe('23P01');
      expect(await tryOverlap(s, { chair: false, seat: true })).toBe('23P01');

      await actOk(F.keys.frontDesk, s.id, 'cancel', { reason: 'Rescheduling' });

      const free = await slotStarts(s.localDate);
      expect(free.find((x) => x.start === s.start)).toMatchObject({
        start: s.start,
        chair: F.chairs[0],
        staff: F.nurse,
      });
      expect(await tryOverlap(s, { chair: true, seat: false })).toBeNull();
      expect(await tryOverlap(s, { chair: false, seat: true })).toBeNull();
      expect(await tryOverlap(s, { chair: true, seat: true })).toBeNull();
    });

    it('a checked-in session keeps holding its chair', async () => {
      const plan = await bookPlan(t.http, F, { earliestStart: '2026-12-14' });
      const s = refOf(plan, 'infusion#1');
      await actOk(F.keys.frontDesk, s.id, 'check-in');
      expect(await tryOverlap(s, { chair: true, seat: false })).toBe('23P01');
      expect((await slotStarts(s.localDate)).map((x) => x.start)).not.toContain(s.start);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('concurrent changes of one session', () => {
    let R: Setup;
    beforeAll(async () => {
      R = await setupClinic(t.app, t.http, 'Race');
    });

    /**
     * Waits until `pid` blocks someone and `n` backends of this database wait for a lock (the
     * second waiter for a row queues behind the first, not directly behind `pid`).
     */
    async function blockedBy(pid: number, n: number): Promise<void> {
      const deadline = Date.now() + 5000;
      for (;;) {
        const [{ k }] = await t.dataSource.query(
          `SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)))
                       THEN (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND cardinality(pg_blocking_pids(pid)) > 0)
                       ELSE 0 END::int AS k`,
          [pid],
        );
        if (k >= n) return;
        if (Date.now() > deadline) throw new Error(`only ${k} backends waited for ${pid}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    }

    it('two check-ins held at the same row lock: exactly one 200, the other 409 naming checked_in; one log entry', async () => {
      const plan = await bookPlan(t.http, R);
      const s = refOf(plan, 'infusion#1');
      const c = new pg.Client({ connectionString: t.databaseUrl });
      await c.connect();
      let open = true;
      try {
        await c.query('BEGIN');
        const pid: number = (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
        await c.query('SELECT id FROM sessions WHERE id = $1 FOR UPDATE', [s.id]);
        const pending = [
          act(R.keys.frontDesk, s.id, 'check-in').then((r) => r),
          act(R.keys.clinician, s.id, 'check-in').then((r) => r),
        ];
        await blockedBy(pid, 2);
        await c.query('ROLLBACK');
        open = false;
        const results = await Promise.all(pending);
        const ok = results.filter((r) => r.status === 200);
        expect(ok).toHaveLength(1);
        const other = results.find((r) => r !== ok[0])!;
        expectProblem(other, 409, 'INVALID_TRANSITION');
        expect(other.body.currentStatus).toBe('checked_in');
      } finally {
        if (open) await c.query('ROLLBACK');
        await c.end();
      }
      expect(await sessionRow(s.id)).toMatchObject({ status: 'checked_in', version: 2 });
      const log = await adjustments(R.keys.frontDesk, plan.id);
      expect(log.map((e) => e.type)).toEqual(['check_in']);
      expect((await getPlan(R.keys.frontDesk, plan.id)).version).toBe(2);
    });

    it('racing requests without a held lock: exactly one wins each time', async () => {
      const plan = await bookPlan(t.http, R);
      let expectedVersion = 1;
      for (let n = 1; n <= 4; n++) {
        const s = refOf(plan, `infusion#${n}`);
        const results = await Promise.all([
          act(R.keys.frontDesk, s.id, 'check-in'),
          act(R.keys.frontDesk, s.id, 'check-in'),
          act(R.keys.frontDesk, s.id, 'no-show', {}),
          act(R.keys.frontDesk, s.id, 'cancel', { reason: 'race' }),
        ]);
        const ok = results.filter((r) => r.status === 200);
        const winner = ok[0]?.body.status as Status | undefined;
        // check-in then cancel may both succeed (checked_in → cancelled is allowed); nothing else may.
        const bad = results.filter((r) => r.status !== 200);
        for (const r of bad) expectProblem(r, 409, 'INVALID_TRANSITION');
        expect(
          ok.length === 1 ||
            (ok.length === 2 &&
              ok
                .map((r) => r.body.status)
                .sort()
                .join() === 'cancelled,checked_in'),
        ).toBe(true);
        expect(ok.filter((r) => r.body.status === 'checked_in').length).toBeLessThanOrEqual(1);
        expect(winner).toBeDefined();
        expectedVersion += ok.length;
        expect(await adjustmentCount(plan.id)).toBe(expectedVersion - 1);
        expect((await planRow(plan.id)).version).toBe(expectedVersion);
      }
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('the day sheet: GET /v1/sessions', () => {
    let D: Setup;
    let plans: Json[];
    let all: Json[];
    const sheet = (key: string, q: Json, requestId?: string) => {
      const r = api().get('/v1/sessions').query(q).set(bearer(key));
      if (requestId) r.set('x-request-id', requestId);
      return r;
    };
    const inDates = (from: string, to: string) =>
      all.filter((s) => s.localDate >= from && s.localDate <= to).sort(byStartThenId);

    beforeAll(async () => {
      D = await setupClinic(t.app, t.http, 'Sheet');
      plans = [
        await bookPlan(t.http, D, { earliestStart: '2026-11-30' }, { fullName: 'Jordan Rivera' }),
        await bookPlan(t.http, D, { earliestStart: '2026-11-30' }, { fullName: 'Casey Morgan' }),
        await bookPlan(t.http, D, { earliestStart: '2026-12-02' }, { fullName: 'Sam Okafor' }),
      ];
      all = plans.flatMap((p) => p.sessions.map((s: Json) => ({ ...s, patientId: p.patientId })));
    });

    it('local dates: from and to inclusive, in the clinic zone, ordered by start; each item has its patient', async () => {
      const res = await sheet(D.keys.frontDesk, { from: '2026-11-30', to: '2026-12-04' });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body.timezone).toBe(ZONE);
      expect(res.body.nextCursor).toBeNull();
      const expected = inDates('2026-11-30', '2026-12-04');
      expect(expected.length).toBeGreaterThan(5);
      expect(res.body.items.map((s: Json) => s.id)).toEqual(expected.map((s) => s.id));
      const names = new Map([
        [plans[0].patientId, 'Jordan Rivera'],
        [plans[1].patientId, 'Casey Morgan'],
        [plans[2].patientId, 'Sam Okafor'],
      ]);
      for (const item of res.body.items) {
        expect(item.patient).toEqual({ id: item.patientId, fullName: names.get(item.patientId) });
        expect(item.localDate >= '2026-11-30' && item.localDate <= '2026-12-04').toBe(true);
      }
      // An item is the session as GET /v1/sessions/{id} shows it, plus the patient.
      const first = res.body.items[0];
      const one = await getSession(D.keys.frontDesk, first.id).expect(200);
      const { patient: _p, ...rest } = first;
      expect(rest).toEqual(one.body);

      // A single day: from = to.
      const lastDay = expected[expected.length - 1].localDate as string;
      const single = await sheet(D.keys.frontDesk, { from: lastDay, to: lastDay }).expect(200);
      expect(single.body.items.map((s: Json) => s.id)).toEqual(inDates(lastDay, lastDay).map((s) => s.id));
      expect(single.body.items.length).toBeGreaterThan(0);
      // A day with nothing (a Sunday).
      expect((await sheet(D.keys.frontDesk, { from: '2026-12-06', to: '2026-12-06' }).expect(200)).body).toEqual({
        timezone: ZONE,
        items: [],
        nextCursor: null,
      });
    });

    it('ISO instants: from inclusive, to exclusive, any offset', async () => {
      const sorted = [...all].sort(byStartThenId);
      const a = sorted[3];
      const b = sorted.find((s) => Date.parse(s.start) > Date.parse(a.start) + 3 * 86_400_000)!;
      expect(b).toBeDefined();
      const expected = sorted.filter(
        (s) => Date.parse(s.start) >= Date.parse(a.start) && Date.parse(s.start) < Date.parse(b.start),
      );
      const utcFrom = new Date(Date.parse(a.start)).toISOString();
      const res = await sheet(D.keys.frontDesk, { from: utcFrom, to: b.start }).expect(200);
      expect(res.body.items.map((s: Json) => s.id)).toEqual(expected.map((s) => s.id));
      expect(res.body.items[0].id === a.id || Date.parse(res.body.items[0].start) === Date.parse(a.start)).toBe(true);
      expect(res.body.items.map((s: Json) => s.id)).not.toContain(b.id);
      // One minute later, a is out.
      const later = await sheet(D.keys.frontDesk, { from: plusMinutes(a.start, 1), to: b.start }).expect(200);
      expect(later.body.items.map((s: Json) => s.id)).toEqual(
        expected.filter((s) => Date.parse(s.start) > Date.parse(a.start)).map((s) => s.id),
      );
      // A local date and an instant can be mixed.
      const mixed = await sheet(D.keys.frontDesk, { from: a.localDate, to: b.start }).expect(200);
      expect(mixed.body.items.map((s: Json) => s.id)).toEqual(
        sorted.filter((s) => s.localDate >= a.localDate && Date.parse(s.start) < Date.parse(b.start)).map((s) => s.id),
      );
    });

    it('filters: chairId, staffId, patientId, status', async () => {
      const from = '2026-11-30';
      const to = '2026-12-30';
      const window = inDates(from, to);
      const ids = async (q: Json) =>
        (await sheet(D.keys.frontDesk, { from, to, limit: 200, ...q }).expect(200)).body.items.map((s: Json) => s.id);

      const byChair = await ids({ chairId: D.chairs[0].id });
      expect(byChair).toEqual(window.filter((s) => s.chair?.id === D.chairs[0].id).map((s) => s.id));
      expect(byChair.length).toBeGreaterThan(0);
      const byTherapist = await ids({ staffId: D.therapist.id });
      expect(byTherapist).toEqual(window.filter((s) => s.staff?.id === D.therapist.id).map((s) => s.id));
      expect(byTherapist.length).toBeGreaterThan(0);
      const byPatient = await ids({ patientId: plans[1].patientId });
      expect(byPatient).toEqual(window.filter((s) => s.patientId === plans[1].patientId).map((s) => s.id));
      expect(await ids({ patientId: plans[1].patientId, staffId: D.nurse.id })).toEqual(
        window.filter((s) => s.patientId === plans[1].patientId && s.staff?.id === D.nurse.id).map((s) => s.id),
      );
      expect(await ids({ chairId: randomUUID() })).toEqual([]);

      // Status: check in the first session of the third patient, and cancel their second.
      const target = window.find((s) => s.patientId === plans[2].patientId)!;
      const gone = window.filter((s) => s.patientId === plans[2].patientId)[1];
      await actOk(D.keys.frontDesk, target.id, 'check-in');
      await actOk(D.keys.frontDesk, gone.id, 'cancel', { reason: 'Moved away' });
      expect(await ids({ status: 'checked_in' })).toEqual([target.id]);
      expect(await ids({ status: 'cancelled' })).toEqual([gone.id]);
      expect(await ids({ status: 'scheduled' })).toEqual(
        window.filter((s) => s.id !== target.id && s.id !== gone.id).map((s) => s.id),
      );
      expect(await ids({ status: 'completed' })).toEqual([]);
      // The cancelled session stays on the sheet (unfiltered), with its status.
      const everything = (await sheet(D.keys.frontDesk, { from, to, limit: 200 }).expect(200)).body.items;
      expect(everything.find((s: Json) => s.id === gone.id)).toMatchObject({
        status: 'cancelled',
        statusReason: 'Moved away',
      });
      expect(everything.map((s: Json) => s.id)).toEqual(window.map((s) => s.id));
    });

    it('pages with limit and nextCursor to the end: no duplicates, no gaps, ordered by start', async () => {
      const from = '2026-11-30';
      const to = '2026-12-30';
      const expected = inDates(from, to).map((s) => s.id);
      expect(expected.length).toBeGreaterThan(12);
      for (const limit of [1, 4, 7]) {
        const seen: Json[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const res = await sheet(D.keys.frontDesk, { from, to, limit, ...(cursor ? { cursor } : {}) });
          expect(res.status).toBe(200);
          pages++;
          expect(res.body.items.length).toBeLessThanOrEqual(limit);
          seen.push(...res.body.items);
          cursor = res.body.nextCursor ?? undefined;
          if (cursor) expect(res.body.items).toHaveLength(limit);
          expect(pages).toBeLessThanOrEqual(expected.length + 1);
        } while (cursor);
        expect(seen.map((s) => s.id)).toEqual(expected);
        expect(new Set(seen.map((s) => s.id)).size).toBe(seen.length);
        for (let i = 1; i < seen.length; i++)
          expect(Date.parse(seen[i].start)).toBeGreaterThanOrEqual(Date.parse(seen[i - 1].start));
        expect(pages).toBe(Math.ceil(expected.length / limit));
      }
      // Exactly a page's worth: one full page that says there is no more.
      const n = expected.length;
      const full = await sheet(D.keys.frontDesk, { from, to, limit: n }).expect(200);
      expect(full.body.items).toHaveLength(n);
      expect(full.body.nextCursor).toBeNull();
      // Paging keeps the filters.
      const chairIds: string[] = [];
      let cursor: string | undefined;
      do {
        const res = await sheet(D.keys.frontDesk, {
          from,
          to,
          limit: 2,
          chairId: D.chairs[1].id,
          ...(cursor ? { cursor } : {}),
        }).expect(200);
        chairIds.push(...res.body.items.map((s: Json) => s.id));
        cursor = res.body.nextCursor ?? undefined;
      } while (cursor);
      expect(chairIds).toEqual(
        inDates(from, to)
          .filter((s) => s.chair?.id === D.chairs[1].id)
          .map((s) => s.id),
      );
    });

    it('sessions of another clinic never appear', async () => {
      const q = { from: '2026-11-30', to: '2026-12-30', limit: 200 };
      const ofD = (await sheet(D.keys.frontDesk, q).expect(200)).body.items.map((s: Json) => s.id);
      const ofB = (await sheet(B.keys.frontDesk, q).expect(200)).body.items.map((s: Json) => s.id);
      expect(ofB.length).toBeGreaterThan(0);
      expect(ofD.filter((id: string) => ofB.includes(id))).toEqual([]);
      for (const s of planB.sessions) expect(ofD).not.toContain(s.id);
      // Naming another clinic with a clinic key does not reach into it.
      const cross = await sheet(D.keys.frontDesk, { ...q, clinicId: B.keys.clinicId });
      if (cross.status === 200) expect(cross.body.items).toEqual([]);
      else expect([400, 403, 404]).toContain(cross.status);
    });

    it('an operator key names the clinic (400 naming clinicId without it)', async () => {
      const operator = await persistOperatorKey(t.app);
      const q = { from: '2026-11-30', to: '2026-12-04' };
      expectProblem(await sheet(operator, q), 400, 'VALIDATION_FAILED', ['clinicId']);
      expectProblem(await sheet(operator, { ...q, clinicId: randomUUID() }), 400, 'VALIDATION_FAILED', ['clinicId']);
      expectProblem(await sheet(operator, { ...q, clinicId: 'nope' }), 400, 'VALIDATION_FAILED', ['clinicId']);
      const asOperator = await sheet(operator, { ...q, clinicId: D.keys.clinicId }).expect(200);
      const asClinic = await sheet(D.keys.frontDesk, q).expect(200);
      expect(asOperator.body.items.map((s: Json) => s.id)).toEqual(asClinic.body.items.map((s: Json) => s.id));
      expect(asOperator.body.items.length).toBeGreaterThan(0);
    });

    it('refuses bad windows and parameters with 400 naming the field', async () => {
      const k = D.keys.frontDesk;
      const cases: [Json, string][] = [
        [{ from: '2026-12-01', to: '2027-01-01' }, 'to'], // 32 days
        [{ from: '2026-12-01T00:00:00-05:00', to: '2027-01-01T00:00:01-05:00' }, 'to'],
        [{ from: '2026-12-05', to: '2026-12-04' }, 'to'],
        [{ from: '2026-12-05T10:00:00Z', to: '2026-12-05T10:00:00Z' }, 'to'],
        [{ from: '2026-12-05T10:00:00Z', to: '2026-12-05T09:00:00Z' }, 'to'],
        [{ from: '2026-13-45', to: '2026-12-04' }, 'from'],
        [{ from: 'yesterday', to: '2026-12-04' }, 'from'],
        [{ from: 'not-a-date-at-all', to: '2026-12-04' }, 'from'],
        [{ from: '2026-12-01T10:00:00', to: '2026-12-04' }, 'from'], // no offset
        [{ from: '2026-12-01', to: '2026-12-32' }, 'to'],
        [{ to: '2026-12-04' }, 'from'],
        [{ from: '2026-12-01' }, 'to'],
        [{ from: '2026-12-01', to: '2026-12-04', chairId: 'chair-1' }, 'chairId'],
        [{ from: '2026-12-01', to: '2026-12-04', staffId: '42' }, 'staffId'],
        [{ from: '2026-12-01', to: '2026-12-04', patientId: 'x' }, 'patientId'],
        [{ from: '2026-12-01', to: '2026-12-04', status: 'done' }, 'status'],
        [{ from: '2026-12-01', to: '2026-12-04', limit: 0 }, 'limit'],
        [{ from: '2026-12-01', to: '2026-12-04', limit: 201 }, 'limit'],
        [{ from: '2026-12-01', to: '2026-12-04', limit: 'ten' }, 'limit'],
        [{ from: '2026-12-01', to: '2026-12-04', cursor: 'bogus' }, 'cursor'],
        [
          {
            from: '2026-12-01',
            to: '2026-12-04',
            cursor: Buffer.from(JSON.stringify(["2026-12-01'; DROP TABLE sessions", randomUUID()])).toString(
              'base64url',
            ),
          },
          'cursor',
        ],
      ];
      for (const [q, field] of cases) {
        const res = await sheet(k, q);
        expectProblem(res, 400, 'VALIDATION_FAILED', [field]);
      }
      // 31 days inclusive is the most.
      expect((await sheet(k, { from: '2026-12-01', to: '2026-12-31' })).status).toBe(200);
      expect((await sheet(k, { from: '2026-12-01T00:00:00-05:00', to: '2027-01-01T00:00:00-05:00' })).status).toBe(200);
    });

    it('every listed item leaves one session.list audit event; GET one leaves session.read', async () => {
      const requestId = `sheet-${randomUUID()}`;
      const res = await sheet(D.keys.frontDesk, { from: '2026-11-30', to: '2026-12-02', limit: 5 }, requestId).expect(
        200,
      );
      expect(res.headers['x-request-id']).not.toBe(requestId); // ours; the caller's is stored beside it
      const items: Json[] = res.body.items;
      expect(items.length).toBeGreaterThan(0);
      const frontDeskKey = await keyId(D.keys, 'front_desk');
      const rows: Json[] = await t.dataSource.query(
        'SELECT clinic_id, action, entity_type, entity_id, patient_id, actor_role, actor_key_id FROM audit_events WHERE client_request_id = $1 ORDER BY entity_id',
        [requestId],
      );
      expect(rows).toHaveLength(items.length);
      expect(rows).toEqual(
        items
          .map((s) => ({
            clinic_id: D.keys.clinicId,
            action: 'session.list',
            entity_type: 'session',
            entity_id: s.id,
            patient_id: s.patientId,
            actor_role: 'front_desk',
            actor_key_id: frontDeskKey,
          }))
          .sort((x, y) => (x.entity_id < y.entity_id ? -1 : 1)),
      );

      const readId = `read-${randomUUID()}`;
      const one = await getSession(D.keys.clinician, items[0].id).set('x-request-id', readId).expect(200);
      const readRows: Json[] = await t.dataSource.query(
        'SELECT clinic_id, action, entity_type, entity_id, patient_id, actor_role FROM audit_events WHERE client_request_id = $1',
        [readId],
      );
      expect(readRows).toEqual([
        {
          clinic_id: D.keys.clinicId,
          action: 'session.read',
          entity_type: 'session',
          entity_id: items[0].id,
          patient_id: one.body.patientId,
          actor_role: 'clinician',
        },
      ]);

      // A status change is audited too, in its transaction.
      const changeId = `change-${randomUUID()}`;
      const target = items.find((s) => s.status === 'scheduled')!;
      await api()
        .post(`/v1/sessions/${target.id}/no-show`)
        .set(bearer(D.keys.frontDesk))
        .set('x-request-id', changeId)
        .send({})
        .expect(200);
      const changeRows: Json[] = await t.dataSource.query(
        'SELECT action, entity_id FROM audit_events WHERE client_request_id = $1',
        [changeId],
      );
      expect(changeRows).toEqual([{ action: 'session.no_show', entity_id: target.id }]);
    });

    it("local dates are the clinic's: a clinic far from UTC", async () => {
      // Auckland is UTC+13 in December: a 08:00 session there is the previous day in UTC.
      const K = await setupClinic(t.app, t.http, 'Auckland', { timezone: 'Pacific/Auckland' });
      const plan = await bookPlan(t.http, K, { protocolId: K.shortProtocolId, earliestStart: '2026-12-01' });
      let mornings = 0;
      for (const s of plan.sessions as Json[]) {
        const res = await sheet(K.keys.frontDesk, { from: s.localDate, to: s.localDate }).expect(200);
        expect(res.body.timezone).toBe('Pacific/Auckland');
        expect(res.body.items.map((x: Json) => x.id)).toEqual(
          (plan.sessions as Json[])
            .filter((x) => x.localDate === s.localDate)
            .sort(byStartThenId)
            .map((x) => x.id),
        );
        // The UTC date of an Auckland morning is the day before: asking for that day does not list it.
        const utcDate = new Date(Date.parse(s.start)).toISOString().slice(0, 10);
        if (utcDate < s.localDate) {
          mornings++;
          const prev = await sheet(K.keys.frontDesk, { from: utcDate, to: utcDate }).expect(200);
          expect(prev.body.items.map((x: Json) => x.id)).not.toContain(s.id);
        }
      }
      expect(mornings).toBeGreaterThan(0);
    });
  });
});
