import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import request from 'supertest';
import { seedDemo } from '../../src/seed/demo-seed.js';
import { expectProblem } from '../support/problem.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

type Row = {
  id: string;
  ref: string;
  starts_at: Date;
  chair_id: string | null;
  staff_id: string | null;
  status: string;
};
const ZONE = 'America/New_York';

describe('reschedule with a cascade', () => {
  let t: TestApp;
  let keys: Record<string, string>;
  let planIds: string[];

  beforeAll(async () => {
    t = await startTestApp();
    const seeded = await seedDemo(t.app, mkdtempSync(path.join(os.tmpdir(), 'chairside-resched-')));
    keys = Object.fromEntries(
      readFileSync(seeded.keysFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.replace(/^export /, '').split('=') as [string, string]),
    );
    planIds = (await t.dataSource.query(`SELECT id FROM plans WHERE status = 'active' ORDER BY created_at, id`)).map(
      (r: { id: string }) => r.id,
    );
  });
  afterAll(() => t.close());

  const frontDesk = () => bearer(keys.CHAIRSIDE_FRONT_DESK_KEY);
  const etagOf = async (planId: string) =>
    (await request(t.http).get(`/v1/plans/${planId}`).set(frontDesk()).expect(200)).headers.etag as string;
  const rows = (planId: string): Promise<Row[]> =>
    t.dataSource.query(
      `SELECT id, ref, starts_at, chair_id, staff_id, status FROM sessions WHERE plan_id = $1 ORDER BY starts_at, ref`,
      [planId],
    );
  const adjust = (planId: string, body: object, ifMatch: string, preview = false) =>
    request(t.http)
      .post(`/v1/plans/${planId}/adjustments${preview ? '?preview=true' : ''}`)
      .set(frontDesk())
      .set('If-Match', ifMatch)
      .send(body);
  const overlaps = async () =>
    (
      await t.dataSource.query(`
        SELECT count(*)::int AS n FROM sessions a JOIN sessions b ON a.id < b.id AND a.during && b.during
         WHERE a.status IN ('scheduled','checked_in','completed') AND b.status IN ('scheduled','checked_in','completed')
           AND (a.chair_id = b.chair_id OR a.patient_id = b.patient_id OR (a.staff_id = b.staff_id AND a.staff_seat = b.staff_seat))`)
    )[0].n;

  it('moves an infusion a day later: earlier sessions stay, the preview is what the commit writes, nothing overlaps', async () => {
    const plan = planIds[0];
    const before = await rows(plan);
    const target = before.find((r) => r.ref === 'infusion#2')!;
    const start = DateTime.fromJSDate(target.starts_at, { zone: ZONE }).plus({ days: 1 });
    // A Sunday is closed: go one more day.
    const newStart = (start.weekday === 7 ? start.plus({ days: 1 }) : start).toISO()!;
    const etag = await etagOf(plan);
    const preview = await adjust(
      plan,
      { type: 'reschedule', sessionId: target.id, start: newStart },
      etag,
      true,
    ).expect(200);
    expect(await rows(plan)).toEqual(before);
    const moved = preview.body.changes.find((c: { sessionId: string }) => c.sessionId === target.id);
    expect(DateTime.fromISO(moved.after.start).toMillis()).toBe(DateTime.fromISO(newStart).toMillis());
    const commit = await adjust(plan, { type: 'reschedule', sessionId: target.id, start: newStart }, etag).expect(200);
    expect(commit.body.changes).toEqual(preview.body.changes);
    const after = await rows(plan);
    for (const r of before.filter((x) => x.starts_at < target.starts_at)) {
      expect(after.find((x) => x.id === r.id)!.starts_at.getTime()).toBe(r.starts_at.getTime());
    }
    for (const r of before.filter((x) => x.starts_at > target.starts_at && x.status === 'scheduled')) {
      expect(after.find((x) => x.id === r.id)!.starts_at.getTime()).toBeGreaterThanOrEqual(r.starts_at.getTime());
    }
    expect(await overlaps()).toBe(0);
    const log = await request(t.http).get(`/v1/plans/${plan}/adjustments`).set(frontDesk()).expect(200);
    expect(log.body.items.at(-1)).toMatchObject({ type: 'reschedule', changes: commit.body.changes });
  });

  it('refuses a time the clinic cannot offer (422 naming the session) and bad input (400)', async () => {
    const plan = planIds[0];
    const target = (await rows(plan)).find((r) => r.ref === 'infusion#4')!;
    const evening = DateTime.fromJSDate(target.starts_at, { zone: ZONE }).set({ hour: 20, minute: 0 }).toISO()!;
    const refused = await adjust(
      plan,
      { type: 'reschedule', sessionId: target.id, start: evening },
      await etagOf(plan),
    );
    expectProblem(refused, 422, 'PLAN_INFEASIBLE');
    expect(refused.body.binding.ref).toBe('infusion#4');
    expectProblem(
      await adjust(plan, { type: 'reschedule', sessionId: target.id }, await etagOf(plan)),
      400,
      'VALIDATION_FAILED',
      'start',
    );
    expectProblem(
      await adjust(
        plan,
        { type: 'reschedule', sessionId: target.id, start: '2026-12-10T10:00:00' },
        await etagOf(plan),
      ),
      400,
      'VALIDATION_FAILED',
      'start',
    );
    expectProblem(
      await adjust(
        plan,
        { type: 'reschedule', sessionId: target.id, start: '2020-01-06T10:00:00-05:00' },
        await etagOf(plan),
      ),
      400,
      'VALIDATION_FAILED',
      'start',
    );
    // At most two years ahead: 2028-11-30 is past it, 2028-11-20 is not (it is refused only as a time nobody can offer).
    const far = await adjust(
      plan,
      { type: 'reschedule', sessionId: target.id, start: '2028-11-30T10:00:00-05:00' },
      await etagOf(plan),
    );
    expectProblem(far, 400, 'VALIDATION_FAILED', 'start');
    expect(far.body.errors[0].message).toMatch(/at most 730 days ahead/);
    expect(
      (
        await adjust(
          plan,
          { type: 'reschedule', sessionId: target.id, start: '2028-11-20T10:00:00-05:00' },
          await etagOf(plan),
        )
      ).status,
    ).not.toBe(400);
  });

  it('adds an infusion after the last one, within its spacing; clinicians only, with a reason', async () => {
    const plan = planIds[0];
    const clinician = bearer(keys.CHAIRSIDE_CLINICIAN_KEY);
    const before = await rows(plan);
    const last = before
      .filter((r) => r.ref.startsWith('infusion#') && r.status === 'scheduled')
      .sort((x, y) => x.starts_at.getTime() - y.starts_at.getTime())
      .pop()!;
    const post = (body: object, key = clinician, preview = false) =>
      etagOf(plan).then((etag) =>
        request(t.http)
          .post(`/v1/plans/${plan}/adjustments${preview ? '?preview=true' : ''}`)
          .set(key)
          .set('If-Match', etag)
          .send(body),
      );
    expectProblem(await post({ type: 'add', stepKey: 'infusion', reason: 'r' }, frontDesk()), 403, 'FORBIDDEN');
    expectProblem(await post({ type: 'add', stepKey: 'infusion' }), 400, 'VALIDATION_FAILED', 'reason');
    expectProblem(
      await post({ type: 'add', stepKey: 'infusion', amount: 2, reason: 'r' }),
      400,
      'VALIDATION_FAILED',
      'amount',
    );
    expectProblem(await post({ type: 'add', stepKey: 'nope', reason: 'r' }), 400, 'VALIDATION_FAILED', 'stepKey');
    expectProblem(await post({ type: 'add', stepKey: 'therapy', reason: 'r' }), 400, 'VALIDATION_FAILED', 'stepKey');

    const preview = await post(
      { type: 'add', stepKey: 'infusion', amount: 0.4, reason: 'Cravings returned' },
      clinician,
      true,
    );
    expect(preview.status).toBe(200);
    expect(await rows(plan)).toEqual(before);
    const commit = await post({ type: 'add', stepKey: 'infusion', amount: 0.4, reason: 'Cravings returned' });
    expect(commit.status).toBe(200);
    expect(commit.body.changes).toHaveLength(1);
    const added = commit.body.changes[0];
    expect(added).toMatchObject({ ref: 'infusion#7', before: null, after: { dose: { amount: 0.4, unit: 'mg/kg' } } });
    expect(added.after).toEqual(preview.body.changes[0].after);
    const gap = DateTime.fromISO(added.after.start, { zone: ZONE })
      .startOf('day')
      .diff(DateTime.fromJSDate(last.starts_at, { zone: ZONE }).startOf('day'), 'days').days;
    expect(gap).toBeGreaterThanOrEqual(1);
    expect(gap).toBeLessThanOrEqual(4);
    const afterRows = await rows(plan);
    expect(afterRows).toHaveLength(before.length + 1);
    expect(afterRows.find((r) => r.id === added.sessionId)).toMatchObject({ ref: 'infusion#7', status: 'scheduled' });
    expect(await overlaps()).toBe(0);
  });

  it('keeps local times when the cascade crosses a daylight-saving change (2027-03-14)', async () => {
    const clinician = bearer(keys.CHAIRSIDE_CLINICIAN_KEY);
    const [patient] = await t.dataSource.query(`SELECT id FROM patients WHERE full_name = 'Morgan Ellis'`);
    const booked = await request(t.http)
      .post('/v1/plans')
      .set(clinician)
      .send({
        patientId: patient.id,
        protocolId: keys.CHAIRSIDE_PROTOCOL_ID,
        earliestStart: '2027-03-08',
        startWithinDays: 3,
      })
      .expect(201);
    const sessions: { id: string; ref: string; start: string; localTime: string }[] = booked.body.sessions;
    const infusions = sessions.filter((x) => x.ref.startsWith('infusion#'));
    expect(infusions[0].start < '2027-03-14').toBe(true);
    const first = infusions[0];
    const newStart = DateTime.fromISO(first.start, { setZone: true }).plus({ days: 2 });
    const etag = (await request(t.http).get(`/v1/plans/${booked.body.id}`).set(clinician).expect(200)).headers.etag;
    const res = await request(t.http)
      .post(`/v1/plans/${booked.body.id}/adjustments`)
      .set(clinician)
      .set('If-Match', etag)
      .send({
        type: 'reschedule',
        sessionId: first.id,
        start: (newStart.weekday === 7 ? newStart.plus({ days: 1 }) : newStart).toISO(),
      })
      .expect(200);
    const moved = res.body.changes.filter((c: { ref: string }) => c.ref.startsWith('infusion#'));
    expect(moved.length).toBeGreaterThan(1);
    const crossed = moved.filter(
      (c: { before: { start: string }; after: { start: string } }) =>
        c.before.start < '2027-03-14' && c.after.start >= '2027-03-14',
    );
    expect(crossed.length).toBeGreaterThan(0);
    // The sessions pushed across the change keep their wall-clock time; only the offset changes.
    for (const c of crossed) {
      expect(c.after.start.slice(11, 16)).toBe(c.before.start.slice(11, 16));
      expect([c.before.start.slice(-6), c.after.start.slice(-6)]).toEqual(['-05:00', '-04:00']);
    }
  });

  it('two plans rescheduled into the same chair at the same time: one wins, the other is refused, nothing overlaps', async () => {
    const [a, b] = await Promise.all(planIds.map(rows));
    const sa = a.filter((r) => r.status === 'scheduled' && r.ref === 'booster#1')[0];
    const sb = b.filter((r) => r.status === 'scheduled' && r.ref === 'booster#1')[0];
    // Both boosters to the same new time on the same chair, a week after the later of the two.
    const base = DateTime.fromJSDate(sa.starts_at > sb.starts_at ? sa.starts_at : sb.starts_at, { zone: ZONE }).plus({
      days: 2,
    });
    const day = base.weekday === 7 ? base.plus({ days: 1 }) : base;
    const start = day.set({ hour: 10, minute: 0 }).toISO()!;
    const chairId = (await t.dataSource.query(`SELECT id FROM chairs ORDER BY name LIMIT 1`))[0].id;
    const [ea, eb] = await Promise.all(planIds.map(etagOf));
    const [ra, rb] = await Promise.all([
      adjust(planIds[0], { type: 'reschedule', sessionId: sa.id, start, chairId }, ea),
      adjust(planIds[1], { type: 'reschedule', sessionId: sb.id, start, chairId }, eb),
    ]);
    const statuses = [ra.status, rb.status].sort();
    expect(statuses[0]).toBe(200);
    expect([409, 422]).toContain(statuses[1]);
    expect(await overlaps()).toBe(0);
  });

  it('skips an infusion and shifts the rest: its therapy goes with it, the next infusion follows the one before, nothing earlier moves', async () => {
    const plan = planIds[1];
    const before = await rows(plan);
    const target = before.find((r) => r.ref === 'infusion#3' && r.status === 'scheduled')!;
    const body = { type: 'skip', sessionId: target.id, shift: true, reason: 'Patient unwell' };
    const clinician = bearer(keys.CHAIRSIDE_CLINICIAN_KEY);
    const post = async (preview: boolean) =>
      request(t.http)
        .post(`/v1/plans/${plan}/adjustments${preview ? '?preview=true' : ''}`)
        .set(clinician)
        .set('If-Match', await etagOf(plan))
        .send(body);
    const shown = await post(true);
    expect(shown.status).toBe(200);
    expect(await rows(plan)).toEqual(before);
    const done = await post(false);
    expect(done.status).toBe(200);
    expect(done.body.changes).toEqual(shown.body.changes);
    const after = await rows(plan);
    const byRef = new Map(after.map((r) => [r.ref, r]));
    expect(byRef.get('infusion#3')!.status).toBe('cancelled');
    expect(byRef.get('therapy#3')!.status).toBe('cancelled');
    for (const r of before.filter((x) => x.starts_at < target.starts_at))
      expect(byRef.get(r.ref)!.starts_at.getTime()).toBe(r.starts_at.getTime());
    const day = (d: Date) => DateTime.fromJSDate(d, { zone: ZONE }).startOf('day');
    const gap = day(byRef.get('infusion#4')!.starts_at).diff(day(byRef.get('infusion#2')!.starts_at), 'days').days;
    expect(gap).toBeGreaterThanOrEqual(1);
    expect(gap).toBeLessThanOrEqual(4);
    expect(await overlaps()).toBe(0);
  });
});
