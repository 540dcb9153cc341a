import request from 'supertest';
import { bookPlan, refOf, setupClinic, type ClinicSetup } from '../factories/series.factory.js';
import { expectProblem } from '../support/problem.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

type Json = Record<string, any>;

// Issue 14, item 9: an adjustment with a stale If-Match is 412, whatever else is wrong with it
// (a target that is busy, no longer scheduled, or not in the plan): the precondition is checked
// first, on the locked plan row, before anything about the change.
describe('adjustments: a stale If-Match is 412 before any 409', () => {
  let t: TestApp;
  let s: ClinicSetup;
  let a: Json;
  let b: Json;

  beforeAll(async () => {
    t = await startTestApp();
    s = await setupClinic(t.app, t.http, 'Precondition', { chairs: 2, nurseMax: 1 });
    a = await bookPlan(t.http, s, { protocolId: s.shortProtocolId });
    b = await bookPlan(t.http, s, { protocolId: s.shortProtocolId });
    // The intake of A is today at 10:00, now: checked in (plan A goes to version 2).
    await request(t.http)
      .post(`/v1/sessions/${refOf(a, 'intake#1').id}/check-in`)
      .set(bearer(s.keys.frontDesk))
      .expect(200);
  });
  afterAll(() => t.close());

  const adjust = (body: Json, ifMatch: string) =>
    request(t.http)
      .post(`/v1/plans/${a.id}/adjustments`)
      .set(bearer(s.keys.clinician))
      .set('If-Match', ifMatch)
      .send(body);
  const version = async () =>
    (await t.dataSource.query(`SELECT version FROM plans WHERE id = $1`, [a.id]))[0].version as number;

  const cases: [string, () => Json, number, string][] = [
    [
      'skip of a checked-in session',
      () => ({ type: 'skip', sessionId: refOf(a, 'intake#1').id, reason: 'r' }),
      409,
      'SESSION_NOT_ADJUSTABLE',
    ],
    [
      'reschedule of a checked-in session',
      () => ({ type: 'reschedule', sessionId: refOf(a, 'intake#1').id, start: refOf(b, 'infusion#1').start }),
      409,
      'SESSION_NOT_ADJUSTABLE',
    ],
    [
      'skip of a session of another plan',
      () => ({ type: 'skip', sessionId: refOf(b, 'infusion#1').id, reason: 'r' }),
      404,
      'SESSION_NOT_FOUND',
    ],
    [
      'reschedule onto the time the only nurse is busy',
      () => ({ type: 'reschedule', sessionId: refOf(a, 'infusion#2').id, start: refOf(b, 'infusion#2').start }),
      422,
      'PLAN_INFEASIBLE',
    ],
  ];

  it.each(cases)(
    '%s: 412 with the old ETag, though the current one gets the refusal',
    async (_name, body, status, code) => {
      const current = `"p${await version()}"`;
      const stale = `"p${(await version()) - 1}"`;
      const res = await adjust(body(), stale);
      expectProblem(res, 412, 'PRECONDITION_FAILED');
      expect(res.body.currentEtag).toBe(current);
      // The target really is in the way: with the current ETag the same change is refused for it.
      expectProblem(await adjust(body(), current), status, code);
      expect(`"p${await version()}"`).toBe(current);
    },
  );
});
