import ICAL from 'ical.js';
import { DateTime } from 'luxon';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { FeedsFollowTheirKey1765065600000 } from '../../migrations/1765065600000-FeedsFollowTheirKey.js';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { bookPlan, newPatient, setupClinic, type ClinicSetup } from '../factories/series.factory.js';
import { expectProblem } from '../support/problem.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// ---------------------------------------------------------------------------------------------
// Issue 14, items 14, 15 and 19: a calendar feed lives no longer than the API key that created it
// (and the feed list names that key); feed URLs never come from a Host header this service does
// not answer to; renaming a chair or staff member reaches calendars (SEQUENCE) and synced copies
// (a new revision, a webhook) of the sessions to come.
// ---------------------------------------------------------------------------------------------

type Json = Record<string, any>;
const NOW = DateTime.fromISO('2026-11-25T15:00:00Z', { zone: 'utc' });
const uidOf = (sessionId: string) => `session-${sessionId}@chairside`;

function events(body: string): { uid: string; seq: number; location: string; description: string }[] {
  return new ICAL.Component(ICAL.parse(body)).getAllSubcomponents('vevent').map((v) => ({
    uid: String(v.getFirstPropertyValue('uid')),
    seq: Number(v.getFirstPropertyValue('sequence')),
    location: String(v.getFirstPropertyValue('location')),
    description: String(v.getFirstPropertyValue('description')),
  }));
}

