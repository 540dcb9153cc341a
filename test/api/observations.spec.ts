import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import request from 'supertest';
import type { ClinicKeys } from '../factories/clinic.factory.js';
import {
  bookPlan,
  refOf,
  setupClinic,
  type ClinicOptions,
  type ClinicSetup as Setup,
} from '../factories/series.factory.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';
import { atSessionTime } from '../support/session-clock.js';
import { expectProblem } from '../support/problem.js';

// ---------------------------------------------------------------------------------------------
// Observations API: scores (craving, COWS, PHQ-9, GAD-7), vitals, adverse events and a note per
// session (POST/GET /v1/sessions/{id}/observations) and the plan's timeline
// (GET /v1/plans/{id}/observations). Clinical data: clinicians (nurses use clinician keys) and
// admins only, never the front desk. Append-only, audited. The clock stands at Wednesday
// 2026-11-25 10:00 in New York.
// ---------------------------------------------------------------------------------------------

const NOW = '2026-11-25T15:00:00Z';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Json = Record<string, any>;

/** The physician and the therapist see one patient at a time (the nurse two). */
const ONE_AT_A_TIME: ClinicOptions['staff'] = {
  physician: { maxConcurrentPatients: 1 },
  therapist: { maxConcurrentPatients: 1 },
};
/** Every plan here starts on the Monday after "now". */
const FROM_MONDAY: Json = { earliestStart: '2026-11-30' };

/** Every field of an observation, each inside its range. */
const FULL: Json = {
  craving: 7,
  cows: 13,
  phq9: 14,
  gad7: 9,
  bloodPressure: { systolic: 138, diastolic: 88 },
  heartRate: 92,
  spo2: 97,
  adverseEvents: [
    { term: 'Nausea', severity: 'moderate', action: 'Ondansetron 4 mg IV' },
    { term: 'Dissociation', severity: 'mild' },
  ],
  note: 'Tolerated the infusion; mild dissociation settled within 20 minutes of the end.',
};

/** The measures an observation carries, all null/empty: what a one-field observation shows for the rest. */
const NOTHING: Json = {
  craving: null,
  cows: null,
  phq9: null,
  gad7: null,
  bloodPressure: null,
  heartRate: null,
  spo2: null,
  adverseEvents: [],
  note: null,
};

/** The distinct fields a 400 names. */
const fieldsOf = (res: request.Response): string[] =>
  [...new Set(((res.body.errors ?? []) as { field: string }[]).map((e) => e.field))].sort();

