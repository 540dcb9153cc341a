import { createHash } from 'node:crypto';
import ICAL from 'ical.js';
import { DateTime } from 'luxon';
import request from 'supertest';
import { persistOperatorKey } from '../factories/clinic.factory.js';
import { bookPlan, newPatient, setupClinic, type ClinicSetup } from '../factories/series.factory.js';
import { expectProblem } from '../support/problem.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';
import { logSink } from '../support/log-sink.js';

// ---------------------------------------------------------------------------------------------
// iCalendar subscription feeds (CALENDAR-SYNC.md section A): creating, listing and revoking feeds,
// and what calendar apps receive from GET /v1/calendar/feeds/{token}.ics — parsed with ical.js.
// The clock stands at Wednesday 2026-11-25 10:00 in New York unless a test moves it (and puts it back).
// ---------------------------------------------------------------------------------------------

type Json = Record<string, any>;
const ZONE = 'America/New_York';
const NOW = DateTime.fromISO('2026-11-25T15:00:00Z', { zone: 'utc' });
const TOKEN_RE = /^cfd_[A-Za-z0-9_-]{43}$/;

// ical.js does not know these as TEXT (so would not unescape them); calendar apps treat them as TEXT.
ICAL.design.defaultSet.property['x-wr-calname'] = { defaultType: 'text' };
ICAL.design.defaultSet.property['name'] = { defaultType: 'text' };

interface Ev {
  uid: string;
  seq: number;
  start: Date;
  end: Date;
  summary: string;
  location: string;
  description: string;
  status: string;
  dtstamp: string;
  lastModified: string;
}

function parse(body: string): { cal: ICAL.Component; events: Ev[] } {
  const cal = new ICAL.Component(ICAL.parse(body));
  const events = cal.getAllSubcomponents('vevent').map((v) => {
    const e = new ICAL.Event(v);
    return {
      uid: String(v.getFirstPropertyValue('uid')),
      seq: Number(v.getFirstPropertyValue('sequence')),
      start: e.startDate.toJSDate(),
      end: e.endDate.toJSDate(),
      summary: String(v.getFirstPropertyValue('summary')),
      location: String(v.getFirstPropertyValue('location')),
      description: String(v.getFirstPropertyValue('description')),
      status: String(v.getFirstPropertyValue('status')),
      dtstamp: v
        .getFirstProperty('dtstamp')!
        .toICALString()
        .replace(/^[^:]*:/, ''),
      lastModified: v
        .getFirstProperty('last-modified')!
        .toICALString()
        .replace(/^[^:]*:/, ''),
    };
  });
  return { cal, events };
}

const uidOf = (sessionId: string) => `session-${sessionId}@chairside`;
const icsUtc = (d: Date) => DateTime.fromJSDate(d, { zone: 'utc' }).toFormat("yyyyLLdd'T'HHmmss'Z'");
const rawLines = (body: string) => body.split('\r\n');

