import { DateTime } from 'luxon';
import request from 'supertest';
import { bookPlan, refOf, setupClinic, type ClinicSetup } from '../factories/series.factory.js';
import { expectProblem } from '../support/problem.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// Issue 14, item 7: check-in only on the session's local day (a clinic may open it up to 7 days
// earlier), completion only once the session has begun or with an observed start in the past.
// Refusals are 409 (like INVALID_TRANSITION: the request is fine, the session's state in time is
// not yet, or no longer, right) and write nothing.
const NOW = DateTime.fromISO('2026-11-25T15:00:00Z', { zone: 'utc' });
const ZONE = 'America/New_York';
type Json = Record<string, any>;

describe('check-in and completion follow the clock', () => {
  let t: TestApp;
  let s: ClinicSetup;

  beforeAll(async () => {
    t = await startTestApp({ now: NOW.toISO()! });
  });
  beforeEach(async () => {
    t.clock.set(NOW);
    s = await setupClinic(t.app, t.http, `Clock ${Math.random()}`);
  });
  afterAll(() => t.close());

  const act = (key: string, id: string, action: 'check-in' | 'complete' | 'no-show', body: Json = {}) =>
    request(t.http).post(`/v1/sessions/${id}/${action}`).set(bearer(key)).send(body);
  const at = (iso: DateTime) => t.clock.set(iso.toUTC());
  const state = async (planId: string) =>
    (
      await t.dataSource.query(
        `SELECT (SELECT json_agg(json_build_object('status', status, 'version', version) ORDER BY ref) FROM sessions WHERE plan_id = $1) AS sessions,
                (SELECT version FROM plans WHERE id = $1) AS version, (SELECT count(*)::int FROM plan_adjustments WHERE plan_id = $1) AS log`,
        [planId],
      )
    )[0];
  /** A series starting on Monday 2027-01-11, 47 days after now; its intake (no dose) and its local day. */
  async function farSeries() {
    const plan = await bookPlan(t.http, s, { protocolId: s.shortProtocolId, earliestStart: '2027-01-11' });
    const intake = refOf(plan, 'intake#1');
    const start = DateTime.fromISO(intake.start, { zone: ZONE });
    return { plan, intake, start, day: start.startOf('day') };
  }

  it('check-in 47 days ahead, or the evening before, is 409 CHECK_IN_NOT_OPEN naming when it opens; nothing written', async () => {
    const { plan, intake, day } = await farSeries();
    const before = await state(plan.id);
    for (const when of [NOW, day.minus({ minutes: 1 })]) {
      at(when);
      const res = await act(s.keys.frontDesk, intake.id, 'check-in');
      expectProblem(res, 409, 'CHECK_IN_NOT_OPEN');
      expect(res.body.checkInOpensAt).toBe(day.toISO({ suppressMilliseconds: true }));
      expect(await state(plan.id)).toEqual(before);
    }
    at(day);
    expect((await act(s.keys.frontDesk, intake.id, 'check-in')).status).toBe(200);
  });

  it('the day after is too late (409): the session is a no-show, which the front desk may still record', async () => {
    const { plan, intake, day } = await farSeries();
    at(day.plus({ days: 1 }));
    const before = await state(plan.id);
    const res = await act(s.keys.frontDesk, intake.id, 'check-in');
    expectProblem(res, 409, 'CHECK_IN_NOT_OPEN');
    expect(res.body.detail).toMatch(/closed/);
    expect(await state(plan.id)).toEqual(before);
    expect((await act(s.keys.frontDesk, intake.id, 'no-show')).status).toBe(200);
  });

  it('a clinic may open check-in up to 7 days before (PATCH /v1/clinics/{id}); out of range is 400', async () => {
    const url = `/v1/clinics/${s.keys.clinicId}`;
    for (const bad of [8, -1, 1.5, null, '2']) {
      expectProblem(
        await request(t.http).patch(url).set(bearer(s.keys.admin)).send({ checkInOpensDaysBefore: bad }),
        400,
        'VALIDATION_FAILED',
        'checkInOpensDaysBefore',
      );
    }
    const patched = await request(t.http)
      .patch(url)
      .set(bearer(s.keys.admin))
      .send({ checkInOpensDaysBefore: 2 })
      .expect(200);
    expect(patched.body.checkInOpensDaysBefore).toBe(2);
    expect((await request(t.http).get(url).set(bearer(s.keys.admin)).expect(200)).body.checkInOpensDaysBefore).toBe(2);

    const { intake, day } = await farSeries();
    at(day.minus({ days: 2, minutes: 1 }));
    expectProblem(await act(s.keys.frontDesk, intake.id, 'check-in'), 409, 'CHECK_IN_NOT_OPEN');
    at(day.minus({ days: 2 }));
    expect((await act(s.keys.frontDesk, intake.id, 'check-in')).status).toBe(200);
  });

  it('completing before the start: 409 SESSION_NOT_STARTED without actualStart, 400 with one in the future; fine once begun or with a past actualStart', async () => {
    const { plan, intake, start } = await farSeries();
    const infusion = refOf(plan, 'infusion#1');
    at(start.minus({ minutes: 44 }));
    expect((await act(s.keys.frontDesk, intake.id, 'check-in')).status).toBe(200);
    const before = await state(plan.id);

    const early = await act(s.keys.clinician, intake.id, 'complete');
    expectProblem(early, 409, 'SESSION_NOT_STARTED');
    expect(early.body.startsAt).toBe(intake.start);
    const future = start.minus({ minutes: 30 }).toISO({ suppressMilliseconds: true })!;
    expectProblem(
      await act(s.keys.clinician, intake.id, 'complete', { actualStart: future }),
      400,
      'VALIDATION_FAILED',
      'actualStart',
      { exact: true },
    );
    expectProblem(
      await act(s.keys.clinician, intake.id, 'complete', { actualEnd: '9999-12-31T10:00:00Z' }),
      400,
      'VALIDATION_FAILED',
      'actualEnd',
      { exact: true },
    );
    expect(await state(plan.id)).toEqual(before);

    // Begun by the clock: done.
    at(start.plus({ minutes: 5 }));
    expect((await act(s.keys.clinician, intake.id, 'complete')).status).toBe(200);

    // Seen early (the patient came in before the planned time): an observed start in the past will do.
    const inf = DateTime.fromISO(infusion.start, { zone: ZONE });
    at(inf.minus({ minutes: 20 }));
    expect((await act(s.keys.frontDesk, infusion.id, 'check-in')).status).toBe(200);
    at(inf.minus({ minutes: 10 }));
    const done = await act(s.keys.clinician, infusion.id, 'complete', {
      doseGiven: { amount: 0.5, unit: 'mg/kg' },
      actualStart: inf.minus({ minutes: 15 }).toISO({ suppressMilliseconds: true }),
    });
    expect(done.body.errors).toBeUndefined();
    expect({ status: done.status, status2: done.body.status }).toEqual({ status: 200, status2: 'completed' });
  });
});
