import pg from 'pg';
import request from 'supertest';
import { publishProtocol } from '../factories/protocol.factory.js';
import { newPatient, setupClinic, SHORT_STEPS, type ClinicSetup } from '../factories/series.factory.js';
import { expectProblem } from '../support/problem.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// Issue 14, item 6: a patient is not booked into two active series of the same protocol (any
// version) unless a clinician asks for it (allowConcurrentSeries); the database holds the rule
// (a partial unique index), so that two bookings at once cannot both get through.
describe('one active series of a protocol per patient', () => {
  let t: TestApp;
  let s: ClinicSetup;

  beforeAll(async () => {
    t = await startTestApp();
    s = await setupClinic(t.app, t.http, 'Series');
  });
  afterAll(() => t.close());

  const book = (key: string, body: Record<string, unknown>, idempotencyKey?: string) => {
    const r = request(t.http).post('/v1/plans').set(bearer(key));
    return (idempotencyKey ? r.set('Idempotency-Key', idempotencyKey) : r).send({
      protocolId: s.shortProtocolId,
      ...body,
    });
  };
  const rows = async (patientId: string) =>
    (
      await t.dataSource.query(
        `SELECT (SELECT count(*) FROM plans WHERE patient_id = $1)::int AS plans, (SELECT count(*) FROM sessions WHERE patient_id = $1)::int AS sessions`,
        [patientId],
      )
    )[0];

  it('a second booking or preview is 409 ACTIVE_SERIES_EXISTS naming the active plan; nothing written', async () => {
    const patientId = await newPatient(t.http, s);
    const first = await book(s.keys.frontDesk, { patientId }).expect(201);
    const before = await rows(patientId);
    for (const [path, key] of [
      ['/v1/plans', s.keys.frontDesk],
      ['/v1/plans/preview', s.keys.frontDesk],
      ['/v1/plans', s.keys.clinician],
    ] as const) {
      const res = await request(t.http)
        .post(path)
        .set(bearer(key))
        .send({ patientId, protocolId: s.shortProtocolId, earliestStart: '2027-01-11' });
      expectProblem(res, 409, 'ACTIVE_SERIES_EXISTS');
      expect(res.body.activePlanId).toBe(first.body.id);
    }
    // Any version of the protocol counts.
    const draft = await request(t.http)
      .get(`/v1/protocols/${s.shortProtocolId}`)
      .set(bearer(s.keys.clinician))
      .expect(200);
    await request(t.http)
      .put(`/v1/protocols/${s.shortProtocolId}/draft`)
      .set(bearer(s.keys.clinician))
      .set('If-Match', draft.headers.etag as string)
      .send({
        name: 'Short series',
        indication: 'Opioid withdrawal',
        description: 'Second version',
        steps: SHORT_STEPS,
      })
      .expect(200);
    const v2 = await request(t.http)
      .post(`/v1/protocols/${s.shortProtocolId}/publish`)
      .set(bearer(s.keys.clinician))
      .send()
      .expect(201);
    expect(v2.body.version).toBe(2);
    const pinned = await book(s.keys.frontDesk, { patientId, protocolVersion: 2 });
    expectProblem(pinned, 409, 'ACTIVE_SERIES_EXISTS');
    expect(pinned.body.activePlanId).toBe(first.body.id);
    expect(await rows(patientId)).toEqual(before);
    // Another protocol is another series.
    const other = await publishProtocol(t.http, s.keys.clinician, { name: 'Another series', steps: SHORT_STEPS });
    expect((await book(s.keys.frontDesk, { patientId, protocolId: other })).status).toBe(201);
  });

  it('a clinician (or admin) may book one beside it on purpose; the front desk may not (403)', async () => {
    const patientId = await newPatient(t.http, s);
    await book(s.keys.frontDesk, { patientId }).expect(201);
    expectProblem(await book(s.keys.frontDesk, { patientId, allowConcurrentSeries: true }), 403, 'FORBIDDEN');
    expectProblem(
      await book(s.keys.clinician, { patientId, allowConcurrentSeries: 'yes' }),
      400,
      'VALIDATION_FAILED',
      'allowConcurrentSeries',
    );
    const second = await book(s.keys.clinician, {
      patientId,
      allowConcurrentSeries: true,
      earliestStart: '2026-12-14',
    });
    expect(second.status).toBe(201);
    const [row] = await t.dataSource.query(`SELECT concurrent_series FROM plans WHERE id = $1`, [second.body.id]);
    expect(row.concurrent_series).toBe(true);
    expect(
      (
        await request(t.http)
          .post('/v1/plans/preview')
          .set(bearer(s.keys.admin))
          .send({ patientId, protocolId: s.shortProtocolId, allowConcurrentSeries: true })
      ).status,
    ).toBe(200);
  });

  it('once the series has ended (early or completed) a new one books', async () => {
    const patientId = await newPatient(t.http, s);
    const first = await book(s.keys.frontDesk, { patientId }).expect(201);
    await request(t.http)
      .post(`/v1/plans/${first.body.id}/adjustments`)
      .set(bearer(s.keys.clinician))
      .set('If-Match', '"p1"')
      .send({ type: 'cancel_remaining', reason: 'Stopped' })
      .expect(200);
    expect((await book(s.keys.frontDesk, { patientId })).status).toBe(201);
  });

  it.each([
    ['one statement (no Idempotency-Key)', false],
    ['a transaction (with Idempotency-Keys)', true],
  ])('two bookings at once, %s: one 201, the other 409 naming it', async (_name, keyed) => {
    for (let round = 0; round < 2; round++) {
      const patientId = await newPatient(t.http, s);
      // Hold the clinic's schedule lock, so that both requests are past their own checks and wait to write.
      const side = new pg.Client({ connectionString: t.databaseUrl });
      await side.connect();
      try {
        await side.query('BEGIN');
        await side.query(`SELECT pg_advisory_xact_lock(${0x43_48_53}, hashtext($1::uuid::text))`, [s.keys.clinicId]);
        const pid: number = (await side.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
        const both = [0, 1].map((i) =>
          book(s.keys.frontDesk, { patientId }, keyed ? `series-${round}-${i}-${patientId}` : undefined).then((r) => r),
        );
        for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
          const [{ n }] = await t.dataSource.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`,
            [pid],
          );
          if (n >= (keyed ? 1 : 2)) break;
          await new Promise((r) => setTimeout(r, 10));
        }
        await side.query('ROLLBACK');
        const results = await Promise.all(both);
        const won = results.filter((r) => r.status === 201);
        const lost = results.filter((r) => r.status !== 201);
        expect(won).toHaveLength(1);
        expectProblem(lost[0], 409, 'ACTIVE_SERIES_EXISTS');
        expect(lost[0].body.activePlanId).toBe(won[0].body.id);
        expect((await rows(patientId)).plans).toBe(1);
      } finally {
        await side.end();
      }
    }
  });
});
