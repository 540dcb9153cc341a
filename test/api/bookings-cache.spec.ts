import { DateTime } from 'luxon';
import request from 'supertest';
import type { QueryRunner } from 'typeorm';
import { BookingsCache } from '../../src/plans/bookings-cache.js';
import { BookingsRepository } from '../../src/plans/bookings.repository.js';
import type { BookedSession } from '../../src/scheduling/engine/types.js';
import { bookPlan, newPatient, setupClinic, type ClinicSetup } from '../factories/series.factory.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// The in-memory copy of each clinic's bookings must always answer exactly what the database
// answers now: after writes through the API, writes by anyone else, late commits, rollbacks, and
// reads from inside a transaction that writes afterwards.
describe('bookings cache: the same answer as the database, always', () => {
  let t: TestApp;
  let A: ClinicSetup;
  let cache: BookingsCache;
  let repo: BookingsRepository;
  const from = DateTime.fromISO('2026-11-24T00:00:00Z').toJSDate();
  const to = DateTime.fromISO('2027-03-01T00:00:00Z').toJSDate();
  let ids: { chairs: string[]; staff: string[]; patientId: string };

  // The cache keeps every id (the engine ignores chairs and staff it was not given, and compares
  // patients by id); the database query maps those to null and a marker. Compared as the engine sees them.
  const key = (b: BookedSession) =>
    [
      b.start,
      b.end,
      b.chairId !== null && ids.chairs.includes(b.chairId) ? b.chairId : null,
      b.staffId !== null && ids.staff.includes(b.staffId) ? b.staffId : null,
      b.patientId === ids.patientId ? 'this patient' : 'another',
      b.staffSeat ?? null,
    ].join('|');
  const sorted = (xs: BookedSession[]) => xs.map(key).sort();
  const direct = async () => sorted(await repo.bookings(A.keys.clinicId, from, to, ids));
  const cached = async () => sorted(await cache.bookings(A.keys.clinicId, from, to, ids));
  const activeIds = async (): Promise<string[]> =>
    (
      await t.dataSource.query(
        `SELECT id FROM sessions WHERE clinic_id = $1 AND status = 'scheduled' ORDER BY starts_at, id`,
        [A.keys.clinicId],
      )
    ).map((r: { id: string }) => r.id);
  const cancelBySql = (q: { query: (sql: string, p: unknown[]) => Promise<unknown> }, id: string) =>
    q.query(`UPDATE sessions SET status = 'cancelled', status_reason = 'test', version = version + 1 WHERE id = $1`, [
      id,
    ]);

  /** Runs `work` on a connection of its own, in a transaction it ends itself. */
  const onOwnConnection = async (work: (runner: QueryRunner) => Promise<void>) => {
    const runner = t.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      await work(runner);
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
  };

  beforeAll(async () => {
    t = await startTestApp();
    A = await setupClinic(t.app, t.http, 'Cache', { chairs: 3 });
    cache = t.app.get(BookingsCache);
    repo = t.app.get(BookingsRepository);
    ids = {
      chairs: A.chairs.map((c) => c.id),
      staff: [A.nurse.id, A.physician.id, A.therapist.id],
      patientId: '00000000-0000-0000-0000-000000000000',
    };
    for (let i = 0; i < 3; i++)
      await bookPlan(t.http, A, { protocolId: A.shortProtocolId, earliestStart: '2026-11-30' });
  }, 60_000);
  afterAll(() => t.close());

  it('loads the clinic once, then follows bookings and cancellations made through the API', async () => {
    cache.clear();
    expect(await cached()).toEqual(await direct());
    expect((await direct()).length).toBe(9);
    const plan = await bookPlan(t.http, A, { protocolId: A.shortProtocolId, earliestStart: '2026-12-07' });
    expect(await cached()).toEqual(await direct());
    expect((await direct()).length).toBe(12);
    const res = await request(t.http)
      .post(`/v1/sessions/${plan.sessions[1].id}/cancel`)
      .set(bearer(A.keys.frontDesk))
      .send({ reason: 'Patient asked' });
    expect(res.status).toBe(200);
    expect(await cached()).toEqual(await direct());
    expect((await direct()).length).toBe(11);
  });

  it('sees a change committed after its snapshot by a transaction that began before it (a late commit)', async () => {
    await cached();
    await onOwnConnection(async (runner) => {
      const [victim] = await activeIds();
      await cancelBySql(runner, victim);
      // Not committed: nobody sees it yet, and the cache refreshes past it.
      expect(await cached()).toEqual(await direct());
      expect(await cached()).toContain((await direct())[0]);
      await runner.commitTransaction();
    });
    expect(await cached()).toEqual(await direct());
  });

  it('never shows a rolled-back change', async () => {
    const before = await direct();
    await onOwnConnection(async (runner) => {
      const [victim] = await activeIds();
      await cancelBySql(runner, victim);
      expect(await cached()).toEqual(before);
      await runner.rollbackTransaction();
    });
    expect(await cached()).toEqual(before);
    expect(await direct()).toEqual(before);
  });

  it("a read inside a transaction that then writes and commits does not hide that transaction's writes", async () => {
    await cached();
    await onOwnConnection(async (runner) => {
      await runner.query('SELECT pg_current_xact_id()'); // the transaction has an id of its own, as a booking's after its idempotency claim
      // A later transaction commits meanwhile: the snapshot's horizon moves past ours, and PostgreSQL
      // leaves the reader's own id out of its list of running ones.
      await bookPlan(t.http, A, { protocolId: A.shortProtocolId, earliestStart: '2026-12-21' });
      const inside = sorted(await cache.bookings(A.keys.clinicId, from, to, ids, runner.manager));
      expect(inside).toEqual(await direct());
      const [victim] = await activeIds();
      await cancelBySql(runner, victim);
      await runner.commitTransaction();
    });
    expect(await cached()).toEqual(await direct());
  });

  it('two instances of the cache reading at the same time as writers stay equal to the database', async () => {
    const other = new BookingsCache(repo, t.clock);
    for (let round = 0; round < 6; round++) {
      const writes =
        round % 2 === 0
          ? bookPlan(t.http, A, {
              protocolId: A.shortProtocolId,
              earliestStart: DateTime.fromISO('2026-12-14')
                .plus({ days: round * 3 })
                .toISODate()!,
            })
          : activeIds().then(([id]) =>
              request(t.http).post(`/v1/sessions/${id}/cancel`).set(bearer(A.keys.frontDesk)).send({ reason: 'x' }),
            );
      await Promise.all([
        writes,
        cache.bookings(A.keys.clinicId, from, to, ids),
        other.bookings(A.keys.clinicId, from, to, ids),
      ]);
      const now = await direct();
      expect(await cached()).toEqual(now);
      expect(sorted(await other.bookings(A.keys.clinicId, from, to, ids))).toEqual(now);
    }
  });

  it("a prefetch's copy is the copy as of the prefetch, and only while nothing has been applied since", async () => {
    const copy = await cache.prefetch(A.keys.clinicId);
    const atPrefetch = await direct();
    const [victim] = await activeIds();
    await cancelBySql(t.dataSource, victim); // committed, but no read of the cache since
    expect(sorted(await copy.bookings(from, to, ids))).toEqual(atPrefetch);
    // Read without it, the copy is brought up to date; after that, the prefetch's copy is too.
    const now = await direct();
    expect(now).not.toEqual(atPrefetch);
    expect(await cached()).toEqual(now);
    expect(sorted(await copy.bookings(from, to, ids))).toEqual(now);
  });

  it('a copy read on another server (or before a restart) is loaded afresh, not brought up to date by snapshot', async () => {
    await cached();
    // As if the copy had missed a change (transaction ids handed out again after a crash): a row gone, and another server's start time.
    const entry = (
      cache as unknown as { entries: Map<string, { server: string; rows: Map<string, unknown> }> }
    ).entries.get(A.keys.clinicId)!;
    entry.rows.delete(entry.rows.keys().next().value!);
    expect(await cached()).not.toEqual(await direct());
    entry.server = '2000-01-01 00:00:00+00';
    expect(await cached()).toEqual(await direct());
  });

  it('a booking that loses its race plans again from a fresh read, so a copy that missed a change cannot make it lose again (201, not 409)', async () => {
    const plan = await bookPlan(t.http, A, { protocolId: A.shortProtocolId, earliestStart: '2027-01-11' });
    const sessionIds = (plan.sessions as { id: string }[]).map((x) => x.id);
    for (const id of sessionIds) {
      const res = await request(t.http)
        .post(`/v1/sessions/${id}/cancel`)
        .set(bearer(A.keys.frontDesk))
        .send({ reason: 'x' });
      expect(res.status).toBe(200);
    }
    await cached(); // the copy has seen the cancellations
    // The sessions come back without the change log seeing it (triggers off): a change the copy cannot learn of.
    // (As the owner, a superuser here: the service's own role may not switch triggers off.)
    await t.asOwner(
      `BEGIN; SET LOCAL session_replication_role = replica;
       UPDATE sessions SET status = 'scheduled', status_reason = NULL, version = version + 1 WHERE id = ANY('{${sessionIds.join(',')}}'::uuid[]); COMMIT`,
    );
    const patientId = await newPatient(t.http, A);
    const res = await request(t.http)
      .post('/v1/plans')
      .set(bearer(A.keys.frontDesk))
      .send({ patientId, protocolId: A.shortProtocolId, earliestStart: '2027-01-11' });
    // Planned from the stale copy into the taken times, refused by the database, planned again from a fresh read.
    expect({ status: res.status, replanned: res.headers['chairside-replanned'] }).toEqual({
      status: 201,
      replanned: 'true',
    });
    expect(await cached()).toEqual(await direct());
  });

  it("the engine's index it keeps holds, per chair, staff member and patient, what the database holds", async () => {
    const fromMin = from.getTime() / 60_000;
    const toMin = to.getTime() / 60_000;
    const inWindow = (b: BookedSession) => b.start >= fromMin - 1440 && b.start < toMin && b.end > fromMin;
    const byResource = (rows: BookedSession[], pick: (b: BookedSession) => string | null, id: string) =>
      sorted(rows.filter((b) => pick(b) === id && inWindow(b)));
    const patientId = await newPatient(t.http, A);
    const check = async () => {
      const index = (await (await cache.prefetch(A.keys.clinicId)).index(from, to))!;
      expect(index).toBeDefined();
      const rows = await repo.bookings(A.keys.clinicId, from, to, ids);
      for (const c of ids.chairs)
        expect(sorted((index.chair(c).items as BookedSession[]).filter(inWindow))).toEqual(
          byResource(rows, (b) => b.chairId, c),
        );
      for (const x of ids.staff)
        expect(sorted((index.staff(x).items as BookedSession[]).filter(inWindow))).toEqual(
          byResource(rows, (b) => b.staffId, x),
        );
      const span = (b: BookedSession) => `${b.start}-${b.end}`;
      const theirs = (await repo.bookings(A.keys.clinicId, from, to, { ...ids, patientId })).filter(
        (b) => b.patientId === patientId && inWindow(b),
      );
      expect((index.patient(patientId).items as BookedSession[]).filter(inWindow).map(span).sort()).toEqual(
        theirs.map(span).sort(),
      );
      return theirs.length;
    };
    expect(await check()).toBe(0);
    // Bookings, a cancellation by SQL and a booking of this very patient, each seen through the kept index.
    await bookPlan(t.http, A, { protocolId: A.shortProtocolId, earliestStart: '2027-01-18' });
    await check();
    const [victim] = await activeIds();
    await cancelBySql(t.dataSource, victim);
    await check();
    await bookPlan(t.http, A, { protocolId: A.shortProtocolId, earliestStart: '2027-01-25', patientId });
    expect(await check()).toBeGreaterThan(0);
  });

  it('a window beyond what it keeps is read from the database', async () => {
    const far = {
      from: DateTime.fromISO('2028-03-01T00:00:00Z').toJSDate(),
      to: DateTime.fromISO('2028-04-01T00:00:00Z').toJSDate(),
    };
    await t.dataSource.query(`SELECT 1`);
    expect(sorted(await cache.bookings(A.keys.clinicId, far.from, far.to, ids))).toEqual(
      sorted(await repo.bookings(A.keys.clinicId, far.from, far.to, ids)),
    );
  });
});
