import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { seedDemo } from '../../src/seed/demo-seed.js';
import { expectProblem } from '../support/problem.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// Adjustments on the demo clinic's booked series: the seed books two plans through the API's own service.
describe('plan adjustments (change_dose, skip, cancel_remaining)', () => {
  let t: TestApp;
  let keys: Record<string, string>;
  let planIds: string[];

  beforeAll(async () => {
    t = await startTestApp();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'chairside-adjust-'));
    const seeded = await seedDemo(t.app, dir);
    keys = Object.fromEntries(
      readFileSync(seeded.keysFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.replace(/^export /, '').split('=') as [string, string]),
    );
    planIds = (await t.dataSource.query(`SELECT id FROM plans WHERE status = 'active' ORDER BY created_at, id`)).map(
      (r: { id: string }) => r.id,
    );
    expect(planIds).toHaveLength(2);
  });
  afterAll(() => t.close());

  const clinician = () => bearer(keys.CHAIRSIDE_CLINICIAN_KEY);
  const etagOf = async (planId: string) =>
    (await request(t.http).get(`/v1/plans/${planId}`).set(clinician()).expect(200)).headers.etag as string;
  const adjust = (planId: string, body: object, ifMatch?: string, preview = false, key = clinician()) => {
    const r = request(t.http)
      .post(`/v1/plans/${planId}/adjustments${preview ? '?preview=true' : ''}`)
      .set(key);
    return (ifMatch ? r.set('If-Match', ifMatch) : r).send(body);
  };
  const snapshot = async (planId: string) =>
    t.dataSource.query(
      `SELECT id, status, planned_dose, version FROM sessions WHERE plan_id = $1 ORDER BY starts_at, ref`,
      [planId],
    );

  it('GET /v1/plans/{id} carries the plan version as its ETag', async () => {
    const res = await request(t.http).get(`/v1/plans/${planIds[0]}`).set(clinician()).expect(200);
    expect(res.headers.etag).toBe(`"p${res.body.version}"`);
  });

  it('a preview writes nothing, and the commit writes exactly the preview', async () => {
    const plan = planIds[0];
    const etag = await etagOf(plan);
    const before = await snapshot(plan);
    const body = {
      type: 'change_dose',
      stepKey: 'infusion',
      amount: 0.4,
      reason: 'Cravings down after three infusions',
    };
    const preview = await adjust(plan, body, etag, true).expect(200);
    expect(preview.body).toMatchObject({ type: 'change_dose', preview: true });
    expect(preview.body.changes.length).toBe(6); // the six infusions, all still scheduled (not the booster)
    for (const c of preview.body.changes) expect(c.after.dose).toMatchObject({ amount: 0.4, unit: 'mg/kg' });
    expect(await snapshot(plan)).toEqual(before);
    expect(await etagOf(plan)).toBe(etag);
    // Showing the sessions and doses is a read of patient data.
    const [{ n: previews }] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM audit_events WHERE action = 'plan.adjustments.preview' AND entity_id = $1`,
      [plan],
    );
    expect(previews).toBe(1);

    const commit = await adjust(plan, body, etag).expect(200);
    expect(commit.body.changes).toEqual(preview.body.changes);
    expect(commit.body.preview).toBe(false);
    expect(commit.body.planVersion).toBe(preview.body.planVersion + 1);
    expect(commit.headers.etag).toBe(`"p${commit.body.planVersion}"`);
    const after = await snapshot(plan);
    const amounts = after
      .filter((s: { planned_dose: unknown }) => s.planned_dose)
      .map((s: { planned_dose: { amount: number } }) => s.planned_dose.amount);
    expect(amounts.sort()).toEqual([0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.5]); // the booster keeps 0.5

    const log = await request(t.http).get(`/v1/plans/${plan}/adjustments`).set(clinician()).expect(200);
    const entry = log.body.items.at(-1);
    expect(entry).toMatchObject({
      type: 'change_dose',
      reason: body.reason,
      actorRole: 'clinician',
      planVersion: commit.body.planVersion,
    });
    expect(entry.changes).toEqual(commit.body.changes);
  });

  it('needs If-Match (428) and a current one (412)', async () => {
    const plan = planIds[0];
    expectProblem(await adjust(plan, { type: 'change_dose', amount: 0.3, reason: 'r' }), 428, 'PRECONDITION_REQUIRED');
    expectProblem(
      await adjust(plan, { type: 'change_dose', amount: 0.3, reason: 'r' }, '"p1"'),
      412,
      'PRECONDITION_FAILED',
    );
  });

  it.each([
    [{ type: 'change_dose', stepKey: 'infusion', amount: 1.5, reason: 'r' }, 'amount'],
    [{ type: 'change_dose', stepKey: 'infusion', amount: 0.05, reason: 'r' }, 'amount'],
    [{ type: 'change_dose', stepKey: 'infusion', reason: 'r' }, 'amount'],
    [{ type: 'change_dose', amount: 0.3, reason: 'r' }, 'stepKey'],
    [{ type: 'change_dose', amount: 0.3 }, 'reason'],
    [{ type: 'change_dose', amount: 0.3, reason: '   ' }, 'reason'],
    [{ type: 'skip', reason: 'r' }, 'sessionId'],
    [{ type: 'reschedule_everything', reason: 'r' }, 'type'],
    [{ type: 'skip', reason: 'r', sessionId: 'nope' }, 'sessionId'],
  ])('refuses %j naming %s, writing nothing', async (body, field) => {
    const plan = planIds[0];
    const before = await snapshot(plan);
    const res = await adjust(plan, body, await etagOf(plan));
    expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await snapshot(plan)).toEqual(before);
  });

  it('leaves clinical changes to clinicians and admins', async () => {
    const plan = planIds[0];
    const etag = await etagOf(plan);
    for (const type of ['change_dose', 'cancel_remaining']) {
      expectProblem(
        await adjust(plan, { type, amount: 0.3, reason: 'r' }, etag, false, bearer(keys.CHAIRSIDE_FRONT_DESK_KEY)),
        403,
        'FORBIDDEN',
      );
    }
    await adjust(
      plan,
      { type: 'change_dose', stepKey: 'infusion', amount: 0.45, reason: 'admin check' },
      etag,
      true,
      bearer(keys.CHAIRSIDE_ADMIN_KEY),
    ).expect(200);
  });

  it('skips one scheduled session, and only a scheduled one', async () => {
    const plan = planIds[0];
    const [target] = (await snapshot(plan)).filter((s: { status: string }) => s.status === 'scheduled').slice(-1);
    const skip = { type: 'skip', sessionId: target.id, reason: 'Patient travelling' };
    const shown = await adjust(plan, skip, await etagOf(plan), true).expect(200);
    const res = await adjust(plan, skip, await etagOf(plan)).expect(200);
    expect(res.body.changes).toEqual(shown.body.changes);
    expect(res.body.changes).toEqual([
      expect.objectContaining({
        sessionId: target.id,
        before: { status: 'scheduled' },
        after: expect.objectContaining({ status: 'cancelled' }),
      }),
    ]);
    const [row] = await t.dataSource.query(`SELECT status, status_reason FROM sessions WHERE id = $1`, [target.id]);
    expect(row).toEqual({ status: 'cancelled', status_reason: 'skipped: Patient travelling' });
    const again = await adjust(plan, { type: 'skip', sessionId: target.id, reason: 'again' }, await etagOf(plan));
    expectProblem(again, 409, 'SESSION_NOT_ADJUSTABLE');
    expect(again.body.currentStatus).toBe('cancelled');
    const other = (await snapshot(planIds[1]))[0];
    expectProblem(
      await adjust(plan, { type: 'skip', sessionId: other.id, reason: 'r' }, await etagOf(plan)),
      404,
      'SESSION_NOT_FOUND',
    );
  });

  it('two clinicians adjusting the same version: one wins, the other gets 412', async () => {
    const plan = planIds[0];
    const etag = await etagOf(plan);
    const [a, b] = await Promise.all([
      adjust(plan, { type: 'change_dose', stepKey: 'infusion', amount: 0.35, reason: 'clinician A' }, etag),
      adjust(plan, { type: 'change_dose', stepKey: 'infusion', amount: 0.55, reason: 'clinician B' }, etag),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 412]);
    const winner = a.status === 200 ? 0.35 : 0.55;
    const amounts = (await snapshot(plan)).filter(
      (s: { planned_dose: unknown; status: string }) => s.planned_dose && s.status === 'scheduled',
    );
    expect(new Set(amounts.map((s: { planned_dose: { amount: number } }) => s.planned_dose.amount))).toEqual(
      new Set([winner]),
    );
  });

  it('moves a session to another free chair or nurse at the same time; a busy chair is 409', async () => {
    const plan = planIds[0];
    const [target] = await t.dataSource.query(
      `SELECT id, chair_id, staff_id, starts_at, occupied_until, patient_id FROM sessions WHERE plan_id = $1 AND status = 'scheduled' AND chair_id IS NOT NULL ORDER BY starts_at LIMIT 1`,
      [plan],
    );
    // Chairs with nothing else on them at that time (the other demo plan may use one).
    const chairs: { id: string }[] = await t.dataSource.query(
      `SELECT c.id FROM chairs c WHERE c.id <> $1 AND NOT EXISTS (
         SELECT 1 FROM sessions s WHERE s.chair_id = c.id AND s.status IN ('scheduled','checked_in','completed') AND s.during && tstzrange($2, $3))
       ORDER BY c.name`,
      [target.chair_id, target.starts_at, target.occupied_until],
    );
    expect(chairs.length).toBeGreaterThanOrEqual(2);
    const frontDesk = bearer(keys.CHAIRSIDE_FRONT_DESK_KEY);
    const move = { type: 'change_chair', sessionId: target.id, chairId: chairs[0].id };
    const shown = await adjust(plan, move, await etagOf(plan), true, frontDesk).expect(200);
    const moved = await adjust(plan, move, await etagOf(plan), false, frontDesk);
    expect(moved.body.changes).toEqual(shown.body.changes);
    expect(moved.status).toBe(200);
    expect(moved.body.changes).toEqual([
      {
        sessionId: target.id,
        ref: expect.any(String),
        before: { chairId: target.chair_id },
        after: { chairId: chairs[0].id },
      },
    ]);
    expect((await t.dataSource.query(`SELECT chair_id FROM sessions WHERE id = $1`, [target.id]))[0].chair_id).toBe(
      chairs[0].id,
    );

    // Another patient's session occupies chairs[1] at that time (a third start in the quarter hour:
    // the demo clinic's start staggering is lifted for it, as the database would refuse it).
    await t.dataSource.query(
      `UPDATE clinics SET max_starts_per_slot = NULL, max_starts_per_nurse_per_slot = NULL
        WHERE id = (SELECT clinic_id FROM plans WHERE id = $1)`,
      [planIds[1]],
    );
    const [other] = await t.dataSource.query(
      `WITH p AS (INSERT INTO patients (clinic_id, full_name, date_of_birth) SELECT clinic_id, 'Blocker Patient', '1970-01-01' FROM plans WHERE id = $1 RETURNING id)
       SELECT $1::uuid AS id, p.id AS patient_id FROM p`,
      [planIds[1]],
    );
    await t.dataSource.query(
      `INSERT INTO sessions (clinic_id, plan_id, patient_id, ref, step_key, occurrence, kind, label, starts_at, ends_at, occupied_until, chair_id)
       SELECT clinic_id, $1, $2, 'blocker#1', 'blocker', 1, 'infusion', 'Blocker', $3, $4, $4, $5 FROM plans WHERE id = $1`,
      [other.id, other.patient_id, target.starts_at, target.occupied_until, chairs[1].id],
    );
    const busy = await adjust(
      plan,
      { type: 'change_chair', sessionId: target.id, chairId: chairs[1].id },
      await etagOf(plan),
      true,
      frontDesk,
    );
    expectProblem(busy, 409, 'SLOT_TAKEN');

    const nurses: { id: string }[] = await t.dataSource.query(
      `SELECT id FROM staff_members WHERE role = 'nurse' AND id <> $1 ORDER BY name`,
      [target.staff_id],
    );
    const doctor = (await t.dataSource.query(`SELECT id FROM staff_members WHERE role = 'physician'`))[0];
    expectProblem(
      await adjust(plan, { type: 'change_staff', sessionId: target.id, staffId: doctor.id }, await etagOf(plan)),
      400,
      'VALIDATION_FAILED',
    );
    const free: string[] = [];
    for (const n of nurses) {
      const r = await adjust(
        plan,
        { type: 'change_staff', sessionId: target.id, staffId: n.id },
        await etagOf(plan),
        true,
      );
      if (r.status === 200) free.push(n.id);
      else expectProblem(r, 409, 'SLOT_TAKEN');
    }
    expect(free.length).toBeGreaterThan(0);
    await adjust(plan, { type: 'change_staff', sessionId: target.id, staffId: free[0] }, await etagOf(plan)).expect(
      200,
    );
    const [row] = await t.dataSource.query(`SELECT staff_id, staff_seat FROM sessions WHERE id = $1`, [target.id]);
    expect(row).toEqual({ staff_id: free[0], staff_seat: expect.any(Number) });
  });

  it('cancel_remaining ends the plan early and frees what was booked', async () => {
    const plan = planIds[1];
    const scheduled = (await snapshot(plan)).filter((s: { status: string }) => s.status === 'scheduled').length;
    const end = { type: 'cancel_remaining', reason: 'Patient moved away' };
    const shown = await adjust(plan, end, await etagOf(plan), true).expect(200);
    expect(shown.body).toMatchObject({ preview: true, planStatus: 'ended_early' });
    const res = await adjust(plan, end, await etagOf(plan)).expect(200);
    expect(res.body.changes).toEqual(shown.body.changes);
    expect(res.body).toMatchObject({ planStatus: 'ended_early' });
    expect(res.body.changes).toHaveLength(scheduled);
    const got = await request(t.http).get(`/v1/plans/${plan}`).set(clinician()).expect(200);
    expect(got.body.status).toBe('ended_early');
    expect(got.body.sessions.every((s: { status: string }) => s.status !== 'scheduled')).toBe(true);
    const [{ n }] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM sessions WHERE plan_id = $1 AND status IN ('scheduled','checked_in','completed')`,
      [plan],
    );
    expect(n).toBe(0);
    expectProblem(
      await adjust(plan, { type: 'cancel_remaining', reason: 'again' }, got.headers.etag),
      409,
      'NOTHING_TO_ADJUST',
    );
  });
});