describe('observations API (/v1/sessions/{id}/observations, /v1/plans/{id}/observations)', () => {
  let t: TestApp;
  let A: Setup;
  let B: Setup;
  let planB: Json;
  const api = () => request(t.http);

  async function act(
    key: string,
    id: string,
    action: 'check-in' | 'complete' | 'no-show' | 'cancel',
    body: Json = {},
  ): Promise<Json> {
    // At the session's time when it is still ahead: check-in and completion wait for it.
    const send = () =>
      api()
        .post(`/v1/sessions/${id}/${action}`)
        .set(bearer(key))
        .send(body)
        .then((r) => r);
    const res =
      action === 'check-in' || action === 'complete'
        ? await atSessionTime(t, id, send, action === 'complete' ? 'end' : 'start')
        : await send();
    expect({ status: res.status, id: res.body.id }).toEqual({ status: 200, id });
    return res.body as Json;
  }

  const auth = (key: string | null, requestId?: string): Record<string, string> => ({
    ...(key === null ? {} : bearer(key)),
    ...(requestId ? { 'x-request-id': requestId } : {}),
  });
  const record = (key: string | null, sessionId: string, body?: unknown, requestId?: string) => {
    const r = api().post(`/v1/sessions/${sessionId}/observations`).set(auth(key, requestId));
    return body === undefined ? r.send() : r.send(body as object);
  };
  const ofSession = (key: string | null, sessionId: string, requestId?: string) =>
    api().get(`/v1/sessions/${sessionId}/observations`).set(auth(key, requestId));
  const ofPlan = (key: string | null, planId: string, requestId?: string) =>
    api().get(`/v1/plans/${planId}/observations`).set(auth(key, requestId));

  async function recordOk(key: string, sessionId: string, body: Json): Promise<Json> {
    const res = await record(key, sessionId, body);
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 201, body: { sessionId } });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    return res.body as Json;
  }
  async function items(res: request.Response | Promise<request.Response>): Promise<Json[]> {
    const r = await res;
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(Object.keys(r.body)).toEqual(['items']);
    return r.body.items as Json[];
  }

  const keyId = async (keys: ClinicKeys, role: string): Promise<string> => {
    const [row] = await t.dataSource.query('SELECT id FROM api_keys WHERE clinic_id = $1 AND role = $2', [
      keys.clinicId,
      role,
    ]);
    return row.id;
  };
  /** Row counts that a refused request must leave alone. */
  const counts = async (): Promise<Json> => {
    const [row] = await t.dataSource.query(
      `SELECT (SELECT count(*)::int FROM session_observations) AS observations,
              (SELECT count(*)::int FROM audit_events WHERE action = 'observation.create') AS creates,
              (SELECT count(*)::int FROM audit_events WHERE action = 'observation.read') AS reads`,
    );
    return row;
  };
  const auditOf = (requestId: string): Promise<Json[]> =>
    t.dataSource.query(
      'SELECT clinic_id, action, entity_type, entity_id, patient_id, actor_role, actor_key_id FROM audit_events WHERE client_request_id = $1 ORDER BY occurred_at, id',
      [requestId],
    );
  const at = (iso: string) => t.clock.set(DateTime.fromISO(iso, { zone: 'utc' }));

  beforeAll(async () => {
    t = await startTestApp({ now: NOW });
    A = await setupClinic(t.app, t.http, 'Alpha', { staff: ONE_AT_A_TIME });
    // Berlin: an offset (+01:00 in November) far from both New York and the server's.
    B = await setupClinic(t.app, t.http, 'Beta', { timezone: 'Europe/Berlin', staff: ONE_AT_A_TIME });
    planB = await bookPlan(t.http, B, FROM_MONDAY);
  });
  afterEach(() => at(NOW));
  afterAll(() => t.close());

  // ---------------------------------------------------------------------------------------------
  describe('recording', () => {
    it('every field: 201 echoing each, with recordedAt in the clinic offset and recordedBy the key; stored as sent', async () => {
      const plan = await bookPlan(t.http, A, FROM_MONDAY);
      const s = refOf(plan, 'infusion#1');
      await act(A.keys.frontDesk, s.id, 'check-in');
      const res = await record(A.keys.clinician, s.id, FULL);
      expect(res.status).toBe(201);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const clinicianKey = await keyId(A.keys, 'clinician');
      expect(res.body).toEqual({
        id: expect.stringMatching(UUID_RE),
        sessionId: s.id,
        planId: plan.id,
        sessionRef: 'infusion#1',
        sessionLabel: s.label,
        recordedAt: '2026-11-25T10:00:00-05:00',
        recordedBy: clinicianKey,
        ...FULL,
        doseGiven: null,
      });
      expect(s.label).toMatch(/infusion/i);

      const [row] = await t.dataSource.query('SELECT * FROM session_observations WHERE id = $1', [res.body.id]);
      expect(row).toMatchObject({
        clinic_id: A.keys.clinicId,
        session_id: s.id,
        plan_id: plan.id,
        patient_id: plan.patientId,
        recorded_by: clinicianKey,
        craving: 7,
        cows: 13,
        phq9: 14,
        gad7: 9,
        bp_systolic: 138,
        bp_diastolic: 88,
        heart_rate: 92,
        spo2: 97,
        adverse_events: FULL.adverseEvents,
        note: FULL.note,
      });
      expect(row.recorded_at.getTime()).toBe(Date.parse(NOW));

      // GET shows it exactly as the POST answered.
      expect(await items(ofSession(A.keys.clinician, s.id))).toEqual([res.body]);
      expect(await items(ofPlan(A.keys.clinician, plan.id))).toEqual([res.body]);
    });

    it("recordedAt is in the clinic's own offset (Berlin: +01:00)", async () => {
      const s = refOf(planB, 'infusion#1');
      at('2026-11-25T15:30:45Z');
      const obs = await recordOk(B.keys.clinician, s.id, { heartRate: 64 });
      expect(obs.recordedAt).toBe('2026-11-25T16:30:45+01:00');
      expect(obs.recordedBy).toBe(await keyId(B.keys, 'clinician'));
    });

    it('one measure is enough (0 counts); the others are null and adverseEvents is []', async () => {
      const plan = await bookPlan(t.http, A, FROM_MONDAY);
      const s = refOf(plan, 'infusion#1');
      const singles: Json[] = [
        { craving: 0 },
        { cows: 0 },
        { phq9: 0 },
        { gad7: 0 },
        { bloodPressure: { systolic: 120, diastolic: 80 } },
        { heartRate: 70 },
        { spo2: 98 },
        { adverseEvents: [{ term: 'Headache', severity: 'severe' }] },
        { note: 'Patient asleep in the chair' },
      ];
      for (const body of singles) {
        const obs = await recordOk(A.keys.clinician, s.id, body);
        expect(obs).toMatchObject({ ...NOTHING, ...body, doseGiven: null });
      }
      expect(await items(ofSession(A.keys.clinician, s.id))).toHaveLength(singles.length);
    });

    it('accepts the ends of every range (and a 5000-character note)', async () => {
      const plan = await bookPlan(t.http, A, FROM_MONDAY);
      const s = refOf(plan, 'infusion#1');
      const low = {
        craving: 0,
        cows: 0,
        phq9: 0,
        gad7: 0,
        bloodPressure: { systolic: 50, diastolic: 30 },
        heartRate: 20,
        spo2: 50,
        note: 'x',
      };
      const high = {
        craving: 10,
        cows: 48,
        phq9: 27,
        gad7: 21,
        bloodPressure: { systolic: 260, diastolic: 160 },
        heartRate: 250,
        spo2: 100,
        note: 'n'.repeat(5000),
      };
      expect(await recordOk(A.keys.clinician, s.id, low)).toMatchObject(low);
      expect(await recordOk(A.keys.clinician, s.id, high)).toMatchObject(high);
      const twenty = Array.from({ length: 20 }, (_, i) => ({
        term: `Event ${i + 1}`,
        severity: 'mild',
        action: 'a'.repeat(500),
      }));
      expect((await recordOk(A.keys.clinician, s.id, { adverseEvents: twenty })).adverseEvents).toEqual(twenty);
    });

    it('admins record too (recordedBy is the admin key); on checked-in and completed sessions', async () => {
      const plan = await bookPlan(t.http, A, FROM_MONDAY);
      const s = refOf(plan, 'infusion#1');
      await act(A.keys.frontDesk, s.id, 'check-in');
      const byAdmin = await recordOk(A.keys.admin, s.id, { craving: 2 });
      expect(byAdmin.recordedBy).toBe(await keyId(A.keys, 'admin'));
      await act(A.keys.clinician, s.id, 'complete', { doseGiven: { amount: 0.5, unit: 'mg/kg' } });
      const after = await recordOk(A.keys.clinician, s.id, { note: 'Discharged home with a friend' });
      expect(after.recordedBy).toBe(await keyId(A.keys, 'clinician'));
      // Recorded after completion: the POST already shows the dose given.
      expect(after.doseGiven).toEqual({ amount: 0.5, unit: 'mg/kg', totalMg: 36.2 });
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('reading: per session and the plan timeline', () => {
    it('lists by recordedAt (not by insertion), with sessionRef/sessionLabel; doseGiven appears once the session is completed', async () => {
      const plan = await bookPlan(t.http, A, FROM_MONDAY, { weightKg: 72.4 });
      const other = await bookPlan(t.http, A, FROM_MONDAY, { fullName: 'Other Patient' });
      const i1 = refOf(plan, 'infusion#1');
      const th1 = refOf(plan, 'therapy#1');
      const i2 = refOf(plan, 'infusion#2');
      for (const s of [i1, th1, i2]) await act(A.keys.frontDesk, s.id, 'check-in');

      // Posted in this order; the clock goes back once, so recordedAt order ≠ insertion order.
      const posts: [string, Json, Json][] = [
        ['2026-11-30T14:40:00Z', i1, { craving: 6, heartRate: 88 }],
        ['2026-11-30T14:05:00Z', i1, { cows: 9, bloodPressure: { systolic: 131, diastolic: 84 } }],
        ['2026-12-02T15:30:00Z', i2, { craving: 3 }],
        ['2026-12-01T16:00:00Z', th1, { phq9: 11, gad7: 8, note: 'Integration session' }],
        [
          '2026-12-02T14:00:00Z',
          i2,
          { spo2: 95, adverseEvents: [{ term: 'Dizziness', severity: 'mild', action: 'Observed' }] },
        ],
      ];
      const made: Json[] = [];
      for (const [when, s, body] of posts) {
        at(when);
        const obs = await recordOk(A.keys.clinician, s.id, body);
        expect(Date.parse(obs.recordedAt)).toBe(Date.parse(when));
        expect(obs.recordedAt).toMatch(/-05:00$/);
        made.push(obs);
      }
      at(NOW);
      // Another plan's observation never shows in this timeline.
      const elsewhere = await recordOk(A.keys.clinician, refOf(other, 'infusion#1').id, { craving: 9 });

      const [o1, o2, o3, o4, o5] = made;
      const timeline = await items(ofPlan(A.keys.clinician, plan.id));
      expect(timeline.map((o) => o.id)).toEqual([o2.id, o1.id, o4.id, o5.id, o3.id]);
      expect(timeline).toEqual([o2, o1, o4, o5, o3]);
      expect(timeline.map((o) => [o.sessionRef, o.sessionLabel])).toEqual([
        ['infusion#1', i1.label],
        ['infusion#1', i1.label],
        ['therapy#1', th1.label],
        ['infusion#2', i2.label],
        ['infusion#2', i2.label],
      ]);
      expect(new Set(timeline.map((o) => o.sessionLabel)).size).toBe(3);
      for (const o of timeline) expect(o.planId).toBe(plan.id);
      expect(timeline.map((o) => o.id)).not.toContain(elsewhere.id);
      expect(await items(ofPlan(A.keys.clinician, other.id))).toEqual([elsewhere]);

      // Per session: only its own, in the same order.
      expect(await items(ofSession(A.keys.clinician, i1.id))).toEqual([o2, o1]);
      expect(await items(ofSession(A.keys.clinician, i2.id))).toEqual([o5, o3]);
      expect(await items(ofSession(A.keys.clinician, th1.id))).toEqual([o4]);
      expect(timeline.every((o) => o.doseGiven === null)).toBe(true);

      // Completing infusion#1 with a dose: its observations show it, the others do not.
      const done = await act(A.keys.clinician, i1.id, 'complete', { doseGiven: { amount: 0.45, unit: 'mg/kg' } });
      expect(done.doseGiven).toEqual({ amount: 0.45, unit: 'mg/kg', totalMg: 32.6 }); // 0.45 × 72.4 = 32.58
      const after = await items(ofPlan(A.keys.admin, plan.id));
      expect(after.map((o) => o.id)).toEqual([o2.id, o1.id, o4.id, o5.id, o3.id]);
      expect(after.map((o) => o.doseGiven)).toEqual([done.doseGiven, done.doseGiven, null, null, null]);
      // Nothing else about them changed.
      expect(after.map(({ doseGiven: _d, ...rest }) => rest)).toEqual(
        timeline.map(({ doseGiven: _d, ...rest }) => rest),
      );
      expect((await items(ofSession(A.keys.admin, i1.id))).map((o) => o.doseGiven)).toEqual([
        done.doseGiven,
        done.doseGiven,
      ]);
      // A session completed without a dose (therapy) keeps doseGiven null.
      await act(A.keys.clinician, th1.id, 'complete', {});
      expect((await items(ofSession(A.keys.clinician, th1.id))).map((o) => o.doseGiven)).toEqual([null]);
    });

    it('a session or plan without observations: { items: [] }', async () => {
      const plan = await bookPlan(t.http, A, FROM_MONDAY);
      expect(await items(ofSession(A.keys.clinician, refOf(plan, 'infusion#3').id))).toEqual([]);
      expect(await items(ofPlan(A.keys.admin, plan.id))).toEqual([]);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('refused input: 400 naming exactly the field, nothing written', () => {
    let target: Json;
    beforeAll(async () => {
      const plan = await bookPlan(t.http, A, FROM_MONDAY);
      target = refOf(plan, 'infusion#1');
      await act(A.keys.frontDesk, target.id, 'check-in');
    });

    const ev = (over: Json) => ({ adverseEvents: [{ term: 'Nausea', severity: 'mild', ...over }] });
    /** The field a 400 must name: exactly this one, or (a RegExp) only fields matching it. */
    const CASES: [string, Json, string | RegExp][] = [
      ['craving 11', { craving: 11 }, 'craving'],
      ['craving -1', { craving: -1 }, 'craving'],
      ['craving 2.5', { craving: 2.5 }, 'craving'],
      ['craving "5" (a string)', { craving: '5' }, 'craving'],
      ['cows 49', { cows: 49 }, 'cows'],
      ['cows -1', { cows: -1 }, 'cows'],
      ['phq9 28', { phq9: 28 }, 'phq9'],
      ['gad7 22', { gad7: 22 }, 'gad7'],
      ['heartRate 19', { heartRate: 19 }, 'heartRate'],
      ['heartRate 251', { heartRate: 251 }, 'heartRate'],
      ['spo2 49', { spo2: 49 }, 'spo2'],
      ['spo2 101', { spo2: 101 }, 'spo2'],
      ['spo2 97.5', { spo2: 97.5 }, 'spo2'],
      ['bloodPressure.systolic 300', { bloodPressure: { systolic: 300, diastolic: 80 } }, 'bloodPressure.systolic'],
      ['bloodPressure.diastolic 20', { bloodPressure: { systolic: 120, diastolic: 20 } }, 'bloodPressure.diastolic'],
      ['bloodPressure without diastolic', { bloodPressure: { systolic: 120 } }, 'bloodPressure.diastolic'],
      ['bloodPressure without systolic', { bloodPressure: { diastolic: 80 } }, 'bloodPressure.systolic'],
      ['bloodPressure as a string', { bloodPressure: '120/80' }, 'bloodPressure'],
      [
        'an unknown field in bloodPressure',
        { bloodPressure: { systolic: 120, diastolic: 80, mean: 93 } },
        'bloodPressure.mean',
      ],
      // A list is not a blood pressure: it must not be accepted and then dropped (stored as null).
      ['bloodPressure as a list of one', { bloodPressure: [{ systolic: 120, diastolic: 80 }] }, 'bloodPressure'],
      ['bloodPressure as an empty list', { bloodPressure: [] }, 'bloodPressure'],
      ["adverseEvents[0].severity 'fatal'", ev({ severity: 'fatal' }), 'adverseEvents.0.severity'],
      ['adverseEvents[0] without severity', { adverseEvents: [{ term: 'Nausea' }] }, 'adverseEvents.0.severity'],
      ["adverseEvents[0].term ''", ev({ term: '' }), 'adverseEvents.0.term'],
      ["adverseEvents[0].term '   '", ev({ term: '   ' }), 'adverseEvents.0.term'],
      ['adverseEvents[0].term over 200 characters', ev({ term: 't'.repeat(201) }), 'adverseEvents.0.term'],
      ['adverseEvents[0].action over 500 characters', ev({ action: 'a'.repeat(501) }), 'adverseEvents.0.action'],
      ['an unknown field in adverseEvents[0]', ev({ onset: 'during' }), 'adverseEvents.0.onset'],
      [
        'the error in adverseEvents[1]',
        {
          adverseEvents: [
            { term: 'Nausea', severity: 'mild' },
            { term: 'Vomiting', severity: 'fatal' },
          ],
        },
        'adverseEvents.1.severity',
      ],
      ['adverseEvents not a list', { adverseEvents: { term: 'Nausea', severity: 'mild' } }, 'adverseEvents'],
      ['adverseEvents null', { adverseEvents: null }, 'adverseEvents'],
      ['an adverse event that is null', { adverseEvents: [null] }, /^adverseEvents(\.0)?$/],
      ['an adverse event that is a string', { adverseEvents: ['Nausea'] }, /^adverseEvents(\.0)?$/],
      // An adverse event is an object: a nested list must not be stored as one.
      ['an adverse event that is an empty list', { adverseEvents: [[]] }, /^adverseEvents(\.0)?$/],
      [
        'an adverse event that is a list of events',
        { adverseEvents: [[{ term: 'Nausea', severity: 'mild' }]] },
        /^adverseEvents(\.0)?$/,
      ],
      [
        '21 adverse events',
        { adverseEvents: Array.from({ length: 21 }, () => ({ term: 'Nausea', severity: 'mild' })) },
        'adverseEvents',
      ],
      ['a note over 5000 characters', { note: 'n'.repeat(5001) }, 'note'],
      ['a note that is not a string', { note: 42 }, 'note'],
      ['an unknown field', { mood: 'calm' }, 'mood'],
      ['doseGiven (recorded on completion, not here)', { doseGiven: { amount: 0.5, unit: 'mg/kg' } }, 'doseGiven'],
    ];

    it.each(CASES)('%s', async (_label, bad, field) => {
      // A valid measure beside the bad value: the bad value alone is the reason.
      const body = { ...('heartRate' in bad ? { craving: 4 } : { heartRate: 72 }), ...bad };
      const before = await counts();
      const res = await record(A.keys.clinician, target.id, body);
      if (typeof field === 'string') {
        expectProblem(res, 400, 'VALIDATION_FAILED', [field]);
        expect(fieldsOf(res)).toEqual([field]);
      } else {
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(fieldsOf(res).length).toBeGreaterThan(0);
        for (const f of fieldsOf(res)) expect(f).toMatch(field);
      }
      expect(await counts()).toEqual(before);
    });

    it('several bad fields are all named', async () => {
      const res = await record(A.keys.clinician, target.id, {
        craving: 11,
        spo2: 101,
        bloodPressure: { systolic: 300 },
        adverseEvents: [{ term: '', severity: 'fatal' }],
      });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res)).toEqual(
        [
          'adverseEvents.0.severity',
          'adverseEvents.0.term',
          'bloodPressure.diastolic',
          'bloodPressure.systolic',
          'craving',
          'spo2',
        ].sort(),
      );
    });

    it.each([
      ['an empty object', {}],
      ['no body at all', undefined],
      ['an empty adverseEvents list only', { adverseEvents: [] }],
    ])('no measure (%s): 400 naming `observation`', async (_label, body) => {
      const before = await counts();
      const res = await record(A.keys.clinician, target.id, body);
      expectProblem(res, 400, 'VALIDATION_FAILED', ['observation']);
      expect(fieldsOf(res)).toEqual(['observation']);
      expect(await counts()).toEqual(before);
    });

    it('measures sent as null are no measures: 400 naming `observation`, nothing written', async () => {
      const before = await counts();
      for (const body of [
        { craving: null },
        { note: null },
        { bloodPressure: null },
        {
          craving: null,
          cows: null,
          phq9: null,
          gad7: null,
          bloodPressure: null,
          heartRate: null,
          spo2: null,
          note: null,
        },
      ]) {
        const res = await record(A.keys.clinician, target.id, body);
        expectProblem(res, 400, 'VALIDATION_FAILED', ['observation']);
      }
      expect(await counts()).toEqual(before);
    });

    it('a blank note alone is no measure: 400 naming note or observation, nothing written', async () => {
      const before = await counts();
      for (const note of ['', '   ', '\n\t ']) {
        const res = await record(A.keys.clinician, target.id, { note });
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(fieldsOf(res).length).toBeGreaterThan(0);
        for (const f of fieldsOf(res)) expect(['note', 'observation']).toContain(f);
      }
      expect(await counts()).toEqual(before);
    });

    it('the note limit counts characters as the database does: over 5000 with variation selectors is a 400 naming note', async () => {
      // '❤️' is two code points (U+2764 U+FE0F): 2600 of them are 5200 characters.
      const note = '\u2764\uFE0F'.repeat(2600);
      expect([...note]).toHaveLength(5200);
      const before = await counts();
      const res = await record(A.keys.clinician, target.id, { craving: 4, note });
      expectProblem(res, 400, 'VALIDATION_FAILED', ['note']);
      expect(fieldsOf(res)).toEqual(['note']);
      expect(await counts()).toEqual(before);
    });

    it('a body that is not a JSON object: 400, nothing written', async () => {
      const before = await counts();
      const arr = await record(A.keys.clinician, target.id, [{ craving: 3 }]);
      expect(arr.status).toBe(400);
      expect(arr.headers['content-type']).toMatch(/^application\/problem\+json/);
      const broken = await api()
        .post(`/v1/sessions/${target.id}/observations`)
        .set(bearer(A.keys.clinician))
        .set('Content-Type', 'application/json')
        .send('{"craving": 3');
      expectProblem(broken, 400, 'MALFORMED_REQUEST');
      expect(await counts()).toEqual(before);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('sessions that did not happen', () => {
    it.each(['cancelled', 'no_show'] as const)(
      '%s: 409 INVALID_TRANSITION with currentStatus; nothing written; earlier observations stay readable',
      async (status) => {
        const plan = await bookPlan(t.http, A, FROM_MONDAY);
        const s = refOf(plan, 'infusion#1');
        await act(A.keys.frontDesk, s.id, 'check-in');
        const earlier = await recordOk(A.keys.clinician, s.id, {
          heartRate: 130,
          note: 'Tachycardic before the start',
        });
        if (status === 'cancelled')
          await act(A.keys.clinician, s.id, 'cancel', { reason: 'Heart rate too high to infuse' });
        else await act(A.keys.frontDesk, refOf(plan, 'infusion#2').id, 'no-show', {});
        const target = status === 'cancelled' ? s.id : refOf(plan, 'infusion#2').id;

        const before = await counts();
        for (const key of [A.keys.clinician, A.keys.admin]) {
          const res = await record(key, target, { craving: 4 });
          expectProblem(res, 409, 'INVALID_TRANSITION');
          expect(res.body.currentStatus).toBe(status);
        }
        // Validation still comes first: a bad body is a 400 whatever the status.
        expectProblem(await record(A.keys.clinician, target, { craving: 11 }), 400, 'VALIDATION_FAILED', ['craving']);
        expect(await counts()).toEqual(before);
        const [{ n }] = await t.dataSource.query(
          'SELECT count(*)::int AS n FROM session_observations WHERE session_id = $1',
          [target],
        );
        expect(n).toBe(target === s.id ? 1 : 0);

        // What was recorded before stays readable.
        expect(await items(ofSession(A.keys.clinician, s.id))).toEqual([earlier]);
        expect(await items(ofPlan(A.keys.clinician, plan.id))).toEqual([earlier]);
        expect(await items(ofSession(A.keys.clinician, target))).toEqual(target === s.id ? [earlier] : []);
      },
    );
  });

  // ---------------------------------------------------------------------------------------------
  describe('keys, roles and clinics', () => {
    let plan: Json;
    let s: Json;
    beforeAll(async () => {
      plan = await bookPlan(t.http, A, FROM_MONDAY);
      s = refOf(plan, 'infusion#1');
      await act(A.keys.frontDesk, s.id, 'check-in');
    });

    it('the front desk may neither record nor read: 403 on all three routes, nothing written or audited', async () => {
      await recordOk(A.keys.clinician, s.id, { craving: 5 });
      const before = await counts();
      const rid = `fd-${randomUUID()}`;
      expectProblem(await record(A.keys.frontDesk, s.id, { craving: 3 }, rid), 403, 'FORBIDDEN');
      expectProblem(await record(A.keys.frontDesk, s.id, {}, rid), 403, 'FORBIDDEN');
      for (const res of [await ofSession(A.keys.frontDesk, s.id, rid), await ofPlan(A.keys.frontDesk, plan.id, rid)]) {
        expectProblem(res, 403, 'FORBIDDEN');
        expect(res.body.items).toBeUndefined();
        expect(JSON.stringify(res.body)).not.toMatch(/craving/);
      }
      expect(await counts()).toEqual(before);
      expect(await auditOf(rid)).toEqual([]);
    });

    it('clinician and admin record and read (201, 200, 200)', async () => {
      for (const key of [A.keys.clinician, A.keys.admin]) {
        const obs = await recordOk(key, s.id, { gad7: 6 });
        expect((await items(ofSession(key, s.id))).map((o) => o.id)).toContain(obs.id);
        expect((await items(ofPlan(key, plan.id))).map((o) => o.id)).toContain(obs.id);
      }
    });

    it('every route needs a valid key: 401, nothing written', async () => {
      const before = await counts();
      for (const header of [{}, { Authorization: 'Bearer not-a-key' }, { Authorization: A.keys.clinician }] as Record<
        string,
        string
      >[]) {
        const reqs = [
          api().post(`/v1/sessions/${s.id}/observations`).set(header).send({ craving: 3 }),
          api().get(`/v1/sessions/${s.id}/observations`).set(header),
          api().get(`/v1/plans/${plan.id}/observations`).set(header),
        ];
        for (const r of reqs) expectProblem(await r, 401, 'UNAUTHENTICATED');
      }
      expectProblem(await record(null, s.id, { craving: 3 }), 401, 'UNAUTHENTICATED');
      expect(await counts()).toEqual(before);
    });

    it("another clinic's session or plan, or an unknown one: 404, nothing written", async () => {
      const otherSession = refOf(planB, 'infusion#2');
      const mine = await recordOk(B.keys.clinician, otherSession.id, { craving: 1 });
      const before = await counts();
      for (const key of [A.keys.clinician, A.keys.admin]) {
        for (const id of [otherSession.id, randomUUID()]) {
          expectProblem(await record(key, id, { craving: 3 }), 404, 'SESSION_NOT_FOUND');
          expectProblem(await ofSession(key, id), 404, 'SESSION_NOT_FOUND');
        }
        for (const id of [planB.id, randomUUID()]) expectProblem(await ofPlan(key, id), 404, 'PLAN_NOT_FOUND');
      }
      // A plan id is not a session id, nor the other way round.
      expectProblem(await ofSession(A.keys.clinician, plan.id), 404, 'SESSION_NOT_FOUND');
      expectProblem(await ofPlan(A.keys.clinician, s.id), 404, 'PLAN_NOT_FOUND');
      expect(await counts()).toEqual(before);
      // Its own clinic sees it.
      expect(await items(ofSession(B.keys.clinician, otherSession.id))).toEqual([mine]);
    });

    it('ids that are not UUIDs: 400 naming sessionId / planId, nothing written', async () => {
      const before = await counts();
      for (const bad of ['not-a-uuid', '123', `${randomUUID()}x`]) {
        expectProblem(await record(A.keys.clinician, bad, { craving: 3 }), 400, 'VALIDATION_FAILED', ['sessionId']);
        expectProblem(await ofSession(A.keys.clinician, bad), 400, 'VALIDATION_FAILED', ['sessionId']);
        const p = await ofPlan(A.keys.clinician, bad);
        expectProblem(p, 400, 'VALIDATION_FAILED', ['planId']);
        expect(fieldsOf(p)).toEqual(['planId']);
      }
      expect(await counts()).toEqual(before);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('append-only and audited', () => {
    let plan: Json;
    let s: Json;
    let first: Json;
    beforeAll(async () => {
      plan = await bookPlan(t.http, A, FROM_MONDAY);
      s = refOf(plan, 'infusion#1');
      await act(A.keys.frontDesk, s.id, 'check-in');
      first = await recordOk(A.keys.clinician, s.id, FULL);
    });

    it.each([
      ['UPDATE session_observations SET craving = 0 WHERE id = $1', 'id'],
      [
        "UPDATE session_observations SET note = 'rewritten', adverse_events = '[]'::jsonb WHERE session_id = $1",
        'session',
      ],
      ["UPDATE session_observations SET recorded_at = recorded_at - interval '1 day' WHERE session_id = $1", 'session'],
      ['DELETE FROM session_observations WHERE id = $1', 'id'],
      ['DELETE FROM session_observations', null],
      ['TRUNCATE session_observations', null],
      ['TRUNCATE session_observations CASCADE', null],
    ] as [string, 'id' | 'session' | null][])('the database refuses %s', async (sql, param) => {
      const before = {
        rows: await t.dataSource.query('SELECT * FROM session_observations ORDER BY id'),
        n: await counts(),
      };
      expect(before.rows.length).toBeGreaterThan(0);
      const params = param === 'id' ? [first.id] : param === 'session' ? [s.id] : [];
      // As the owner of the table (the service's own role may not even try: test/api/append-only.spec.ts).
      await expect(t.asOwner(sql, params)).rejects.toThrow(/append-only/);
      expect(await t.dataSource.query('SELECT * FROM session_observations ORDER BY id')).toEqual(before.rows);
      expect(await items(ofSession(A.keys.clinician, s.id))).toEqual([first]);
    });

    it("a POST leaves one 'observation.create' row (patient set) in its transaction; each GET one 'observation.read'", async () => {
      const clinicianKey = await keyId(A.keys, 'clinician');
      const adminKey = await keyId(A.keys, 'admin');

      const createId = `obs-create-${randomUUID()}`;
      const res = await record(A.keys.clinician, s.id, { craving: 2 }, createId);
      expect(res.status).toBe(201);
      expect(res.headers['x-request-id']).not.toBe(createId); // ours; the caller's is stored beside it
      expect(await auditOf(createId)).toEqual([
        {
          clinic_id: A.keys.clinicId,
          action: 'observation.create',
          entity_type: 'session_observation',
          entity_id: res.body.id,
          patient_id: plan.patientId,
          actor_role: 'clinician',
          actor_key_id: clinicianKey,
        },
      ]);

      const sessionReadId = `obs-read-s-${randomUUID()}`;
      await ofSession(A.keys.clinician, s.id, sessionReadId).expect(200);
      expect(await auditOf(sessionReadId)).toEqual([
        {
          clinic_id: A.keys.clinicId,
          action: 'observation.read',
          entity_type: 'session',
          entity_id: s.id,
          patient_id: plan.patientId,
          actor_role: 'clinician',
          actor_key_id: clinicianKey,
        },
      ]);

      const planReadId = `obs-read-p-${randomUUID()}`;
      await ofPlan(A.keys.admin, plan.id, planReadId).expect(200);
      expect(await auditOf(planReadId)).toEqual([
        {
          clinic_id: A.keys.clinicId,
          action: 'observation.read',
          entity_type: 'plan',
          entity_id: plan.id,
          patient_id: plan.patientId,
          actor_role: 'admin',
          actor_key_id: adminKey,
        },
      ]);

      // An empty list is still a read of the patient's record.
      const emptyId = `obs-read-empty-${randomUUID()}`;
      const quiet = refOf(plan, 'infusion#4');
      expect(await items(ofSession(A.keys.clinician, quiet.id, emptyId))).toEqual([]);
      expect(await auditOf(emptyId)).toEqual([
        expect.objectContaining({ action: 'observation.read', entity_id: quiet.id, patient_id: plan.patientId }),
      ]);
    });

    it('refused requests (400, 403, 404, 409) leave no observation and no audit row', async () => {
      const cancelled = refOf(plan, 'infusion#5');
      await act(A.keys.frontDesk, cancelled.id, 'cancel', { reason: 'Patient travelling' });
      const before = await counts();
      const attempts: [string, () => request.Test, number][] = [
        ['400', () => record(A.keys.clinician, s.id, { cows: 49 }, rid('400')), 400],
        ['400-empty', () => record(A.keys.clinician, s.id, {}, rid('400-empty')), 400],
        ['403', () => record(A.keys.frontDesk, s.id, { cows: 4 }, rid('403')), 403],
        ['403-read', () => ofPlan(A.keys.frontDesk, plan.id, rid('403-read')), 403],
        ['404', () => record(A.keys.clinician, refOf(planB, 'infusion#3').id, { cows: 4 }, rid('404')), 404],
        ['404-read', () => ofPlan(A.keys.clinician, planB.id, rid('404-read')), 404],
        ['409', () => record(A.keys.clinician, cancelled.id, { cows: 4 }, rid('409')), 409],
      ];
      const ids = new Map<string, string>();
      function rid(k: string): string {
        const id = `refused-${k}-${randomUUID()}`;
        ids.set(k, id);
        return id;
      }
      for (const [k, send, status] of attempts) {
        const res = await send();
        expect({ k, status: res.status }).toEqual({ k, status });
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(await auditOf(ids.get(k)!)).toEqual([]);
      }
      expect(await counts()).toEqual(before);
    });
  });
});
