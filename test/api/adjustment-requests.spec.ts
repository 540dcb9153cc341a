import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { bookPlan, refOf, setupClinic, type ClinicSetup } from '../factories/series.factory.js';
import { expectProblem } from '../support/problem.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

type Json = Record<string, any>;

// Issue 16, item 3: one request type per adjustment (a discriminated union on `type`), validated
// before anything is read, and refusals with the feature's own codes instead of INVALID_TRANSITION.
describe('adjustment requests: one type each, and their own refusals', () => {
  let t: TestApp;
  let s: ClinicSetup;
  let plan: Json;

  beforeAll(async () => {
    t = await startTestApp();
    s = await setupClinic(t.app, t.http, 'Requests', { chairs: 2 });
    plan = await bookPlan(t.http, s, { protocolId: s.shortProtocolId });
  });
  afterAll(() => t.close());

  const etagOf = async (planId: string) =>
    `"p${(await t.dataSource.query(`SELECT version FROM plans WHERE id = $1`, [planId]))[0].version}"`;
  const adjust = (planId: string, body: unknown, ifMatch: string, key = s.keys.clinician, preview = false) =>
    request(t.http)
      .post(`/v1/plans/${planId}/adjustments${preview ? '?preview=true' : ''}`)
      .set(bearer(key))
      .set('If-Match', ifMatch)
      .send(body as object);
  const sessionRows = (planId: string) =>
    t.dataSource.query(
      `SELECT id, status, starts_at, chair_id, version FROM sessions WHERE plan_id = $1 ORDER BY ref`,
      [planId],
    );

  // A plan that does not exist: a request that got past validation would be a 404.
  const noPlan = randomUUID();
  const session = () => refOf(plan, 'infusion#2').id as string;

  it.each([
    ['reschedule without start', () => ({ type: 'reschedule', sessionId: session() }), ['start']],
    ['reschedule without sessionId', () => ({ type: 'reschedule', start: '2026-12-10T10:00:00-05:00' }), ['sessionId']],
    ['change_chair without chairId', () => ({ type: 'change_chair', sessionId: session() }), ['chairId']],
    ['change_staff without staffId', () => ({ type: 'change_staff', sessionId: session() }), ['staffId']],
    ['change_chair without sessionId', () => ({ type: 'change_chair', chairId: s.chairs[1].id }), ['sessionId']],
    ['skip without sessionId', () => ({ type: 'skip', reason: 'r' }), ['sessionId']],
    ['add without stepKey', () => ({ type: 'add', reason: 'r' }), ['stepKey']],
    ['change_dose without amount', () => ({ type: 'change_dose', stepKey: 'infusion', reason: 'r' }), ['amount']],
    ['cancel_remaining without reason', () => ({ type: 'cancel_remaining' }), ['reason']],
    ['add without reason', () => ({ type: 'add', stepKey: 'infusion' }), ['reason']],
  ])('%s: 400 naming the field, before the plan is looked at', async (_what, body, fields) => {
    const res = await adjust(noPlan, body(), '"p1"');
    expectProblem(res, 400, 'VALIDATION_FAILED', fields, { exact: true });
  });

  it.each([
    ['an unknown type', { type: 'reschedule_everything', reason: 'r' }],
    ['no type', { sessionId: randomUUID(), start: '2026-12-10T10:00:00-05:00' }],
    ['a type that is not a string', { type: 7 }],
    ['an empty body', {}],
    ['a list', [{ type: 'skip' }]],
  ])('%s: 400 on type alone', async (_what, body) => {
    const res = await adjust(noPlan, body, '"p1"');
    expectProblem(res, 400, 'VALIDATION_FAILED', ['type'], { exact: true });
    expect(res.body.errors[0].message).toBe(
      'type must be one of the following values: change_dose, skip, cancel_remaining, change_chair, change_staff, reschedule, add',
    );
  });

  it.each([
    [
      'shift on a reschedule',
      () => ({ type: 'reschedule', sessionId: session(), start: '2026-12-10T10:00:00-05:00', shift: true }),
      'shift',
    ],
    ['amount on cancel_remaining', () => ({ type: 'cancel_remaining', reason: 'r', amount: 0.3 }), 'amount'],
    ['stepKey on a skip', () => ({ type: 'skip', sessionId: session(), reason: 'r', stepKey: 'infusion' }), 'stepKey'],
    [
      'staffId on change_chair',
      () => ({ type: 'change_chair', sessionId: session(), chairId: s.chairs[1].id, staffId: s.nurse.id }),
      'staffId',
    ],
    [
      'start on add',
      () => ({ type: 'add', stepKey: 'infusion', reason: 'r', start: '2026-12-10T10:00:00-05:00' }),
      'start',
    ],
  ])('a field of another type is refused: %s', async (_what, body, field) => {
    const res = await adjust(noPlan, body(), '"p1"');
    expectProblem(res, 400, 'VALIDATION_FAILED', [field], { exact: true });
    expect(res.body.errors[0].message).toBe('is not a known field');
  });

  it('refuses a clinical type to the front desk (403) before looking at its fields; other types are validated for it', async () => {
    for (const body of [
      { type: 'add' },
      { type: 'change_dose', amount: 'lots', unknown: 1 },
      { type: 'cancel_remaining', reason: 'r', amount: 0.3 },
      { type: 'skip', sessionId: 'nope' },
    ]) {
      expectProblem(await adjust(noPlan, body, '"p1"', s.keys.frontDesk), 403, 'FORBIDDEN');
    }
    expectProblem(
      await adjust(noPlan, { type: 'change_chair', sessionId: session() }, '"p1"', s.keys.frontDesk),
      400,
      'VALIDATION_FAILED',
      ['chairId'],
      { exact: true },
    );
    // Valid, then: a plan nobody has.
    expectProblem(
      await adjust(
        noPlan,
        { type: 'change_chair', sessionId: session(), chairId: s.chairs[1].id },
        '"p1"',
        s.keys.frontDesk,
      ),
      404,
      'PLAN_NOT_FOUND',
    );
  });

  it('SESSION_NOT_ADJUSTABLE (409) names the status of a session the change does not apply to', async () => {
    const mine = await bookPlan(t.http, s, { protocolId: s.shortProtocolId });
    const intake = refOf(mine, 'intake#1').id;
    await request(t.http).post(`/v1/sessions/${intake}/check-in`).set(bearer(s.keys.frontDesk)).expect(200);
    const before = await sessionRows(mine.id);
    for (const body of [
      { type: 'change_staff', sessionId: intake, staffId: s.physician.id },
      { type: 'reschedule', sessionId: intake, start: '2026-12-10T10:00:00-05:00' },
      { type: 'skip', sessionId: intake, reason: 'r' },
      { type: 'skip', sessionId: intake, reason: 'r', shift: true },
    ]) {
      const res = await adjust(mine.id, body, await etagOf(mine.id));
      expectProblem(res, 409, 'SESSION_NOT_ADJUSTABLE');
      expect(res.body.currentStatus).toBe('checked_in');
    }
    expect(await sessionRows(mine.id)).toEqual(before);
  });

  it('NOTHING_TO_ADJUST (409) once nothing is left, and PLAN_ENDED (409) for an add to a plan that ended early', async () => {
    const mine = await bookPlan(t.http, s, { protocolId: s.shortProtocolId });
    await adjust(mine.id, { type: 'cancel_remaining', reason: 'Moved away' }, await etagOf(mine.id)).expect(200);
    const before = await sessionRows(mine.id);
    const etag = await etagOf(mine.id);
    expectProblem(await adjust(mine.id, { type: 'cancel_remaining', reason: 'again' }, etag), 409, 'NOTHING_TO_ADJUST');
    expectProblem(
      await adjust(mine.id, { type: 'change_dose', stepKey: 'infusion', amount: 0.4, reason: 'r' }, etag),
      409,
      'NOTHING_TO_ADJUST',
    );
    expectProblem(
      await adjust(mine.id, { type: 'add', stepKey: 'infusion', reason: 'Restart' }, etag, s.keys.clinician, true),
      409,
      'PLAN_ENDED',
    );
    expect(await sessionRows(mine.id)).toEqual(before);
    expect(await etagOf(mine.id)).toBe(etag);
  });

  it('PLAN_TEMPLATE_MISMATCH (409) when the engine cannot place a plan that no longer matches its template', async () => {
    const mine = await bookPlan(t.http, s, { protocolId: s.shortProtocolId });
    // A third infusion the booked plan does not have (written by hand: the API never lets a plan drift so).
    await t.dataSource.query(
      `UPDATE plans SET tailoring = jsonb_set(tailoring, '{steps}', '[{"step": "infusion", "occurrences": 3}]') WHERE id = $1`,
      [mine.id],
    );
    const target = refOf(mine, 'infusion#1');
    const before = await sessionRows(mine.id);
    for (const body of [
      { type: 'reschedule', sessionId: target.id, start: '2026-12-10T10:00:00-05:00' },
      { type: 'skip', sessionId: target.id, reason: 'r', shift: true },
    ]) {
      expectProblem(await adjust(mine.id, body, await etagOf(mine.id)), 409, 'PLAN_TEMPLATE_MISMATCH');
    }
    // A change the engine does not re-plan still applies.
    await adjust(
      mine.id,
      { type: 'skip', sessionId: target.id, reason: 'r' },
      await etagOf(mine.id),
      s.keys.clinician,
      true,
    ).expect(200);
    expect(await sessionRows(mine.id)).toEqual(before);
  });

  it('documents each request type in OpenAPI, as a oneOf told apart by type', async () => {
    const doc = (await request(t.http).get('/openapi.json').expect(200)).body;
    const body = doc.paths['/v1/plans/{planId}/adjustments'].post.requestBody.content['application/json'].schema;
    const types = ['change_dose', 'skip', 'cancel_remaining', 'change_chair', 'change_staff', 'reschedule', 'add'];
    expect(body.oneOf).toHaveLength(types.length);
    expect(body.discriminator.propertyName).toBe('type');
    expect(Object.keys(body.discriminator.mapping).sort()).toEqual([...types].sort());
    for (const type of types) {
      const name = body.discriminator.mapping[type].split('/').pop();
      const schema = doc.components.schemas[name];
      expect({ type, enum: schema.properties.type.enum }).toEqual({ type, enum: [type] });
      expect(schema.required).toContain('type');
    }
    expect(doc.components.schemas.RescheduleDto.required).toEqual(expect.arrayContaining(['sessionId', 'start']));
    expect(doc.components.schemas.SkipDto.required).toEqual(expect.arrayContaining(['sessionId', 'reason']));
    expect(doc.components.schemas.ChangeChairDto.required).not.toContain('reason');
  });
});
