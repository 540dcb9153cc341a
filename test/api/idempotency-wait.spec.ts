import { randomUUID } from 'node:crypto';
import pg from 'pg';
import request from 'supertest';
import { newPatient, setupClinic, type ClinicSetup } from '../factories/series.factory.js';
import { expectProblem } from '../support/problem.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// Issue 14, item 10: a duplicate Idempotency-Key still in flight waits for the first request (here
// or on another instance, which a side connection holding the key's lock stands in for) and gets
// its answer; only after a bound (5 s) is it 409.
describe('Idempotency-Key: a duplicate in flight waits for the first answer', () => {
  let t: TestApp;
  let s: ClinicSetup;

  beforeAll(async () => {
    t = await startTestApp();
    s = await setupClinic(t.app, t.http, 'Idem wait');
  });
  afterAll(() => t.close());

  const book = (patientId: string, key: string) =>
    request(t.http)
      .post('/v1/plans')
      .set(bearer(s.keys.frontDesk))
      .set('Idempotency-Key', key)
      .send({ protocolId: s.shortProtocolId, patientId });
  const plansOf = async (patientId: string) =>
    (await t.dataSource.query(`SELECT count(*)::int AS n FROM plans WHERE patient_id = $1`, [patientId]))[0]
      .n as number;

  /** Another instance's transaction holding the key, as a booking in flight does. */
  async function holdKey(key: string) {
    const c = new pg.Client({ connectionString: t.databaseUrl });
    await c.connect();
    await c.query('BEGIN');
    await c.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`${s.keys.clinicId}|${key}`]);
    const pid: number = (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    return {
      /** Resolves once `n` requests wait on the key. */
      async waiters(n: number) {
        for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
          const [{ w }] = await t.dataSource.query(
            `SELECT count(*)::int AS w FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`,
            [pid],
          );
          if (w >= n) return;
          await new Promise((r) => setTimeout(r, 10));
        }
        throw new Error(`fewer than ${n} requests waited on the key`);
      },
      async release() {
        await c.query('ROLLBACK').catch(() => undefined);
        await c.end().catch(() => undefined);
      },
    };
  }

  it('two identical requests while the key is held elsewhere: both wait, both 201 with the same body, one plan', async () => {
    const patientId = await newPatient(t.http, s);
    const key = `double-click-${randomUUID()}`;
    const held = await holdKey(key);
    try {
      const both = [book(patientId, key).then((r) => r), book(patientId, key).then((r) => r)];
      await held.waiters(1);
      await new Promise((r) => setTimeout(r, 200));
      await held.release();
      const [a, b] = await Promise.all(both);
      expect([a.status, b.status]).toEqual([201, 201]);
      expect(a.body).toEqual(b.body);
      expect([a.headers['idempotent-replayed'], b.headers['idempotent-replayed']].sort()).toEqual(['true', undefined]);
      expect(await plansOf(patientId)).toBe(1);
    } finally {
      await held.release();
    }
  });

  it('a burst of four with one key on one instance: all 201, one plan, three replays', async () => {
    const patientId = await newPatient(t.http, s);
    const key = `burst-${randomUUID()}`;
    const results = await Promise.all([0, 1, 2, 3].map(() => book(patientId, key)));
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    for (const r of results) expect(r.body).toEqual(results[0].body);
    expect(results.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(3);
    expect(await plansOf(patientId)).toBe(1);
  });

  it('held beyond the bound: 409 IDEMPOTENCY_IN_FLIGHT after about 5 s, nothing written', async () => {
    const patientId = await newPatient(t.http, s);
    const key = `stuck-${randomUUID()}`;
    const held = await holdKey(key);
    try {
      const started = Date.now();
      const res = await book(patientId, key);
      const waited = Date.now() - started;
      expectProblem(res, 409, 'IDEMPOTENCY_IN_FLIGHT');
      expect(waited).toBeGreaterThanOrEqual(4900);
      expect(waited).toBeLessThan(9000);
      expect(await plansOf(patientId)).toBe(0);
    } finally {
      await held.release();
    }
    // Once the other is gone (it rolled back), the same key books.
    const res = await book(patientId, key);
    expect({ status: res.status, replayed: res.headers['idempotent-replayed'] }).toEqual({
      status: 201,
      replayed: undefined,
    });
  });
});
