import { DateTime } from 'luxon';
import pg from 'pg';
import request from 'supertest';
import { SyncService } from '../../src/sync/sync.service.js';
import { persistOperatorKey } from '../factories/clinic.factory.js';
import { bookPlan, setupClinic, type ClinicSetup } from '../factories/series.factory.js';
import { expectProblem } from '../support/problem.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';
import { atSessionTime } from '../support/session-clock.js';

// ---------------------------------------------------------------------------------------------
// Incremental REST sync (GET /v1/sync/sessions): full sync in pages, then only what changed since
// a token, with cancellations and deletions as tombstones; xid8 watermarks so that a change that
// commits late is never skipped; signed tokens that expire, and 410 FULL_SYNC_REQUIRED otherwise.
// ---------------------------------------------------------------------------------------------

type Json = Record<string, any>;
const NOW = DateTime.fromISO('2026-11-25T15:00:00Z', { zone: 'utc' });
const MAX_PAGES = 50;

describe('sync API (/v1/sync/sessions)', () => {
  let t: TestApp;
  let A: ClinicSetup;
  let B: ClinicSetup;
  let operator: string;
  let clinicCount = 0;

  beforeAll(async () => {
    t = await startTestApp();
    A = await setupClinic(t.app, t.http, 'Sync A');
    B = await setupClinic(t.app, t.http, 'Sync B');
    operator = await persistOperatorKey(t.app);
  });
  afterAll(() => t.close());

  const get = (key: string, query: Json) => request(t.http).get('/v1/sync/sessions').query(query).set(bearer(key));

  /** A clinic of its own, so that counts are exact. */
  const freshClinic = () => setupClinic(t.app, t.http, `Sync clinic ${++clinicCount}`);
  const bookShort = (s: ClinicSetup) => bookPlan(t.http, s, { protocolId: s.shortProtocolId });

  /** Follows nextPageToken to the end; asserts that exactly the last page carries nextSyncToken. */
  async function syncAll(key: string, query: Json = {}): Promise<{ pages: Json[][]; items: Json[]; token: string }> {
    const pages: Json[][] = [];
    let res = await get(key, query);
    for (let i = 0; ; i++) {
      expect({ status: res.status, body: res.body }).toMatchObject({ status: 200 });
      expect(Array.isArray(res.body.items)).toBe(true);
      pages.push(res.body.items);
      const { nextPageToken, nextSyncToken } = res.body;
      expect([typeof nextPageToken, typeof nextSyncToken].sort()).toEqual(['string', 'undefined']);
      if (nextSyncToken) return { pages, items: pages.flat(), token: nextSyncToken };
      expect(i).toBeLessThan(MAX_PAGES);
      const { syncToken: _s, ...rest } = query;
      res = await get(key, { ...rest, pageToken: nextPageToken });
    }
  }

  const ids = (items: Json[]) => items.map((i) => i.id as string);
  const once = (items: Json[]) => expect(new Set(ids(items)).size).toBe(items.length);
  const dbSessions = (
    clinicId: string,
  ): Promise<{ id: string; status: string; version: number; patient_id: string }[]> =>
    t.dataSource.query(`SELECT id, status, version, patient_id FROM sessions WHERE clinic_id = $1 ORDER BY id`, [
      clinicId,
    ]);
  const cancel = (s: ClinicSetup, id: string) =>
    request(t.http)
      .post(`/v1/sessions/${id}/cancel`)
      .set(bearer(s.keys.frontDesk))
      .send({ reason: 'Patient has the flu' });
  const checkIn = (s: ClinicSetup, id: string) =>
    request(t.http).post(`/v1/sessions/${id}/check-in`).set(bearer(s.keys.frontDesk)).send();
  const payloadOf = (token: string): Json => JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));
  const expectGone = (res: request.Response) => {
    expectProblem(res, 410, 'FULL_SYNC_REQUIRED');
    expect(res.body.reason).toBe('fullSyncRequired');
  };

  describe('full sync', () => {
    it('pages by limit: 5 sessions with limit 2 are 3 pages, only the last with nextSyncToken; each live session exactly once, cancelled ones left out', async () => {
      const s = await freshClinic();
      const p1 = await bookShort(s);
      await bookShort(s);
      expect((await cancel(s, p1.sessions[2].id)).status).toBe(200);
      const live = (await dbSessions(s.keys.clinicId)).filter((r) => r.status !== 'cancelled');
      expect(live).toHaveLength(5);

      const { pages, items, token } = await syncAll(s.keys.frontDesk, { limit: 2 });
      expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
      once(items);
      expect(ids(items).sort()).toEqual(live.map((r) => r.id).sort());
      expect(ids(items)).not.toContain(p1.sessions[2].id);
      // Ordered by id (keyset), each the session as it is with its revision.
      expect(ids(items)).toEqual([...ids(items)].sort());
      for (const item of items) {
        const row = live.find((r) => r.id === item.id)!;
        expect(item).toMatchObject({
          revision: row.version,
          version: row.version,
          status: row.status,
          patientId: row.patient_id,
          deleted: false,
        });
        expect(DateTime.fromISO(item.updatedAt).isValid).toBe(true);
        expect(item.start).toMatch(/-05:00$/);
      }
      expect(typeof token).toBe('string');

      // Exactly `limit` left is the last page (no empty trailing page).
      const whole = await get(s.keys.frontDesk, { limit: 5 }).expect(200);
      expect(whole.body).toMatchObject({ timezone: 'America/New_York' });
      expect(whole.body.items).toHaveLength(5);
      expect(whole.body.nextPageToken).toBeUndefined();
      expect(typeof whole.body.nextSyncToken).toBe('string');
      // The default page holds them all too.
      expect((await get(s.keys.clinician, {}).expect(200)).body.items).toHaveLength(5);
    });

    it('an empty clinic: no items and a sync token that works', async () => {
      const s = await freshClinic();
      const first = await get(s.keys.admin, {}).expect(200);
      expect(first.body.items).toEqual([]);
      const next = await get(s.keys.admin, { syncToken: first.body.nextSyncToken }).expect(200);
      expect(next.body.items).toEqual([]);
      expect(typeof next.body.nextSyncToken).toBe('string');
    });

    it('a change made between page 1 and page 2 comes again in the next incremental sync', async () => {
      const s = await freshClinic();
      await bookShort(s);
      await bookShort(s);
      const first = await get(s.keys.frontDesk, { limit: 1 }).expect(200);
      const [seen] = first.body.items;
      // Changed after the page that returned it: the full sync's watermark is from before page 1.
      expect((await cancel(s, seen.id)).status).toBe(200);
      const rest = await syncAll(s.keys.frontDesk, { pageToken: first.body.nextPageToken, limit: 2 });
      expect(ids(rest.items)).not.toContain(seen.id);
      const delta = await syncAll(s.keys.frontDesk, { syncToken: rest.token });
      once(delta.items);
      const again = delta.items.find((i) => i.id === seen.id);
      expect(again).toMatchObject({ status: 'cancelled', revision: seen.revision + 1, deleted: false });
    });
  });

  describe('incremental sync', () => {
    it('a booking, a reschedule and a cancellation each come once, with rising revisions; no change gives no items; an old token still works', async () => {
      const s = await freshClinic();
      await bookShort(s);
      const full = await syncAll(s.keys.frontDesk);
      expect(full.items).toHaveLength(3);

      // Booked: the plan's sessions arrive as they are.
      const plan = await bookShort(s);
      const booked = await syncAll(s.keys.frontDesk, { syncToken: full.token });
      once(booked.items);
      expect(ids(booked.items).sort()).toEqual(ids(plan.sessions).sort());
      for (const item of booked.items)
        expect(item).toMatchObject({ status: 'scheduled', revision: 1, planId: plan.id });

      // Rescheduled an hour later (the last infusion, so nothing cascades).
      const target = plan.sessions.find((x: Json) => x.ref === 'infusion#2');
      const etag = (await request(t.http).get(`/v1/plans/${plan.id}`).set(bearer(s.keys.frontDesk)).expect(200)).headers
        .etag;
      const newStart = DateTime.fromISO(target.start, { setZone: true }).plus({ hours: 1 }).toISO()!;
      const adj = await request(t.http)
        .post(`/v1/plans/${plan.id}/adjustments`)
        .set(bearer(s.keys.frontDesk))
        .set('If-Match', etag)
        .send({ type: 'reschedule', sessionId: target.id, start: newStart });
      expect({ status: adj.status, body: adj.body }).toMatchObject({ status: 200 });
      const moved = await syncAll(s.keys.frontDesk, { syncToken: booked.token });
      once(moved.items);
      const m = moved.items.find((i) => i.id === target.id)!;
      expect(m.revision).toBeGreaterThan(1);
      expect(DateTime.fromISO(m.start).toMillis()).toBe(DateTime.fromISO(newStart).toMillis());

      // Cancelled: the session comes as a tombstone for the client (status cancelled), never filtered out.
      expect((await cancel(s, target.id)).status).toBe(200);
      const cancelled = await syncAll(s.keys.frontDesk, { syncToken: moved.token });
      expect(cancelled.items).toHaveLength(1);
      expect(cancelled.items[0]).toMatchObject({
        id: target.id,
        status: 'cancelled',
        statusReason: 'Patient has the flu',
        deleted: false,
      });
      expect(cancelled.items[0].revision).toBeGreaterThan(m.revision);

      // Nothing changed: no items, a valid token; and again from that one.
      const quiet = await get(s.keys.frontDesk, { syncToken: cancelled.token }).expect(200);
      expect(quiet.body.items).toEqual([]);
      expect(quiet.body.nextPageToken).toBeUndefined();
      const quieter = await get(s.keys.frontDesk, { syncToken: quiet.body.nextSyncToken }).expect(200);
      expect(quieter.body.items).toEqual([]);

      // An old token is still good: everything since then, in its current state, each once; twice over.
      for (let i = 0; i < 2; i++) {
        const replay = await syncAll(s.keys.frontDesk, { syncToken: full.token, limit: 2 });
        once(replay.items);
        expect(ids(replay.items).sort()).toEqual(ids(plan.sessions).sort());
        expect(replay.items.find((x) => x.id === target.id)).toMatchObject({
          status: 'cancelled',
          revision: cancelled.items[0].revision,
        });
      }
    });

    it('a hard-deleted session comes as a tombstone with a revision above the last one', async () => {
      const s = await freshClinic();
      const plan = await bookShort(s);
      const victim = plan.sessions[2];
      expect((await atSessionTime(t, victim.id, async () => checkIn(s, victim.id))).status).toBe(200);
      const full = await syncAll(s.keys.frontDesk);
      const before = full.items.find((i) => i.id === victim.id)!;
      expect(before.revision).toBe(2);

      await t.dataSource.transaction(async (m) => {
        // Observations reference sessions (and are append-only); this session has none.
        const [{ n }] = await m.query(`SELECT count(*)::int AS n FROM session_observations WHERE session_id = $1`, [
          victim.id,
        ]);
        expect(n).toBe(0);
        await m.query(`DELETE FROM sessions WHERE id = $1`, [victim.id]);
      });

      const delta = await syncAll(s.keys.frontDesk, { syncToken: full.token });
      expect(delta.items).toEqual([
        { id: victim.id, planId: plan.id, status: 'cancelled', revision: 3, deleted: true },
      ]);
      // The tombstone is audited too (no patient data in it).
      const audit = await t.dataSource.query(
        `SELECT patient_id FROM audit_events WHERE action = 'session.sync' AND entity_id = $1`,
        [victim.id],
      );
      expect(audit.map((r: Json) => r.patient_id)).toContain(null);
      // A full sync no longer has it.
      expect(ids((await syncAll(s.keys.frontDesk)).items)).not.toContain(victim.id);
    });

    it("another clinic's changes never show", async () => {
      const s = await freshClinic();
      await bookShort(s);
      const full = await syncAll(s.keys.frontDesk);
      const other = await bookShort(B);
      expect((await cancel(B, other.sessions[0].id)).status).toBe(200);
      const delta = await get(s.keys.frontDesk, { syncToken: full.token }).expect(200);
      expect(delta.body.items).toEqual([]);
    });
  });

  describe('concurrent writers lose nothing', () => {
    it('a change that commits after a later one is sent when it commits, and the later one only once', async () => {
      const s = await freshClinic();
      const plan = await bookShort(s);
      const [s1, s2] = plan.sessions;
      const base = await syncAll(s.keys.frontDesk);

      const client = new pg.Client(t.databaseUrl);
      await client.connect();
      let open = false;
      try {
        await client.query('BEGIN');
        open = true;
        // T1 takes its txid first...
        const upd = await client.query(
          `UPDATE sessions SET version = version + 1, label = label || ' (edited)' WHERE id = $1 RETURNING version`,
          [s1.id],
        );
        const late = (await client.query(`SELECT pg_current_xact_id()::text AS x`)).rows[0].x as string;
        // ...T2 commits through the API.
        expect((await cancel(s, s2.id)).status).toBe(200);

        const held = await syncAll(s.keys.frontDesk, { syncToken: base.token });
        // T2 is visible and sent; T1 is still running: not sent, and the token's snapshot knows it
        // was in progress (xmin:xmax:in-progress…).
        expect(ids(held.items)).not.toContain(s1.id);
        expect(held.items.find((i) => i.id === s2.id)).toMatchObject({ status: 'cancelled' });
        const [xmin, , running] = String(payloadOf(held.token).w).split(':');
        expect(BigInt(xmin)).toBeLessThanOrEqual(BigInt(late));
        expect(running.split(',')).toContain(late);

        await client.query('COMMIT');
        open = false;
        const after = await syncAll(s.keys.frontDesk, { syncToken: held.token });
        // T1 now, exactly once; T2 not again.
        expect(after.items).toHaveLength(1);
        expect(after.items[0]).toMatchObject({
          id: s1.id,
          revision: upd.rows[0].version,
          label: expect.stringMatching(/\(edited\)$/),
        });
        expect(String(payloadOf(after.token).w).split(':')[2].split(',')).not.toContain(late);
      } finally {
        if (open) await client.query('ROLLBACK');
        await client.end();
      }
    });

    it('a rolled-back change is never delivered', async () => {
      const s = await freshClinic();
      const plan = await bookShort(s);
      const base = await syncAll(s.keys.frontDesk);
      const client = new pg.Client(t.databaseUrl);
      await client.connect();
      try {
        await client.query('BEGIN');
        await client.query(`UPDATE sessions SET version = version + 1 WHERE id = $1`, [plan.sessions[0].id]);
        await client.query('ROLLBACK');
      } finally {
        await client.end();
      }
      expect((await syncAll(s.keys.frontDesk, { syncToken: base.token })).items).toEqual([]);
    });

    it('a burst of parallel check-ins and cancellations, synced while it runs: the client copy ends equal to the database', async () => {
      const s = await freshClinic();
      // Check-in opens a week ahead here, so that every session of the burst may be checked in now.
      await request(t.http)
        .patch(`/v1/clinics/${s.keys.clinicId}`)
        .set(bearer(s.keys.admin))
        .send({ checkInOpensDaysBefore: 7 })
        .expect(200);
      for (let i = 0; i < 4; i++) await bookShort(s);
      const mirror = new Map<string, Json>();
      const apply = (items: Json[]) => {
        once(items);
        for (const item of items) {
          const held = mirror.get(item.id);
          if (!held || held.revision <= item.revision) mirror.set(item.id, item);
        }
      };
      const full = await syncAll(s.keys.frontDesk, { limit: 5 });
      apply(full.items);
      let token = full.token;

      const rows = await dbSessions(s.keys.clinicId);
      expect(rows).toHaveLength(12);
      const targets = rows.slice(0, 10);
      let done = false;
      const writers = Promise.all(
        targets.map(async (r, i) => {
          const res = await (i % 2 === 0 ? cancel(s, r.id) : checkIn(s, r.id));
          expect(res.status).toBe(200);
        }),
      ).finally(() => (done = true));
      const started = Date.now();
      let syncs = 0;
      while (!done && Date.now() - started < 20_000) {
        const d = await syncAll(s.keys.frontDesk, { syncToken: token, limit: 3 });
        apply(d.items);
        token = d.token;
        syncs++;
      }
      await writers;
      expect(syncs).toBeGreaterThan(0);
      const last = await syncAll(s.keys.frontDesk, { syncToken: token, limit: 3 });
      apply(last.items);

      const now = await dbSessions(s.keys.clinicId);
      expect(new Map([...mirror].map(([id, v]) => [id, { status: v.status, revision: v.revision }]))).toEqual(
        new Map(now.map((r) => [r.id, { status: r.status, revision: r.version }])),
      );
      for (const [i, r] of targets.entries())
        expect(mirror.get(r.id)!.status).toBe(i % 2 === 0 ? 'cancelled' : 'checked_in');
      // Settled: the next sync is empty.
      expect((await get(s.keys.frontDesk, { syncToken: last.token }).expect(200)).body.items).toEqual([]);
    });
  });

  describe('tokens', () => {
    let token: string;
    let pageToken: string;
    beforeAll(async () => {
      await bookShort(A);
      token = (await syncAll(A.keys.frontDesk)).token;
      pageToken = (await get(A.keys.frontDesk, { limit: 1 }).expect(200)).body.nextPageToken;
      expect(typeof pageToken).toBe('string');
    });

    it('are opaque: base64url payload and signature', () => {
      expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      expect(payloadOf(token)).toMatchObject({ v: 1, k: 'sync', c: A.keys.clinicId, iat: NOW.toISO() });
    });

    it('garbage → 410 FULL_SYNC_REQUIRED', async () => {
      expectGone(await get(A.keys.frontDesk, { syncToken: 'garbage' }));
      expectGone(await get(A.keys.frontDesk, { syncToken: 'e30.e30' }));
      expectGone(await get(A.keys.frontDesk, { pageToken: 'nope' }));
    });

    it('a tampered token → 410', async () => {
      const [body, sig] = token.split('.');
      const i = Math.floor(body.length / 2);
      const flipped = body.slice(0, i) + (body[i] === 'A' ? 'B' : 'A') + body.slice(i + 1);
      expectGone(await get(A.keys.frontDesk, { syncToken: `${flipped}.${sig}` }));
      // A payload forged for another watermark, with the old signature.
      const forged = Buffer.from(JSON.stringify({ ...payloadOf(token), w: '1' })).toString('base64url');
      expectGone(await get(A.keys.frontDesk, { syncToken: `${forged}.${sig}` }));
    });

    it("another clinic's token → 410 (for a clinic key and for an operator naming the other clinic)", async () => {
      const bToken = (await syncAll(B.keys.frontDesk)).token;
      expectGone(await get(A.keys.frontDesk, { syncToken: bToken }));
      expectGone(await get(operator, { clinicId: A.keys.clinicId, syncToken: bToken }));
      expect((await get(operator, { clinicId: B.keys.clinicId, syncToken: bToken })).status).toBe(200);
    });

    it('a token older than 30 days → 410; 29 days is still good', async () => {
      try {
        t.clock.set(NOW.plus({ days: 29 }));
        expect((await get(A.keys.frontDesk, { syncToken: token })).status).toBe(200);
        t.clock.set(NOW.plus({ days: 31 }));
        expectGone(await get(A.keys.frontDesk, { syncToken: token }));
        expectGone(await get(A.keys.frontDesk, { pageToken }));
      } finally {
        t.clock.set(NOW);
      }
    });

    it('a page token as syncToken, or a sync token as pageToken → 410', async () => {
      expectGone(await get(A.keys.frontDesk, { syncToken: pageToken }));
      expectGone(await get(A.keys.frontDesk, { pageToken: token }));
      // Each where it belongs is fine.
      expect((await get(A.keys.frontDesk, { pageToken })).status).toBe(200);
      expect((await get(A.keys.frontDesk, { syncToken: token })).status).toBe(200);
    });

    it('both tokens, a bad limit, or a filter → 400 naming the field', async () => {
      expectProblem(await get(A.keys.frontDesk, { syncToken: token, pageToken }), 400, 'VALIDATION_FAILED', [
        'syncToken',
        'pageToken',
      ]);
      for (const limit of ['0', '501', 'abc', '1.5', '-1'])
        expectProblem(await get(A.keys.frontDesk, { limit }), 400, 'VALIDATION_FAILED', 'limit');
      expect((await get(A.keys.frontDesk, { limit: 500 })).status).toBe(200);
      // Like Google's syncTokenWithRequestRestrictions: no filter goes with a token (nor any unknown one at all).
      expectProblem(
        await get(A.keys.frontDesk, { syncToken: token, from: '2026-12-01' }),
        400,
        'VALIDATION_FAILED',
        'from',
      );
      expectProblem(await get(A.keys.frontDesk, { syncToken: '' }), 400, 'VALIDATION_FAILED', 'syncToken');
    });
  });

  describe('scope, roles and audit', () => {
    it('a clinic key asking for another clinic gets 404; an operator key must name the clinic (400), an unknown one is 404', async () => {
      expectProblem(await get(A.keys.frontDesk, { clinicId: B.keys.clinicId }), 404, 'CLINIC_NOT_FOUND');
      expectProblem(await get(operator, {}), 400, 'VALIDATION_FAILED', 'clinicId');
      expectProblem(await get(operator, { clinicId: '00000000-0000-4000-8000-000000000000' }), 404, 'CLINIC_NOT_FOUND');
      expectProblem(await get(operator, { clinicId: 'nope' }), 400, 'VALIDATION_FAILED', 'clinicId');
      const viaOperator = await syncAll(operator, { clinicId: B.keys.clinicId });
      expect(ids(viaOperator.items).sort()).toEqual(
        (await dbSessions(B.keys.clinicId))
          .filter((r) => r.status !== 'cancelled')
          .map((r) => r.id)
          .sort(),
      );
      // The clinic key naming its own clinic is fine.
      expect((await get(A.keys.frontDesk, { clinicId: A.keys.clinicId })).status).toBe(200);
    });

    it('every role may sync; no key is 401', async () => {
      for (const key of [A.keys.frontDesk, A.keys.clinician, A.keys.admin])
        expect((await get(key, { limit: 1 })).status).toBe(200);
      expectProblem(await request(t.http).get('/v1/sync/sessions'), 401, 'UNAUTHENTICATED');
    });

    it('each session handed out is audited as a read (session.sync), with its patient', async () => {
      const s = await freshClinic();
      await bookShort(s);
      const count = async () =>
        (
          await t.dataSource.query(
            `SELECT count(*)::int AS n FROM audit_events WHERE clinic_id = $1 AND action = 'session.sync'`,
            [s.keys.clinicId],
          )
        )[0].n as number;
      expect(await count()).toBe(0);
      const full = await syncAll(s.keys.clinician, { limit: 2 });
      const rows: Json[] = await t.dataSource.query(
        `SELECT entity_type, entity_id, patient_id, actor_role FROM audit_events WHERE clinic_id = $1 AND action = 'session.sync' ORDER BY entity_id`,
        [s.keys.clinicId],
      );
      expect(rows).toEqual(
        [...full.items]
          .sort((a, b) => (a.id < b.id ? -1 : 1))
          .map((i) => ({ entity_type: 'session', entity_id: i.id, patient_id: i.patientId, actor_role: 'clinician' })),
      );
      // An empty sync reads nothing and records nothing.
      await get(s.keys.clinician, { syncToken: full.token }).expect(200);
      expect(await count()).toBe(3);
    });

    it('is documented in the OpenAPI spec, with the 410', async () => {
      const doc = (await request(t.http).get('/openapi.json').expect(200)).body;
      const op = doc.paths['/v1/sync/sessions'].get;
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '404', '410']));
      expect(op.description).toMatch(/nextSyncToken/);
      expect(
        op.parameters
          .filter((p: Json) => p.in === 'query')
          .map((p: Json) => p.name)
          .sort(),
      ).toEqual(['clinicId', 'limit', 'pageToken', 'syncToken']);
    });
  });

  describe('housekeeping', () => {
    it('pruneChanges deletes change-log rows older than 31 days and never younger ones', async () => {
      const s = await freshClinic();
      const plan = await bookShort(s);
      const [a, b] = plan.sessions;
      const clock = t.clock.now();
      await t.dataSource.query(`UPDATE session_changes SET changed_at = $2 WHERE session_id = $1`, [
        a.id,
        clock.minus({ days: 40 }).toJSDate(),
      ]);
      await t.dataSource.query(`UPDATE session_changes SET changed_at = $2 WHERE session_id = $1`, [
        b.id,
        clock.minus({ days: 20 }).toJSDate(),
      ]);
      const cutoff = clock.minus({ days: 31 }).toJSDate();
      const [{ n: old }] = await t.dataSource.query(
        `SELECT count(*)::int AS n FROM session_changes WHERE changed_at < $1`,
        [cutoff],
      );
      expect(old).toBeGreaterThanOrEqual(1);

      // Asked for too much, it still keeps the last 31 days.
      const deleted = await t.app.get(SyncService).pruneChanges(clock);
      expect(deleted).toBe(old);
      const left = await t.dataSource.query(`SELECT session_id FROM session_changes WHERE session_id = ANY($1)`, [
        [a.id, b.id],
      ]);
      expect(left.map((r: Json) => r.session_id)).toEqual([b.id]);
      expect(
        (await t.dataSource.query(`SELECT count(*)::int AS n FROM session_changes WHERE changed_at < $1`, [cutoff]))[0]
          .n,
      ).toBe(0);
    });
  });
});