describe('calendar feeds: creators, hosts and renames', () => {
  let t: TestApp;
  let A: ClinicSetup;
  let plan: Json;
  const api = () => request(t.http);
  const tokenOf = (url: string) => /\/v1\/calendar\/feeds\/(cfd_[A-Za-z0-9_-]{43})\.ics$/.exec(url)![1];
  const fetchFeed = (token: string) =>
    api()
      .get(`/v1/calendar/feeds/${token}.ics`)
      .buffer(true)
      .parse((res, cb) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (data += c));
        res.on('end', () => cb(null, data));
      });
  const createFeed = async (key: string, body: Json): Promise<Json> => {
    const res = await api().post('/v1/calendar/feeds').set(bearer(key)).send(body);
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 201 });
    return res.body;
  };
  const newKey = async (role: string, name: string): Promise<Json> => {
    const res = await api().post('/v1/api-keys').set(bearer(A.keys.admin)).send({ role, name });
    expect(res.status).toBe(201);
    return res.body;
  };

  beforeAll(async () => {
    t = await startTestApp();
    A = await setupClinic(t.app, t.http, 'Harbor');
    plan = await bookPlan(t.http, A, {
      patientId: await newPatient(t.http, A, { fullName: 'Ivy Keyholder', dateOfBirth: '1970-03-04' }),
    });
  });
  afterAll(() => t.close());

  describe('a feed lives no longer than the key that created it', () => {
    it('lists each feed with the key that created it', async () => {
      const key = await newKey('front_desk', 'Reception tablet');
      const feed = await createFeed(key.key, { scope: 'clinic' });
      const creator = { keyId: key.id, name: 'Reception tablet', role: 'front_desk', keyPrefix: key.keyPrefix };
      expect(feed.createdBy).toEqual(creator);
      const list = await api().get('/v1/calendar/feeds').query({ limit: 200 }).set(bearer(A.keys.admin)).expect(200);
      expect(list.body.items.find((f: Json) => f.id === feed.id).createdBy).toEqual(creator);
      // A feed whose creator is not known (none is made so through the API) says null.
      await t.dataSource.query(`UPDATE calendar_feeds SET created_by_key_id = NULL WHERE id = $1`, [feed.id]);
      const again = await api().get('/v1/calendar/feeds').query({ limit: 200 }).set(bearer(A.keys.admin)).expect(200);
      expect(again.body.items.find((f: Json) => f.id === feed.id).createdBy).toBeNull();
    });

    it("revoking a key revokes the feeds it created (each audited), in the key's transaction; other keys' feeds stay", async () => {
      const key = await newKey('front_desk', 'Leaving nurse');
      const patientId = plan.patientId as string;
      const mine = [
        await createFeed(key.key, { scope: 'clinic' }),
        await createFeed(key.key, { scope: 'patient', patientId }),
      ];
      const other = await createFeed(A.keys.frontDesk, { scope: 'clinic' });
      for (const f of [...mine, other]) expect((await fetchFeed(f.token)).status).toBe(200);

      await api().delete(`/v1/api-keys/${key.id}`).set(bearer(A.keys.admin)).expect(200);

      for (const f of mine) {
        const res = await fetchFeed(f.token);
        expect({ feed: f.id, status: res.status }).toEqual({ feed: f.id, status: 404 });
      }
      expect((await fetchFeed(other.token)).status).toBe(200);
      const listed = (
        await api().get('/v1/calendar/feeds').query({ limit: 200 }).set(bearer(A.keys.admin)).expect(200)
      ).body.items.map((f: Json) => f.id);
      expect(listed).toContain(other.id);
      for (const f of mine) expect(listed).not.toContain(f.id);

      const [keyRow] = await t.dataSource.query(`SELECT revoked_at FROM api_keys WHERE id = $1`, [key.id]);
      const feedRows = await t.dataSource.query(
        `SELECT id, revoked_at FROM calendar_feeds WHERE created_by_key_id = $1`,
        [key.id],
      );
      expect(feedRows).toHaveLength(2);
      for (const r of feedRows) expect(r.revoked_at).toEqual(keyRow.revoked_at);
      const audit = await t.dataSource.query(
        `SELECT clinic_id, entity_id, actor_role, patient_id, changes FROM audit_events WHERE action = 'calendar_feed.revoke' AND entity_id = ANY($1::uuid[]) ORDER BY entity_id`,
        [mine.map((f) => f.id)],
      );
      expect(audit).toEqual(
        mine
          .map((f) => ({
            clinic_id: A.keys.clinicId,
            entity_id: f.id,
            actor_role: 'admin',
            patient_id: f.scope === 'patient' ? patientId : null,
            changes: { before: null, after: { reason: 'creator_key_revoked', keyId: key.id } },
          }))
          .sort((a, b) => (a.entity_id < b.entity_id ? -1 : 1)),
      );
    });

    it('the migration revokes the feeds of keys revoked before this change (audited, by the system) and keeps the others', async () => {
      const gone = await newKey('clinician', 'Revoked long ago');
      const kept = await newKey('clinician', 'Still here');
      const orphanFeed = await createFeed(gone.key, { scope: 'clinic' });
      const keptFeed = await createFeed(kept.key, { scope: 'clinic' });
      // A revocation as it was before: the key's row alone.
      await t.dataSource.query(`UPDATE api_keys SET revoked_at = $2 WHERE id = $1`, [
        gone.id,
        NOW.plus({ minutes: 5 }).toJSDate(),
      ]);
      const migration = new FeedsFollowTheirKey1765065600000();
      // Migrations run as the tables' owner, never as the service's own role.
      const owner = new DataSource(dataSourceOptions(t.ownerUrl, 1));
      await owner.initialize();
      const qr = owner.createQueryRunner();
      try {
        await migration.down(qr);
        await migration.up(qr);
      } finally {
        await qr.release();
        await owner.destroy();
      }
      expect((await fetchFeed(orphanFeed.token)).status).toBe(404);
      expect((await fetchFeed(keptFeed.token)).status).toBe(200);
      const [row] = await t.dataSource.query(`SELECT revoked_at FROM calendar_feeds WHERE id = $1`, [orphanFeed.id]);
      expect(row.revoked_at).toEqual(NOW.plus({ minutes: 5 }).toJSDate());
      const audit = await t.dataSource.query(
        `SELECT actor_key_id, actor_role, changes FROM audit_events WHERE action = 'calendar_feed.revoke' AND entity_id = $1`,
        [orphanFeed.id],
      );
      expect(audit).toEqual([
        {
          actor_key_id: null,
          actor_role: 'system',
          changes: { before: null, after: { reason: 'creator_key_revoked', keyId: gone.id } },
        },
      ]);
    });

    it('a feed being created while its key is revoked either goes with the key or is refused (never outlives it)', async () => {
      const key = await newKey('front_desk', 'Racing key');
      // The revoke's transaction, held open: the key's row updated, the cascade not yet run.
      const revoke = t.dataSource.createQueryRunner();
      await revoke.connect();
      await revoke.startTransaction();
      try {
        await revoke.query(`UPDATE api_keys SET revoked_at = $2 WHERE id = $1`, [key.id, NOW.toJSDate()]);
        // The key still authenticates (the revoke has not committed): the creation gets under way.
        let done = false;
        const creating = api()
          .post('/v1/calendar/feeds')
          .set(bearer(key.key))
          .send({ scope: 'clinic' })
          .then((res) => ((done = true), res));
        // Until it either finishes or waits on the key's row.
        const deadline = Date.now() + 10_000;
        for (;;) {
          const [w] = await t.dataSource.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%FROM api_keys%FOR SHARE%'`,
          );
          if (done || w.n > 0 || Date.now() > deadline) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        await revoke.query(
          `UPDATE calendar_feeds SET revoked_at = $2 WHERE created_by_key_id = $1 AND revoked_at IS NULL`,
          [key.id, NOW.toJSDate()],
        );
        await revoke.commitTransaction();
        const res = await creating;
        expectProblem(res, 401, 'UNAUTHENTICATED');
      } finally {
        if (revoke.isTransactionActive) await revoke.rollbackTransaction();
        await revoke.release();
      }
      const active = await t.dataSource.query(
        `SELECT id FROM calendar_feeds WHERE created_by_key_id = $1 AND revoked_at IS NULL`,
        [key.id],
      );
      expect(active).toEqual([]);
    });
  });

  describe('feed URLs and the Host header (no PUBLIC_URL)', () => {
    it.each([
      ['a path and a query', 'evil.example/x?'],
      ['user info', 'user@127.0.0.1'],
      ['a bad port', '127.0.0.1:99999'],
      ['a host this service does not answer to', 'evil.example'],
      ['one that only starts like an allowed one', 'localhost.evil.example'],
    ])('refuses a Host with %s (400 naming Host), writing nothing', async (_what, host) => {
      const before = (await t.dataSource.query(`SELECT count(*)::int AS n FROM calendar_feeds`))[0].n;
      const res = await api()
        .post('/v1/calendar/feeds')
        .set(bearer(A.keys.frontDesk))
        .set('Host', host)
        .send({ scope: 'clinic' });
      expectProblem(res, 400, 'VALIDATION_FAILED', 'Host');
      expect(JSON.stringify(res.body)).not.toContain('evil');
      expect((await t.dataSource.query(`SELECT count(*)::int AS n FROM calendar_feeds`))[0].n).toBe(before);
    });

    it.each([
      ['localhost:3105', 'http://localhost:3105'],
      ['LOCALHOST', 'http://localhost'],
      ['127.0.0.1:8080', 'http://127.0.0.1:8080'],
      ['[::1]:3105', 'http://[::1]:3105'],
    ])('builds the URL from an allowed Host %s', async (host, base) => {
      const res = await api()
        .post('/v1/calendar/feeds')
        .set(bearer(A.keys.frontDesk))
        .set('Host', host)
        .send({ scope: 'clinic' });
      expect(res.status).toBe(201);
      expect(res.body.url).toBe(`${base}/v1/calendar/feeds/${res.body.token}.ics`);
    });

    it('checks a forwarded host and scheme behind a trusted proxy; PUBLIC_URL, when set, is used whatever the request says', async () => {
      const proxied = await startTestApp({ trustProxy: 'loopback', allowedHosts: ['chairside.internal'] });
      try {
        const B = await setupClinic(proxied.app, proxied.http, 'Proxied');
        const post = (headers: Record<string, string>) => {
          const req = request(proxied.http).post('/v1/calendar/feeds').set(bearer(B.keys.frontDesk));
          for (const [k, v] of Object.entries(headers)) req.set(k, v);
          return req.send({ scope: 'clinic' });
        };
        expectProblem(await post({ 'X-Forwarded-Host': 'evil.example' }), 400, 'VALIDATION_FAILED', 'Host');
        expectProblem(
          await post({ 'X-Forwarded-Host': 'chairside.internal', 'X-Forwarded-Proto': 'javascript' }),
          400,
          'VALIDATION_FAILED',
          'X-Forwarded-Proto',
        );
        const ok = await post({ 'X-Forwarded-Host': 'chairside.internal', 'X-Forwarded-Proto': 'https' });
        expect(ok.status).toBe(201);
        expect(ok.body.url).toMatch(/^https:\/\/chairside\.internal\/v1\/calendar\/feeds\/cfd_/);
      } finally {
        await proxied.close();
      }
      const configured = await startTestApp({ publicUrl: 'https://calendar.example.org' });
      try {
        const C = await setupClinic(configured.app, configured.http, 'Configured');
        const res = await request(configured.http)
          .post('/v1/calendar/feeds')
          .set(bearer(C.keys.frontDesk))
          .set('Host', 'evil.example')
          .send({ scope: 'clinic' });
        expect(res.status).toBe(201);
        expect(res.body.url).toBe(`https://calendar.example.org/v1/calendar/feeds/${res.body.token}.ics`);
      } finally {
        await configured.close();
      }
    });
  });

  describe('renaming a chair or staff member', () => {
    it("gives the sessions to come a new revision: a higher SEQUENCE in feeds, a delta in sync, a session.updated webhook; past and others' sessions keep theirs", async () => {
      const infusions = (plan.sessions as Json[]).filter((s) => s.chair);
      const chair = infusions[0].chair as Json;
      const staff = infusions[0].staff as Json;
      const endpoint = await api()
        .post('/v1/webhooks')
        .set(bearer(A.keys.admin))
        .send({ url: 'https://example.org/hooks', eventTypes: ['session.updated'] })
        .expect(201);
      const chairFeed = tokenOf((await createFeed(A.keys.frontDesk, { scope: 'chair', chairId: chair.id })).url);
      const staffFeed = tokenOf((await createFeed(A.keys.frontDesk, { scope: 'staff', staffId: staff.id })).url);

      // Later than the first infusion's recovery: that one is over and must not change.
      const first = infusions[0];
      const [firstRow] = await t.dataSource.query(`SELECT occupied_until FROM sessions WHERE id = $1`, [first.id]);
      const later = DateTime.fromJSDate(firstRow.occupied_until, { zone: 'utc' }).plus({ minutes: 1 });
      try {
        t.clock.set(later);
        const sync = async (syncToken?: string) => {
          const items: Json[] = [];
          let query: Json = syncToken ? { syncToken } : {};
          for (;;) {
            const res = await api().get('/v1/sync/sessions').query(query).set(bearer(A.keys.frontDesk)).expect(200);
            items.push(...res.body.items);
            if (res.body.nextSyncToken) return { items, token: res.body.nextSyncToken as string };
            query = { pageToken: res.body.nextPageToken };
          }
        };
        const { token } = await sync();
        const versions = async () =>
          new Map<string, Json>(
            (
              await t.dataSource.query(
                `SELECT id, version, chair_id, staff_id, occupied_until, status FROM sessions WHERE clinic_id = $1`,
                [A.keys.clinicId],
              )
            ).map((r: Json) => [r.id, r]),
          );
        const before = await versions();
        const chairSeqBefore = new Map(events((await fetchFeed(chairFeed)).body).map((e) => [e.uid, e.seq]));
        const messagesBefore = (
          await t.dataSource.query(`SELECT count(*)::int AS n FROM webhook_messages WHERE endpoint_id = $1`, [
            endpoint.body.id,
          ])
        )[0].n;

        await api()
          .patch(`/v1/clinics/${A.keys.clinicId}/chairs/${chair.id}`)
          .set(bearer(A.keys.admin))
          .send({ name: 'Window chair' })
          .expect(200);

        const after = await versions();
        const upcoming = [...before.values()].filter(
          (r) => r.chair_id === chair.id && r.occupied_until > later.toJSDate() && r.status !== 'cancelled',
        );
        expect(upcoming.length).toBeGreaterThan(0);
        for (const [id, r] of before) {
          const raised = upcoming.some((u) => u.id === id);
          expect({ id, version: after.get(id)!.version }).toEqual({ id, version: r.version + (raised ? 1 : 0) });
        }
        expect(after.get(first.id)!.version).toBe(before.get(first.id)!.version);

        // Feeds: a higher SEQUENCE and the new name for the sessions to come.
        const chairEvents = events((await fetchFeed(chairFeed)).body);
        for (const u of upcoming) {
          const e = chairEvents.find((x) => x.uid === uidOf(u.id))!;
          expect(e.seq).toBeGreaterThan(chairSeqBefore.get(uidOf(u.id))!);
          expect(e.location).toBe('Harbor, Window chair');
        }
        expect(chairEvents.find((x) => x.uid === uidOf(first.id))!.seq).toBe(chairSeqBefore.get(uidOf(first.id)));

        // Sync: exactly those sessions, with the new name and revision.
        const delta = await sync(token);
        expect(delta.items.map((i) => i.id).sort()).toEqual(upcoming.map((u) => u.id).sort());
        for (const i of delta.items) {
          expect(i.chair).toEqual({ id: chair.id, name: 'Window chair' });
          expect(i.revision).toBe(after.get(i.id)!.version);
        }
        // Webhooks: one session.updated each.
        const messages = (
          await t.dataSource.query(
            `SELECT count(*)::int AS n FROM webhook_messages WHERE endpoint_id = $1 AND event_type = 'session.updated'`,
            [endpoint.body.id],
          )
        )[0].n;
        expect(messages - messagesBefore).toBe(upcoming.length);

        // A staff member's rename: their sessions to come, in their feed and in sync.
        const staffSeqBefore = new Map(events((await fetchFeed(staffFeed)).body).map((e) => [e.uid, e.seq]));
        await api()
          .patch(`/v1/clinics/${A.keys.clinicId}/staff/${staff.id}`)
          .set(bearer(A.keys.admin))
          .send({ name: 'Nurse Renamed' })
          .expect(200);
        const staffUpcoming = [...after.values()].filter(
          (r) => r.staff_id === staff.id && r.occupied_until > later.toJSDate() && r.status !== 'cancelled',
        );
        expect(staffUpcoming.length).toBeGreaterThan(0);
        const staffEvents = events((await fetchFeed(staffFeed)).body);
        for (const u of staffUpcoming) {
          const e = staffEvents.find((x) => x.uid === uidOf(u.id))!;
          expect(e.seq).toBeGreaterThan(staffSeqBefore.get(uidOf(u.id))!);
          expect(e.description).toContain('Staff: Nurse Renamed');
        }
        const staffDelta = await sync(delta.token);
        expect(staffDelta.items.map((i) => i.id).sort()).toEqual(staffUpcoming.map((u) => u.id).sort());

        // Same name again, or another field only: nothing changes.
        const third = await versions();
        await api()
          .patch(`/v1/clinics/${A.keys.clinicId}/chairs/${chair.id}`)
          .set(bearer(A.keys.admin))
          .send({ name: 'Window chair' })
          .expect(200);
        await api()
          .patch(`/v1/clinics/${A.keys.clinicId}/staff/${staff.id}`)
          .set(bearer(A.keys.admin))
          .send({ maxConcurrentPatients: 3 })
          .expect(200);
        expect(await versions()).toEqual(third);
      } finally {
        t.clock.set(NOW);
      }
    });
  });
});
