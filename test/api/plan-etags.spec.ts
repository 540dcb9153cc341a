import request from 'supertest';
import { newPatient, setupClinic, type ClinicSetup } from '../factories/series.factory.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// Issue 14, item 5: every response that carries a plan carries the plan's own "p<n>" ETag (a list:
// one per item, in the body), never Express's automatic weak body hash, which as If-Match could only fail.
describe('plan ETags', () => {
  let t: TestApp;
  let s: ClinicSetup;

  beforeAll(async () => {
    t = await startTestApp();
    s = await setupClinic(t.app, t.http, 'Etags');
  });
  afterAll(() => t.close());

  const book = (patientId: string, key?: string) => {
    const r = request(t.http).post('/v1/plans').set(bearer(s.keys.frontDesk));
    return (key ? r.set('Idempotency-Key', key) : r).send({ protocolId: s.shortProtocolId, patientId });
  };
  const lastSessionOf = (plan: { sessions: { id: string }[] }) => plan.sessions[plan.sessions.length - 1].id;
  const skip = (planId: string, sessionId: string, ifMatch: string, preview = false) =>
    request(t.http)
      .post(`/v1/plans/${planId}/adjustments${preview ? '?preview=true' : ''}`)
      .set(bearer(s.keys.frontDesk))
      .set('If-Match', ifMatch)
      .send({ type: 'skip', sessionId, reason: 'etag check' });

  it('POST /v1/plans answers with the plan\'s "p1", which an adjustment accepts as If-Match (and so does a replay)', async () => {
    const patientId = await newPatient(t.http, s);
    const booked = await book(patientId, 'etag-book-1');
    expect(booked.status).toBe(201);
    expect(booked.headers.etag).toBe('"p1"');
    expect(booked.body.etag).toBe('"p1"');
    const replay = await book(patientId, 'etag-book-1');
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.headers.etag).toBe('"p1"');

    // Sent back unchanged, it is the current version: no 412. (Adjusted by a clinician: skip is clinical.)
    const adjusted = await request(t.http)
      .post(`/v1/plans/${booked.body.id}/adjustments`)
      .set(bearer(s.keys.clinician))
      .set('If-Match', booked.headers.etag as string)
      .send({ type: 'skip', sessionId: lastSessionOf(booked.body), reason: 'etag check' });
    expect({ status: adjusted.status, code: adjusted.body.code }).toEqual({ status: 200, code: undefined });
    expect(adjusted.headers.etag).toBe('"p2"');
    // GET agrees, and answers If-None-Match with 304 for its own ETag.
    const got = await request(t.http).get(`/v1/plans/${booked.body.id}`).set(bearer(s.keys.frontDesk)).expect(200);
    expect(got.headers.etag).toBe('"p2"');
    expect(got.body.etag).toBe('"p2"');
    expect(
      (
        await request(t.http)
          .get(`/v1/plans/${booked.body.id}`)
          .set(bearer(s.keys.frontDesk))
          .set('If-None-Match', '"p2"')
      ).status,
    ).toBe(304);
  });

  it('GET /v1/patients/{id}/plans has no list-wide ETag; each plan carries its own, good as If-Match', async () => {
    const patientId = await newPatient(t.http, s);
    const first = (await book(patientId).expect(201)).body;
    await request(t.http)
      .post(`/v1/plans/${first.id}/adjustments`)
      .set(bearer(s.keys.clinician))
      .set('If-Match', '"p1"')
      .send({ type: 'cancel_remaining', reason: 'moved away' })
      .expect(200);
    const second = (
      await request(t.http)
        .post('/v1/plans')
        .set(bearer(s.keys.clinician))
        .send({ protocolId: s.protocolId, patientId })
        .expect(201)
    ).body;

    const list = await request(t.http).get(`/v1/patients/${patientId}/plans`).set(bearer(s.keys.frontDesk)).expect(200);
    expect(list.headers.etag).toBeUndefined();
    const tags = Object.fromEntries(
      list.body.items.map((p: { id: string; etag: string; version: number }) => [p.id, [p.etag, p.version]]),
    );
    expect(tags).toEqual({ [first.id]: ['"p2"', 2], [second.id]: ['"p1"', 1] });
    const preview = await skip(second.id, lastSessionOf(second), tags[second.id][0], true).set(
      bearer(s.keys.clinician),
    );
    expect(preview.status).toBe(200);
  });

  it('no other JSON answer carries an automatic weak ETag; protocol versions keep "v<n>" and 304', async () => {
    const patientId = await newPatient(t.http, s);
    for (const path of [
      `/v1/patients/${patientId}`,
      `/v1/clinics/${s.keys.clinicId}/chairs`,
      '/v1/sessions?from=2026-11-25&to=2026-11-30',
    ]) {
      const res = await request(t.http).get(path).set(bearer(s.keys.admin));
      expect({ path, status: res.status, etag: res.headers.etag }).toEqual({ path, status: 200, etag: undefined });
    }
    const version = await request(t.http)
      .get(`/v1/protocols/${s.shortProtocolId}/versions/1`)
      .set(bearer(s.keys.frontDesk))
      .expect(200);
    expect(version.headers.etag).toBe('"v1"');
    expect(
      (
        await request(t.http)
          .get(`/v1/protocols/${s.shortProtocolId}/versions/1`)
          .set(bearer(s.keys.frontDesk))
          .set('If-None-Match', '"v1"')
      ).status,
    ).toBe(304);
  });
});