describe('calendar feeds (/v1/calendar/feeds)', () => {
  let t: TestApp;
  let A: ClinicSetup;
  let B: ClinicSetup;
  let operator: string;
  let planP: Json; // patient P (Quentin Feedwell)
  let planQ: Json; // patient Q (Rosalind Otherby)
  let patientP: string;
  let patientQ: string;
  let patientB: string;
  const tokens: string[] = [];
  const { lines: logLines, sink } = logSink();
  const api = () => request(t.http);

  const createFeed = async (key: string, body: Json): Promise<Json> => {
    const res = await api().post('/v1/calendar/feeds').set(bearer(key)).send(body);
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 201 });
    tokens.push(res.body.token);
    return res.body;
  };
  const path = (token: string) => `/v1/calendar/feeds/${token}.ics`;
  /** A fetch as Google does it: no Accept header, no credentials. */
  const fetchFeed = async (token: string, headers: Record<string, string> = {}) => {
    const req = api().get(path(token)).set('User-Agent', 'Google-Calendar-Importer');
    for (const [k, v] of Object.entries(headers)) req.set(k, v);
    return req.buffer(true).parse((res, cb) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (data += c));
      res.on('end', () => cb(null, data));
    });
  };
  const feedBody = async (token: string): Promise<string> => {
    const res = await fetchFeed(token);
    expect(res.status).toBe(200);
    return res.body as string;
  };
  /** The sessions a feed must hold at the clock's time: started within 30 days back to 365 ahead, cancelled ones for 14 days. */
  const expectedIds = async (clinicId: string, extra = '', params: unknown[] = []): Promise<string[]> => {
    const now = t.clock.now();
    const rows: { id: string }[] = await t.dataSource.query(
      `SELECT id FROM sessions WHERE clinic_id = $1 AND starts_at >= $2 AND starts_at < $3 AND (status <> 'cancelled' OR updated_at >= $4) ${extra}`,
      [
        clinicId,
        now.minus({ days: 30 }).toJSDate(),
        now.plus({ days: 365 }).toJSDate(),
        now.minus({ days: 14 }).toJSDate(),
        ...params,
      ],
    );
    return rows.map((r) => r.id).sort();
  };
  const etagOfPlan = async (planId: string) =>
    (await api().get(`/v1/plans/${planId}`).set(bearer(A.keys.frontDesk)).expect(200)).headers.etag as string;

  beforeAll(async () => {
    t = await startTestApp({ logLevel: 'info', logDestination: sink });
    A = await setupClinic(t.app, t.http, 'Harbor');
    B = await setupClinic(t.app, t.http, 'Upriver');
    operator = await persistOperatorKey(t.app);
    patientP = await newPatient(t.http, A, { fullName: 'Quentin Feedwell', dateOfBirth: '1961-07-19' });
    patientQ = await newPatient(t.http, A, { fullName: 'Rosalind Otherby', dateOfBirth: '1977-02-28' });
    patientB = await newPatient(t.http, B, { fullName: 'Bartholomew Elsewhere', dateOfBirth: '1950-01-02' });
    planP = await bookPlan(t.http, A, { patientId: patientP });
    planQ = await bookPlan(t.http, A, { patientId: patientQ });
    await bookPlan(t.http, B, { patientId: patientB });
  });
  afterAll(() => t.close());

  describe('creating, listing and revoking feeds', () => {
    it('creates a clinic feed: a 256-bit token shown once, stored only as its SHA-256, an absolute URL, audited', async () => {
      const feed = await createFeed(A.keys.frontDesk, { scope: 'clinic' });
      expect(feed).toMatchObject({ clinicId: A.keys.clinicId, scope: 'clinic', scopeId: null, name: null });
      expect(feed.token).toMatch(TOKEN_RE);
      expect(feed.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/v1/calendar/feeds/${feed.token}\\.ics$`));
      expect(Date.parse(feed.createdAt)).not.toBeNaN();
      const [row] = await t.dataSource.query(`SELECT * FROM calendar_feeds WHERE id = $1`, [feed.id]);
      expect(Buffer.from(row.token_hash).equals(createHash('sha256').update(feed.token).digest())).toBe(true);
      expect(JSON.stringify(row)).not.toContain(feed.token);
      const audit = await t.dataSource.query(
        `SELECT actor_role, patient_id FROM audit_events WHERE action = 'calendar_feed.create' AND entity_id = $1`,
        [feed.id],
      );
      expect(audit).toEqual([{ actor_role: 'front_desk', patient_id: null }]);
      // Two feeds never share a token.
      const other = await createFeed(A.keys.clinician, { scope: 'clinic', name: 'Second' });
      expect(other.token).not.toBe(feed.token);
    });

    it('refuses a scope without its target, a target of another scope, bad names and unknown fields (400 naming the field)', async () => {
      const post = (body: Json) => api().post('/v1/calendar/feeds').set(bearer(A.keys.admin)).send(body);
      expectProblem(await post({ scope: 'chair' }), 400, 'VALIDATION_FAILED', 'chairId');
      expectProblem(await post({ scope: 'staff' }), 400, 'VALIDATION_FAILED', 'staffId');
      expectProblem(await post({ scope: 'patient' }), 400, 'VALIDATION_FAILED', 'patientId');
      expectProblem(await post({ scope: 'clinic', patientId: patientP }), 400, 'VALIDATION_FAILED', 'patientId');
      expectProblem(
        await post({ scope: 'chair', chairId: A.chairs[0].id, staffId: A.nurse.id }),
        400,
        'VALIDATION_FAILED',
        'staffId',
        { exact: true },
      );
      expectProblem(await post({ scope: 'room' }), 400, 'VALIDATION_FAILED', 'scope');
      expectProblem(await post({ scope: 'chair', chairId: 'chair-1' }), 400, 'VALIDATION_FAILED', 'chairId');
      expectProblem(await post({ scope: 'clinic', name: 'x'.repeat(201) }), 400, 'VALIDATION_FAILED', 'name');
      expectProblem(await post({ scope: 'clinic', name: '   ' }), 400, 'VALIDATION_FAILED', 'name');
      expectProblem(await post({ scope: 'clinic', name: null }), 400, 'VALIDATION_FAILED', 'name');
      expectProblem(await post({ scope: 'clinic', token: 'cfd_mine' }), 400, 'VALIDATION_FAILED', 'token');
      // 200 characters as PostgreSQL counts them (emoji are one each) are fine.
      await createFeed(A.keys.admin, { scope: 'clinic', name: '😀'.repeat(200) });
    });

    it("answers 404 for another clinic's chair, staff member or patient, and for another clinic", async () => {
      const post = (key: string, body: Json) => api().post('/v1/calendar/feeds').set(bearer(key)).send(body);
      expectProblem(await post(A.keys.frontDesk, { scope: 'chair', chairId: B.chairs[0].id }), 404, 'CHAIR_NOT_FOUND');
      expectProblem(await post(A.keys.frontDesk, { scope: 'staff', staffId: B.nurse.id }), 404, 'STAFF_NOT_FOUND');
      expectProblem(await post(A.keys.frontDesk, { scope: 'patient', patientId: patientB }), 404, 'PATIENT_NOT_FOUND');
      expectProblem(
        await post(A.keys.frontDesk, { scope: 'clinic', clinicId: B.keys.clinicId }),
        404,
        'CLINIC_NOT_FOUND',
      );
      const count = async () =>
        (
          await t.dataSource.query(`SELECT count(*)::int AS n FROM calendar_feeds WHERE clinic_id = $1`, [
            B.keys.clinicId,
          ])
        )[0].n;
      expect(await count()).toBe(0);
    });

    it('needs a key with a role; an operator key names the clinic', async () => {
      expectProblem(await api().post('/v1/calendar/feeds').send({ scope: 'clinic' }), 401, 'UNAUTHENTICATED');
      expectProblem(await api().get('/v1/calendar/feeds'), 401, 'UNAUTHENTICATED');
      expectProblem(
        await api().post('/v1/calendar/feeds').set(bearer(operator)).send({ scope: 'clinic' }),
        400,
        'VALIDATION_FAILED',
        'clinicId',
      );
      const feed = await createFeed(operator, { scope: 'chair', chairId: B.chairs[1].id, clinicId: B.keys.clinicId });
      expect(feed).toMatchObject({ clinicId: B.keys.clinicId, scope: 'chair', scopeId: B.chairs[1].id });
      for (const key of [A.keys.frontDesk, A.keys.clinician, A.keys.admin]) {
        await createFeed(key, { scope: 'staff', staffId: A.nurse.id });
      }
    });

    it("lists the clinic's active feeds, newest first, paged, without tokens; other clinics' stay out", async () => {
      const page1 = await api().get('/v1/calendar/feeds').query({ limit: 2 }).set(bearer(A.keys.frontDesk)).expect(200);
      expect(page1.body.items).toHaveLength(2);
      expect(page1.body.nextCursor).toEqual(expect.any(String));
      const all: Json[] = [...page1.body.items];
      let cursor = page1.body.nextCursor;
      while (cursor) {
        const next = await api()
          .get('/v1/calendar/feeds')
          .query({ limit: 2, cursor })
          .set(bearer(A.keys.frontDesk))
          .expect(200);
        all.push(...next.body.items);
        cursor = next.body.nextCursor;
        expect(all.length).toBeLessThan(50);
      }
      const inDb = await t.dataSource.query(
        `SELECT id FROM calendar_feeds WHERE clinic_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC`,
        [A.keys.clinicId],
      );
      expect(all.map((f) => f.id)).toEqual(inDb.map((r: Json) => r.id));
      expect(all.every((f) => f.clinicId === A.keys.clinicId && !('token' in f) && !('url' in f))).toBe(true);
      for (const token of tokens) expect(JSON.stringify(all)).not.toContain(token);

      const otherClinic = await api()
        .get('/v1/calendar/feeds')
        .query({ clinicId: B.keys.clinicId })
        .set(bearer(A.keys.frontDesk))
        .expect(200);
      expect(otherClinic.body.items).toEqual([]);
      const asOperator = await api()
        .get('/v1/calendar/feeds')
        .query({ clinicId: B.keys.clinicId })
        .set(bearer(operator))
        .expect(200);
      expect(asOperator.body.items.map((f: Json) => f.clinicId)).toEqual([B.keys.clinicId]);
      expectProblem(
        await api().get('/v1/calendar/feeds').query({ cursor: 'nope' }).set(bearer(A.keys.frontDesk)),
        400,
        'VALIDATION_FAILED',
        'cursor',
      );
    });

    it('revokes a feed (204, audited): its URL answers 404 at once; unknown, revoked or foreign ids are 404', async () => {
      const feed = await createFeed(A.keys.frontDesk, { scope: 'patient', patientId: patientP });
      expect((await fetchFeed(feed.token)).status).toBe(200);

      // Another clinic's key cannot see it, let alone revoke it; the feed keeps working.
      expectProblem(
        await api().delete(`/v1/calendar/feeds/${feed.id}`).set(bearer(B.keys.admin)),
        404,
        'FEED_NOT_FOUND',
      );
      expect((await fetchFeed(feed.token)).status).toBe(200);

      await api().delete(`/v1/calendar/feeds/${feed.id}`).set(bearer(A.keys.frontDesk)).expect(204);
      const gone = await fetchFeed(feed.token);
      expect(gone.status).toBe(404);
      expect(gone.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(gone.body as string)).toMatchObject({ status: 404, code: 'FEED_NOT_FOUND' });
      expectProblem(
        await api().delete(`/v1/calendar/feeds/${feed.id}`).set(bearer(A.keys.frontDesk)),
        404,
        'FEED_NOT_FOUND',
      );
      expectProblem(
        await api().delete(`/v1/calendar/feeds/6f1d2c3b-0000-4000-8000-000000000000`).set(bearer(A.keys.frontDesk)),
        404,
        'FEED_NOT_FOUND',
      );
      expectProblem(
        await api().delete(`/v1/calendar/feeds/not-a-uuid`).set(bearer(A.keys.frontDesk)),
        400,
        'VALIDATION_FAILED',
        'feedId',
      );
      const list = await api()
        .get('/v1/calendar/feeds')
        .query({ limit: 200 })
        .set(bearer(A.keys.frontDesk))
        .expect(200);
      expect(list.body.items.map((f: Json) => f.id)).not.toContain(feed.id);
      const audit = await t.dataSource.query(
        `SELECT actor_role, patient_id FROM audit_events WHERE action = 'calendar_feed.revoke' AND entity_id = $1`,
        [feed.id],
      );
      expect(audit).toEqual([{ actor_role: 'front_desk', patient_id: patientP }]);

      // An operator may revoke any clinic's feed.
      const bFeed = await createFeed(B.keys.frontDesk, { scope: 'clinic' });
      await api().delete(`/v1/calendar/feeds/${bFeed.id}`).set(bearer(operator)).expect(204);
      expect((await fetchFeed(bFeed.token)).status).toBe(404);
    });

    it('answers 404 FEED_NOT_FOUND for garbage and well-formed unknown tokens', async () => {
      for (const token of [
        'garbage',
        'cfd_short',
        `cfd_${'A'.repeat(43)}`,
        `cs_${'A'.repeat(43)}`,
        'cfd_' + 'é'.repeat(43),
      ]) {
        const res = await fetchFeed(encodeURIComponent(token));
        expect({ token, status: res.status }).toEqual({ token, status: 404 });
        expect(JSON.parse(res.body as string)).toMatchObject({ code: 'FEED_NOT_FOUND' });
      }
      // Without the .ics suffix there is no such route.
      expect((await api().get(`/v1/calendar/feeds/${tokens[0]}`)).status).toBe(404);
    });
  });

  describe('what a subscriber receives', () => {
    let clinicFeed: Json;

    beforeAll(async () => {
      clinicFeed = await createFeed(A.keys.frontDesk, { scope: 'clinic' });
    });

    it('is an RFC 5545 calendar: CRLF lines of at most 75 octets, VERSION, PRODID, no METHOD, no recurrence, UTC times', async () => {
      const res = await fetchFeed(clinicFeed.token);
      expect(res.status).toBe(200);
      // Sent without an Accept header, as Google fetches.
      expect((res as unknown as { req: { getHeader(name: string): unknown } }).req.getHeader('accept')).toBeUndefined();
      expect(res.headers['content-type']).toBe('text/calendar; charset=utf-8');
      const body = res.body as string;
      expect(body.startsWith('BEGIN:VCALENDAR\r\n')).toBe(true);
      // Every line ends with CRLF, the last one too; calendar properties come before the first VEVENT.
      expect(body.endsWith('END:VCALENDAR\r\n')).toBe(true);
      expect(body.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
      const lines = rawLines(body);
      expect(lines).toContain('VERSION:2.0');
      expect(lines.some((l) => /^PRODID:-\/\/Chairside\/\//.test(l))).toBe(true);
      expect(lines).toContain(`X-WR-TIMEZONE:${ZONE}`);
      expect(lines).toContain('REFRESH-INTERVAL;VALUE=DURATION:PT1H');
      expect(lines).toContain('X-PUBLISHED-TTL:PT1H');
      const firstEvent = lines.indexOf('BEGIN:VEVENT');
      expect(firstEvent).toBeGreaterThan(0);
      for (const p of [`X-WR-TIMEZONE:${ZONE}`, 'X-PUBLISHED-TTL:PT1H', 'VERSION:2.0'])
        expect({ p, at: lines.indexOf(p) < firstEvent }).toEqual({ p, at: true });
      expect(lines.slice(firstEvent).filter((l) => /^(X-WR-|NAME|REFRESH-INTERVAL|X-PUBLISHED-TTL)/.test(l))).toEqual(
        [],
      );
      expect(lines.filter((l) => /^(METHOD|RRULE|RDATE|EXDATE|RECURRENCE-ID)[:;]/.test(l))).toEqual([]);
      expect(body).not.toContain('TZID');
      for (const l of lines) expect(Buffer.byteLength(l, 'utf8')).toBeLessThanOrEqual(75);
      for (const l of lines.filter((x) => /^(DTSTART|DTEND|DTSTAMP|LAST-MODIFIED)[:;]/.test(x)))
        expect(l).toMatch(/^[A-Z-]+:\d{8}T\d{6}Z$/);
      expect(parse(body).cal.getFirstPropertyValue('x-wr-calname')).toBe('Harbor');
    });

    it("holds one VEVENT per session of the clinic, with a stable unique UID, SEQUENCE 0, the session's times and last change", async () => {
      const { events } = parse(await feedBody(clinicFeed.token));
      const expected = await expectedIds(A.keys.clinicId);
      expect(expected.length).toBe(planP.sessions.length + planQ.sessions.length);
      expect(events.map((e) => e.uid).sort()).toEqual(expected.map(uidOf).sort());
      expect(new Set(events.map((e) => e.uid)).size).toBe(events.length);
      const rows: Json[] = await t.dataSource.query(
        `SELECT id, starts_at, ends_at, updated_at, version FROM sessions WHERE clinic_id = $1`,
        [A.keys.clinicId],
      );
      for (const r of rows) {
        const e = events.find((x) => x.uid === uidOf(r.id))!;
        expect(e.start.getTime()).toBe(r.starts_at.getTime());
        expect(e.end.getTime()).toBe(r.ends_at.getTime());
        expect(e.seq).toBe(r.version - 1);
        expect(e.seq).toBe(0);
        expect(e.dtstamp).toBe(icsUtc(r.updated_at));
        expect(e.lastModified).toBe(e.dtstamp);
        expect(e.status).toBe('CONFIRMED');
      }
      const infusion3 = planP.sessions.find((s: Json) => s.ref === 'infusion#3');
      const e3 = events.find((e) => e.uid === uidOf(infusion3.id))!;
      expect(e3.summary).toBe('Ketamine infusion 3/6');
      expect(e3.location).toBe(`Harbor, ${infusion3.chair.name}`);
      expect(e3.description).toContain(`Staff: ${infusion3.staff.name}`);
      const intake = planP.sessions.find((s: Json) => s.ref === 'intake#1');
      expect(events.find((e) => e.uid === uidOf(intake.id))!.summary).toBe('Intake consult');
    });

    it('carries no patient data in clinic, chair and staff feeds', async () => {
      const chairFeed = await createFeed(A.keys.frontDesk, {
        scope: 'chair',
        chairId: planP.sessions.find((s: Json) => s.chair)!.chair.id,
      });
      const staffFeed = await createFeed(A.keys.frontDesk, { scope: 'staff', staffId: A.nurse.id });
      for (const feed of [clinicFeed, chairFeed, staffFeed]) {
        const body = await feedBody(feed.token);
        expect(parse(body).events.length).toBeGreaterThan(0);
        for (const secret of [
          'Quentin',
          'Feedwell',
          'Rosalind',
          'Otherby',
          '1961-07-19',
          '19610719',
          '1977-02-28',
          '19770228',
          patientP,
          patientQ,
          planP.id,
          planQ.id,
        ]) {
          expect({ scope: feed.scope, secret, found: body.includes(secret) }).toEqual({
            scope: feed.scope,
            secret,
            found: false,
          });
        }
      }
    });

    it("a chair feed's events last until the chair is free (recovery included, said in the description); other feeds end with the treatment", async () => {
      const infusion = planP.sessions.find((s: Json) => s.ref === 'infusion#1');
      const chairFeed = await createFeed(A.keys.frontDesk, { scope: 'chair', chairId: infusion.chair.id });
      const [row] = await t.dataSource.query(`SELECT ends_at, occupied_until FROM sessions WHERE id = $1`, [
        infusion.id,
      ]);
      expect(row.occupied_until.getTime()).toBeGreaterThan(row.ends_at.getTime());
      const inChair = parse(await feedBody(chairFeed.token)).events.find((e) => e.uid === uidOf(infusion.id))!;
      expect(inChair.end.getTime()).toBe(row.occupied_until.getTime());
      const local = (d: Date) => DateTime.fromJSDate(d, { zone: ZONE }).toFormat('HH:mm');
      expect(inChair.description).toContain(
        `Treatment until ${local(row.ends_at)}, recovery until ${local(row.occupied_until)}`,
      );
      for (const feed of [
        clinicFeed,
        await createFeed(A.keys.frontDesk, { scope: 'staff', staffId: infusion.staff.id }),
      ]) {
        const e = parse(await feedBody(feed.token)).events.find((x) => x.uid === uidOf(infusion.id))!;
        expect(e.end.getTime()).toBe(row.ends_at.getTime());
        expect(e.description).not.toMatch(/recovery/i);
      }
    });

    it("holds exactly its scope's sessions: one chair, one staff member", async () => {
      const chair = A.chairs[0];
      const chairFeed = await createFeed(A.keys.clinician, { scope: 'chair', chairId: chair.id, name: 'Chair one' });
      const chairEvents = parse(await feedBody(chairFeed.token)).events;
      const chairIds = await expectedIds(A.keys.clinicId, 'AND chair_id = $5', [chair.id]);
      expect(chairIds.length).toBeGreaterThan(0);
      expect(chairEvents.map((e) => e.uid).sort()).toEqual(chairIds.map(uidOf).sort());
      expect(chairEvents.every((e) => e.location === `Harbor, ${chair.name}`)).toBe(true);

      const staffFeed = await createFeed(A.keys.clinician, { scope: 'staff', staffId: A.therapist.id });
      const staffEvents = parse(await feedBody(staffFeed.token)).events;
      const staffIds = await expectedIds(A.keys.clinicId, 'AND staff_id = $5', [A.therapist.id]);
      expect(staffIds.length).toBeGreaterThan(0);
      expect(staffEvents.map((e) => e.uid).sort()).toEqual(staffIds.map(uidOf).sort());
      expect(staffEvents.every((e) => e.description.includes(`Staff: ${A.therapist.name}`))).toBe(true);

      // Another clinic's feed of the same shape shares nothing.
      const bFeed = await createFeed(B.keys.frontDesk, { scope: 'clinic' });
      const bUids = new Set(parse(await feedBody(bFeed.token)).events.map((e) => e.uid));
      expect(bUids.size).toBeGreaterThan(0);
      expect(parse(await feedBody(clinicFeed.token)).events.some((e) => bUids.has(e.uid))).toBe(false);
    });

    it("a patient feed holds exactly that patient's sessions, with the name, and reading it is audited", async () => {
      const feed = await createFeed(A.keys.frontDesk, { scope: 'patient', patientId: patientP });
      const created = await t.dataSource.query(
        `SELECT patient_id FROM audit_events WHERE action = 'calendar_feed.create' AND entity_id = $1`,
        [feed.id],
      );
      expect(created).toEqual([{ patient_id: patientP }]);
      const reads = () =>
        t.dataSource.query(
          `SELECT * FROM audit_events WHERE action = 'calendar_feed.read' AND entity_id = $1 ORDER BY id`,
          [feed.id],
        );
      expect(await reads()).toEqual([]);

      const res = await fetchFeed(feed.token, { 'x-request-id': 'feed-read-1' });
      expect(res.status).toBe(200);
      const { cal, events } = parse(res.body as string);
      expect(events.map((e) => e.uid).sort()).toEqual(
        (await expectedIds(A.keys.clinicId, 'AND patient_id = $5', [patientP])).map(uidOf).sort(),
      );
      expect(events.map((e) => e.uid).sort()).toEqual(planP.sessions.map((s: Json) => uidOf(s.id)).sort());
      expect(events.every((e) => e.summary.endsWith(' – Quentin Feedwell'))).toBe(true);
      expect(cal.getFirstPropertyValue('x-wr-calname')).toBe('Harbor – Quentin Feedwell');
      for (const other of ['Rosalind', 'Otherby', patientQ, ...planQ.sessions.map((s: Json) => s.id)])
        expect(res.body).not.toContain(other);
      expect(res.body).not.toContain('1961-07-19');

      const audit = await reads();
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({
        clinic_id: A.keys.clinicId,
        actor_key_id: null,
        actor_role: 'feed_token',
        entity_type: 'calendar_feed',
        patient_id: patientP,
        request_id: res.headers['x-request-id'],
        client_request_id: 'feed-read-1',
        route: 'GET /v1/calendar/feeds/:token.ics',
      });
      // Every read counts, a 304 too; other feeds' reads are not patient reads.
      await fetchFeed(feed.token, { 'If-None-Match': res.headers.etag });
      expect(await reads()).toHaveLength(2);
      const before = (
        await t.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'calendar_feed.read'`)
      )[0].n;
      await feedBody(clinicFeed.token);
      expect(
        (await t.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'calendar_feed.read'`))[0]
          .n,
      ).toBe(before);
    });

    it('renders byte-identical bodies while nothing changes; a strong ETag of the body; 304 on a matching If-None-Match', async () => {
      const first = await fetchFeed(clinicFeed.token);
      const second = await fetchFeed(clinicFeed.token);
      expect(second.body).toBe(first.body);
      const etag = first.headers.etag as string;
      expect(etag).toBe(
        `"${createHash('sha256')
          .update(first.body as string)
          .digest('base64url')}"`,
      );
      expect(second.headers.etag).toBe(etag);
      expect(first.headers['cache-control']).toMatch(/^private\b/);
      const lastModified = first.headers['last-modified'] as string;
      expect(Number.isNaN(Date.parse(lastModified))).toBe(false);

      for (const inm of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
        const res = await fetchFeed(clinicFeed.token, { 'If-None-Match': inm });
        expect({ inm, status: res.status }).toEqual({ inm, status: 304 });
        expect(res.headers.etag).toBe(etag);
        expect(res.headers['last-modified']).toBe(lastModified);
        expect(res.body).toBe('');
      }
      for (const inm of ['"nope"', etag.slice(0, -2) + '"', 'W/"x"']) {
        expect((await fetchFeed(clinicFeed.token, { 'If-None-Match': inm })).status).toBe(200);
      }
      // If-Modified-Since alone never gives 304 (the feed also changes with time and joined names);
      // If-None-Match wins over it.
      const future = new Date(Date.now() + 365 * 86_400_000).toUTCString();
      expect((await fetchFeed(clinicFeed.token, { 'If-Modified-Since': future })).status).toBe(200);
      expect(
        (await fetchFeed(clinicFeed.token, { 'If-Modified-Since': future, 'If-None-Match': '"nope"' })).status,
      ).toBe(200);
    });

    it('answers HEAD with the same headers and no body', async () => {
      const get = await fetchFeed(clinicFeed.token);
      const head = await api().head(path(clinicFeed.token));
      expect(head.status).toBe(200);
      expect(head.headers['content-type']).toBe('text/calendar; charset=utf-8');
      expect(head.headers.etag).toBe(get.headers.etag);
      expect(head.headers['content-length']).toBe(String(Buffer.byteLength(get.body as string, 'utf8')));
      expect(head.text ?? '').toBe('');
      expect((await api().head(path(`cfd_${'B'.repeat(43)}`))).status).toBe(404);
      const notModified = await api().head(path(clinicFeed.token)).set('If-None-Match', get.headers.etag);
      expect(notModified.status).toBe(304);
    });

    it('keeps UIDs across a reschedule; the moved session gets a higher SEQUENCE and its new time; the ETag changes', async () => {
      const before = await fetchFeed(clinicFeed.token);
      const evBefore = parse(before.body as string).events;
      const target = planP.sessions.find((s: Json) => s.ref === 'infusion#2');
      let start = DateTime.fromISO(target.start, { zone: ZONE }).plus({ days: 1 });
      if (start.weekday === 7) start = start.plus({ days: 1 });
      const moved = await api()
        .post(`/v1/plans/${planP.id}/adjustments`)
        .set(bearer(A.keys.frontDesk))
        .set('If-Match', await etagOfPlan(planP.id))
        .send({ type: 'reschedule', sessionId: target.id, start: start.toISO() });
      expect({ status: moved.status, body: moved.body }).toMatchObject({ status: 200 });

      const after = await fetchFeed(clinicFeed.token);
      expect(after.headers.etag).not.toBe(before.headers.etag);
      expect((await fetchFeed(clinicFeed.token, { 'If-None-Match': before.headers.etag })).status).toBe(200);
      const evAfter = parse(after.body as string).events;
      expect(evAfter.map((e) => e.uid).sort()).toEqual(evBefore.map((e) => e.uid).sort());
      expect(new Set(evAfter.map((e) => e.uid)).size).toBe(evAfter.length);
      const b = evBefore.find((e) => e.uid === uidOf(target.id))!;
      const a = evAfter.find((e) => e.uid === uidOf(target.id))!;
      expect(a.seq).toBeGreaterThan(b.seq);
      expect(a.start.getTime()).toBe(start.toMillis());
      expect(a.dtstamp).not.toBe(b.dtstamp);
      // No SEQUENCE ever goes down; sessions that did not change keep theirs.
      const versions = new Map<string, number>(
        (await t.dataSource.query(`SELECT id, version FROM sessions WHERE clinic_id = $1`, [A.keys.clinicId])).map(
          (r: Json) => [uidOf(r.id), r.version],
        ),
      );
      for (const e of evAfter) {
        expect(e.seq).toBeGreaterThanOrEqual(evBefore.find((x) => x.uid === e.uid)!.seq);
        expect(e.seq).toBe(versions.get(e.uid)! - 1);
      }
    });

    it('changes the ETag and LOCATION when a chair is renamed (accents, emoji, TEXT specials), folding by octets', async () => {
      const chair = A.chairs[1];
      const before = await fetchFeed(clinicFeed.token);
      const name = 'Fauteuil été 😀🧘‍♀️ «Zen»; a,b\\c: 日本語の椅子 — the long window seat by the garden door';
      await api()
        .patch(`/v1/clinics/${A.keys.clinicId}/chairs/${chair.id}`)
        .set(bearer(A.keys.admin))
        .send({ name })
        .expect(200);
      const after = await fetchFeed(clinicFeed.token);
      expect(after.status).toBe(200);
      expect(after.headers.etag).not.toBe(before.headers.etag);
      expect((await fetchFeed(clinicFeed.token, { 'If-None-Match': before.headers.etag })).status).toBe(200);
      const body = after.body as string;
      for (const l of rawLines(body)) expect(Buffer.byteLength(l, 'utf8')).toBeLessThanOrEqual(75);
      const onChair = parse(body).events.filter((e) => e.location.includes('Fauteuil'));
      expect(onChair.length).toBe((await expectedIds(A.keys.clinicId, 'AND chair_id = $5', [chair.id])).length);
      expect(onChair.length).toBeGreaterThan(0);
      for (const e of onChair) expect(e.location).toBe(`Harbor, ${name}`);
      // The default name of the chair's own feed follows the chair.
      const chairFeed = await createFeed(A.keys.frontDesk, { scope: 'chair', chairId: chair.id });
      expect(parse(await feedBody(chairFeed.token)).cal.getFirstPropertyValue('x-wr-calname')).toBe(`Harbor – ${name}`);
    });

    it('gives back a feed name with accents, emoji, line breaks and TEXT specials exactly, in lines of at most 75 octets', async () => {
      const name = 'Équipe de nuit 🌙✨ — «perfusions»; a,b\\c\nsecond line: 👩🏽‍⚕️👨‍👩‍👧‍👦 ' + 'ü'.repeat(60);
      const feed = await createFeed(A.keys.frontDesk, { scope: 'clinic', name });
      expect(feed.name).toBe(name);
      const body = await feedBody(feed.token);
      const lines = rawLines(body);
      for (const l of lines) expect(Buffer.byteLength(l, 'utf8')).toBeLessThanOrEqual(75);
      expect(lines.filter((l) => l.startsWith(' ')).length).toBeGreaterThan(0);
      const { cal } = parse(body);
      expect(cal.getFirstPropertyValue('x-wr-calname')).toBe(name);
      expect(cal.getFirstPropertyValue('name')).toBe(name);
    });

    it('marks a cancelled session STATUS:CANCELLED with a higher SEQUENCE, then drops it after 14 days', async () => {
      const target = planQ.sessions.find((s: Json) => s.ref === 'infusion#4');
      const before = parse(await feedBody(clinicFeed.token)).events.find((e) => e.uid === uidOf(target.id))!;
      expect(before.status).toBe('CONFIRMED');
      await api()
        .post(`/v1/sessions/${target.id}/cancel`)
        .set(bearer(A.keys.frontDesk))
        .send({ reason: 'patient request' })
        .expect(200);
      const body = await feedBody(clinicFeed.token);
      const after = parse(body).events.find((e) => e.uid === uidOf(target.id))!;
      expect(after.status).toBe('CANCELLED');
      expect(after.seq).toBeGreaterThan(before.seq);
      // Clients that ignore STATUS still see it is off.
      expect(before.summary).toBe('Ketamine infusion 4/6');
      expect(after.summary).toBe('Cancelled: Ketamine infusion 4/6');
      expect(body).not.toContain('patient request');
      // The patient's own feed shows it cancelled as well.
      const patientFeed = await createFeed(A.keys.frontDesk, { scope: 'patient', patientId: patientQ });
      expect(parse(await feedBody(patientFeed.token)).events.find((e) => e.uid === uidOf(target.id))!.status).toBe(
        'CANCELLED',
      );

      try {
        t.clock.set(NOW.plus({ days: 13, hours: 23 }));
        const stillThere = parse(await feedBody(clinicFeed.token)).events;
        expect(stillThere.find((e) => e.uid === uidOf(target.id))?.status).toBe('CANCELLED');
        t.clock.set(NOW.plus({ days: 14, minutes: 1 }));
        const later = parse(await feedBody(clinicFeed.token)).events.map((e) => e.uid);
        expect(later).not.toContain(uidOf(target.id));
        expect(later.sort()).toEqual((await expectedIds(A.keys.clinicId)).map(uidOf).sort());
        expect(parse(await feedBody(patientFeed.token)).events.map((e) => e.uid)).not.toContain(uidOf(target.id));
      } finally {
        t.clock.set(NOW);
      }
    });

    it('keeps a no-show CONFIRMED and says so in the description', async () => {
      const target = planQ.sessions.find((s: Json) => s.ref === 'intake#1');
      try {
        t.clock.set(DateTime.fromISO(target.end));
        await api().post(`/v1/sessions/${target.id}/no-show`).set(bearer(A.keys.frontDesk)).send({}).expect(200);
        const e = parse(await feedBody(clinicFeed.token)).events.find((x) => x.uid === uidOf(target.id))!;
        expect(e.status).toBe('CONFIRMED');
        expect(e.seq).toBeGreaterThan(0);
        expect(e.description).toMatch(/no-show/);
      } finally {
        t.clock.set(NOW);
      }
    });

    it('gives the right instants on both sides of a daylight-saving change, and slides its window with time', async () => {
      try {
        t.clock.set(DateTime.fromISO('2027-03-08T15:00:00Z', { zone: 'utc' }));
        const patient = await newPatient(t.http, A, { fullName: 'Dora Daylight', dateOfBirth: '1990-05-05' });
        const plan = await bookPlan(t.http, A, { patientId: patient, earliestStart: '2027-03-09' });
        const offsets = new Set(plan.sessions.map((s: Json) => DateTime.fromISO(s.start, { setZone: true }).offset));
        expect(offsets).toEqual(new Set([-300, -240])); // EST and EDT
        const feed = await createFeed(A.keys.frontDesk, { scope: 'patient', patientId: patient });
        const { events } = parse(await feedBody(feed.token));
        expect(events).toHaveLength(plan.sessions.length);
        for (const s of plan.sessions) {
          const e = events.find((x) => x.uid === uidOf(s.id))!;
          expect(e.start.getTime()).toBe(Date.parse(s.start));
          expect(e.end.getTime()).toBe(Date.parse(s.end));
          const local = DateTime.fromJSDate(e.start, { zone: ZONE });
          expect({ date: local.toISODate(), time: local.toFormat('HH:mm') }).toEqual({
            date: s.localDate,
            time: s.localTime,
          });
        }
        // Now more than 30 days after the November sessions: they have left the clinic feed.
        const clinicUids = parse(await feedBody(clinicFeed.token)).events.map((e) => e.uid);
        expect(clinicUids.sort()).toEqual((await expectedIds(A.keys.clinicId)).map(uidOf).sort());
        for (const s of planP.sessions) expect(clinicUids).not.toContain(uidOf(s.id));
        expect(clinicUids).toContain(uidOf(plan.sessions[0].id));
      } finally {
        t.clock.set(NOW);
      }
    });
  });

  it('is documented in OpenAPI; the feed itself needs no key and serves text/calendar', async () => {
    const spec = (await api().get('/openapi.json').expect(200)).body;
    expect(Object.keys(spec.paths['/v1/calendar/feeds']).sort()).toEqual(['get', 'post']);
    expect(Object.keys(spec.paths['/v1/calendar/feeds/{feedId}'])).toEqual(['delete']);
    const feed = spec.paths['/v1/calendar/feeds/{token}.ics'].get;
    expect(feed.security).toBeUndefined();
    expect(Object.keys(feed.responses)).toEqual(expect.arrayContaining(['200', '304', '404']));
    expect(Object.keys(feed.responses['200'].content)).toEqual(['text/calendar']);
    expect(spec.paths['/v1/calendar/feeds'].post.security).toBeDefined();
  });

  it('never writes a feed token to the logs', async () => {
    await new Promise((r) => setTimeout(r, 50)); // pino writes asynchronously
    expect(tokens.length).toBeGreaterThan(5);
    const requests = logLines.map((l) => JSON.parse(l)).filter((l) => l.req);
    const feedLines = requests.filter((l) => /^\/v1\/calendar\/feeds\/.+\.ics$/.test(l.req.url));
    expect(feedLines.length).toBeGreaterThan(10);
    expect(feedLines.every((l) => l.req.url === '/v1/calendar/feeds/[redacted].ics')).toBe(true);
    const all = logLines.join('\n');
    for (const token of tokens)
      expect({ token, found: all.includes(token) || all.includes(token.slice(4)) }).toEqual({ token, found: false });
    for (const name of ['Quentin', 'Feedwell', 'Rosalind']) expect(all.includes(name)).toBe(false);
  });
});
