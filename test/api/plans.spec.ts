import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import pg from 'pg';
import request from 'supertest';
import { KETAMINE_PROTOCOL } from '../../src/seed/demo-protocol.js';
import {
  makePatient,
  makeStaff,
  persistClinicWithKeys,
  weekdays,
  type ClinicKeys,
} from '../factories/clinic.factory.js';
import { newPatient, setupClinic, type ClinicSetup as Setup } from '../factories/series.factory.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';
import { expectProblem } from '../support/problem.js';
import { publishProtocol as publishVia } from '../factories/protocol.factory.js';

// ---------------------------------------------------------------------------------------------
// Plans API: preview (writes nothing), booking (the whole series in one transaction, pinned to
// a protocol version, tailoring stored), reads, refusals, Idempotency-Key, and what happens when
// another booking wins the race. The clock stands at Wednesday 2026-11-25 10:00 in New York.
// ---------------------------------------------------------------------------------------------

const NOW = '2026-11-25T15:00:00Z';
const ZONE = 'America/New_York';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A timestamp with New York's winter offset (every session of these plans falls in EST). */
const EST_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-05:00$/;
const DEMO_REFS = [
  'intake#1',
  ...[1, 2, 3, 4, 5, 6].flatMap((n) => [`infusion#${n}`, `therapy#${n}`]),
  'follow_up#1',
  'booster#1',
].sort();

type Json = Record<string, any>;

const minutesBetween = (a: string, b: string) => (Date.parse(b) - Date.parse(a)) / 60_000;
const local = (iso: string) => DateTime.fromISO(iso, { zone: ZONE });
const byRef = (sessions: Json[]) => new Map(sessions.map((s) => [s.ref as string, s]));
/** What makes a placement: times and resources. */
const placement = (s: Json) => ({
  ref: s.ref,
  start: s.start,
  end: s.end,
  occupiedUntil: s.occupiedUntil,
  chair: s.chair,
  staff: s.staff,
  dose: s.dose,
});

describe('plans API (/v1/plans)', () => {
  let t: TestApp;
  let A: Setup;
  let B: Setup;
  const api = () => request(t.http);

  // ---- setup helpers ----

  const publishProtocol = (keys: ClinicKeys, name = KETAMINE_PROTOCOL.name) =>
    publishVia(t.http, keys.clinician, { name });

  const preview = (key: string, body: Json) => api().post('/v1/plans/preview').set(bearer(key)).send(body);
  const book = (key: string, body: Json, idempotencyKey?: string) => {
    const r = api().post('/v1/plans').set(bearer(key));
    if (idempotencyKey !== undefined) r.set('Idempotency-Key', idempotencyKey);
    return r.send(body);
  };
  async function bookOk(key: string, body: Json): Promise<Json> {
    const res = await book(key, body);
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 201 });
    return res.body as Json;
  }

  const counts = async (): Promise<{ plans: number; sessions: number; keys: number }> => {
    const [row] = await t.dataSource.query(
      'SELECT (SELECT count(*) FROM plans)::int AS plans, (SELECT count(*) FROM sessions)::int AS sessions, (SELECT count(*) FROM idempotency_keys)::int AS keys',
    );
    return row;
  };
  const rowsOfPatient = async (patientId: string): Promise<{ plans: number; sessions: number }> => {
    const [row] = await t.dataSource.query(
      'SELECT (SELECT count(*) FROM plans WHERE patient_id = $1)::int AS plans, (SELECT count(*) FROM sessions WHERE patient_id = $1)::int AS sessions',
      [patientId],
    );
    return row;
  };

  beforeAll(async () => {
    t = await startTestApp();
    A = await setupClinic(t.app, t.http, 'Alpha');
    B = await setupClinic(t.app, t.http, 'Beta');
  });
  afterAll(() => t.close());

  // ---------------------------------------------------------------------------------------------
  describe('POST /v1/plans/preview', () => {
    it('proposes the whole series in clinic time, with chairs, staff and doses, and writes nothing', async () => {
      const patientId = await newPatient(t.http, A, { weightKg: 72.4 });
      const before = await counts();
      const res = await preview(A.keys.frontDesk, { patientId, protocolId: A.protocolId });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toMatchObject({ patientId, protocolId: A.protocolId, protocolVersion: 1, timezone: ZONE });
      expect(res.body).not.toHaveProperty('id');
      const sessions: Json[] = res.body.sessions;
      expect(sessions).toHaveLength(15);
      expect(sessions.map((s) => s.ref).sort()).toEqual(DEMO_REFS);
      // In time order.
      expect(sessions.map((s) => Date.parse(s.start))).toEqual(
        sessions.map((s) => Date.parse(s.start)).sort((x, y) => x - y),
      );

      for (const s of sessions) {
        expect(s).not.toHaveProperty('id');
        expect(s).not.toHaveProperty('status');
        for (const k of ['start', 'end', 'occupiedUntil']) expect(s[k]).toMatch(EST_RE);
        const start = local(s.start);
        expect(s.localDate).toBe(start.toISODate());
        expect(s.localTime).toBe(start.toFormat('HH:mm'));
        // Inside opening hours (Mon–Fri 08:00–18:00) with recovery, not in the past.
        expect(Date.parse(s.start)).toBeGreaterThanOrEqual(Date.parse(NOW));
        expect(start.weekday).toBeLessThanOrEqual(5);
        expect(s.localTime >= '08:00').toBe(true);
        const until = local(s.occupiedUntil);
        expect(until.toISODate()).toBe(s.localDate);
        expect(until.toFormat('HH:mm') <= '18:00').toBe(true);

        switch (s.kind) {
          case 'infusion':
          case 'booster':
            expect(minutesBetween(s.start, s.end)).toBe(40);
            expect(minutesBetween(s.end, s.occupiedUntil)).toBe(60);
            expect(A.chairs).toContainEqual(s.chair);
            expect(s.staff).toEqual(A.nurse);
            // 0.5 mg/kg × 72.4 kg
            expect(s.dose).toEqual({
              drug: 'ketamine',
              amount: 0.5,
              unit: 'mg/kg',
              infusionMinutes: 40,
              totalMg: 36.2,
            });
            break;
          case 'consult':
          case 'follow_up':
            expect(s.chair).toBeNull();
            expect(s.staff).toEqual(A.physician);
            expect(s.dose).toBeNull();
            break;
          case 'therapy':
            expect(s.chair).toBeNull();
            expect(s.staff).toEqual(A.therapist);
            expect(s.dose).toBeNull();
            break;
          default:
            throw new Error(`unexpected kind ${s.kind}`);
        }
      }

      // The template's timing: infusions 1–4 days apart, therapy within 24 h after each infusion.
      const m = byRef(sessions);
      expect(Date.parse(m.get('infusion#1')!.start)).toBeGreaterThan(Date.parse(m.get('intake#1')!.start));
      for (let n = 1; n <= 6; n++) {
        const inf = m.get(`infusion#${n}`)!;
        const therapy = m.get(`therapy#${n}`)!;
        expect(minutesBetween(inf.occupiedUntil, therapy.start)).toBeGreaterThanOrEqual(0);
        expect(minutesBetween(inf.occupiedUntil, therapy.start)).toBeLessThanOrEqual(24 * 60);
        if (n > 1) {
          const days = local(inf.start)
            .startOf('day')
            .diff(local(m.get(`infusion#${n - 1}`)!.start).startOf('day'), 'days').days;
          expect(days).toBeGreaterThanOrEqual(1);
          expect(days).toBeLessThanOrEqual(4);
        }
      }
      // The patient is never in two places at once.
      for (let i = 1; i < sessions.length; i++)
        expect(Date.parse(sessions[i].start)).toBeGreaterThanOrEqual(Date.parse(sessions[i - 1].occupiedUntil));

      // Nothing written.
      expect(await counts()).toEqual(before);
      expect(await rowsOfPatient(patientId)).toEqual({ plans: 0, sessions: 0 });
    });

    it('is deterministic, and booking the same request books exactly the previewed plan', async () => {
      const patientId = await newPatient(t.http, A);
      const body = { patientId, protocolId: A.protocolId, earliestStart: '2026-12-07' };
      const p1 = await preview(A.keys.clinician, body).expect(200);
      const p2 = await preview(A.keys.frontDesk, body).expect(200);
      expect(p2.body).toEqual(p1.body);
      expect(p1.body.sessions[0].localDate >= '2026-12-07').toBe(true);
      const booked = await bookOk(A.keys.frontDesk, body);
      expect(booked.sessions.map(placement)).toEqual(p1.body.sessions.map(placement));
    });

    it("honours the patient's unavailable times and the preferred times of the request", async () => {
      const mornings = weekdays([1, 2, 3, 4, 5, 6, 7], '08:00', '12:00');
      const busyMornings = await newPatient(t.http, A, { unavailable: mornings });
      const res = await preview(A.keys.frontDesk, { patientId: busyMornings, protocolId: A.protocolId }).expect(200);
      expect(res.body.sessions).toHaveLength(15);
      for (const s of res.body.sessions) expect(s.localTime >= '12:00').toBe(true);

      const likesAfternoons = await newPatient(t.http, A);
      const pref = await preview(A.keys.frontDesk, {
        patientId: likesAfternoons,
        protocolId: A.protocolId,
        preferredTimes: weekdays([1, 2, 3, 4, 5, 6], '13:00', '18:00'),
      }).expect(200);
      for (const s of pref.body.sessions) expect(s.localTime >= '13:00').toBe(true);
    });

    it('keeps local times across the daylight-saving change, each time with the offset in force then', async () => {
      // US clocks spring forward on Sunday 2027-03-14; the series runs from 2027-03-10 into April.
      const patientId = await newPatient(t.http, B);
      const res = await preview(B.keys.frontDesk, {
        patientId,
        protocolId: B.protocolId,
        earliestStart: '2027-03-10',
      }).expect(200);
      const sessions: Json[] = res.body.sessions;
      for (const s of sessions) {
        for (const k of ['start', 'end', 'occupiedUntil']) {
          const offset = DateTime.fromISO(s[k], { zone: ZONE }).toFormat('ZZ');
          expect(s[k]).toMatch(new RegExp(`^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}${offset.replace('+', '\\+')}$`));
        }
        expect(local(s.start).toFormat('HH:mm')).toBe(s.localTime);
      }
      const offsets = new Set(sessions.map((s) => s.start.slice(-6)));
      expect([...offsets].sort()).toEqual(['-04:00', '-05:00']);
      // The infusions (same time of day) keep their wall-clock time, so their UTC time moves.
      const infusions = sessions.filter((s) => s.kind === 'infusion');
      expect(new Set(infusions.map((s) => s.localTime)).size).toBe(1);
      const utcHours = new Set(infusions.map((s) => new Date(s.start).getUTCHours()));
      expect(utcHours.size).toBe(2);
    });

    it('applies the tailoring: weight, dose and number of infusions', async () => {
      const patientId = await newPatient(t.http, A, { weightKg: 72.4 });
      const res = await preview(A.keys.clinician, {
        patientId,
        protocolId: A.protocolId,
        protocolVersion: 1,
        tailoring: { weightKg: 80, steps: [{ step: 'infusion', amount: 0.6, occurrences: 5 }] },
      });
      expect(res.status).toBe(200);
      const sessions: Json[] = res.body.sessions;
      expect(sessions).toHaveLength(13); // intake + 5 × (infusion + therapy) + follow-up + booster
      const infusions = sessions.filter((s) => s.kind === 'infusion');
      expect(infusions.map((s) => s.ref).sort()).toEqual([
        'infusion#1',
        'infusion#2',
        'infusion#3',
        'infusion#4',
        'infusion#5',
      ]);
      for (const s of infusions)
        expect(s.dose).toEqual({ drug: 'ketamine', amount: 0.6, unit: 'mg/kg', infusionMinutes: 40, totalMg: 48 });
      expect(infusions[0].label).toBe('Ketamine infusion 1/5');
      // The booster keeps the template's amount, on the tailored weight.
      expect(sessions.find((s) => s.kind === 'booster')!.dose).toEqual({
        drug: 'ketamine',
        amount: 0.5,
        unit: 'mg/kg',
        infusionMinutes: 40,
        totalMg: 40,
      });
    });

    it('refuses tailoring outside the template with 400 naming each field, on preview and on booking', async () => {
      const patientId = await newPatient(t.http, A);
      const before = await counts();
      const body = {
        patientId,
        protocolId: A.protocolId,
        tailoring: {
          steps: [
            { step: 'infusion', amount: 1.5, occurrences: 9, spacing: { min: 0 } },
            { step: 'no_such_step', amount: 1 },
          ],
        },
      };
      const fields = [
        'tailoring.steps.infusion.amount',
        'tailoring.steps.infusion.occurrences',
        'tailoring.steps.infusion.spacing.min',
        'tailoring.steps.no_such_step',
      ];
      expectProblem(await preview(A.keys.clinician, body), 400, 'VALIDATION_FAILED', fields);
      expectProblem(await book(A.keys.clinician, body), 400, 'VALIDATION_FAILED', fields);
      // Only the amount out of range: exactly that field.
      const one = await preview(A.keys.clinician, {
        patientId,
        protocolId: A.protocolId,
        tailoring: { steps: [{ step: 'infusion', amount: 0.05 }] },
      });
      expectProblem(one, 400, 'VALIDATION_FAILED', ['tailoring.steps.infusion.amount']);
      expect(one.body.errors).toHaveLength(1);
      expect(await counts()).toEqual(before);
    });

    it('needs a weight for mg/kg doses: 400 naming tailoring.weightKg, unless the tailoring gives one', async () => {
      const patientId = await newPatient(t.http, A, { weightKg: null });
      const before = await counts();
      const res = await preview(A.keys.frontDesk, { patientId, protocolId: A.protocolId });
      expectProblem(res, 400, 'VALIDATION_FAILED', ['tailoring.weightKg']);
      expect(res.body.errors).toHaveLength(1);
      expectProblem(await book(A.keys.frontDesk, { patientId, protocolId: A.protocolId }), 400, 'VALIDATION_FAILED', [
        'tailoring.weightKg',
      ]);
      expect(await counts()).toEqual(before);

      // Tailoring is clinical: the front desk may not, a clinician may.
      const refused = await preview(A.keys.frontDesk, {
        patientId,
        protocolId: A.protocolId,
        tailoring: { weightKg: 70 },
      });
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('FORBIDDEN');
      const ok = await preview(A.keys.clinician, {
        patientId,
        protocolId: A.protocolId,
        tailoring: { weightKg: 70 },
      }).expect(200);
      for (const s of ok.body.sessions.filter((x: Json) => x.dose)) expect(s.dose.totalMg).toBe(35);
    });

    it('refuses malformed requests with 400 naming the field', async () => {
      const patientId = await newPatient(t.http, A);
      const cases: [Json, string][] = [
        [{ patientId: 'nope', protocolId: A.protocolId }, 'patientId'],
        [{ patientId, protocolId: 'nope' }, 'protocolId'],
        [{ patientId, protocolId: A.protocolId, earliestStart: '2026-13-01' }, 'earliestStart'],
        [{ patientId, protocolId: A.protocolId, startWithinDays: 0 }, 'startWithinDays'],
        [{ patientId, protocolId: A.protocolId, protocolVersion: 0 }, 'protocolVersion'],
        [{ patientId, protocolId: A.protocolId, tailoring: { weightKg: -3 } }, 'tailoring.weightKg'],
      ];
      for (const [body, field] of cases) {
        expectProblem(await preview(A.keys.frontDesk, body), 400, 'VALIDATION_FAILED', [field]);
        expectProblem(await book(A.keys.frontDesk, body), 400, 'VALIDATION_FAILED', [field]);
      }
      expect(await rowsOfPatient(patientId)).toEqual({ plans: 0, sessions: 0 });
    });

    it("refuses an earliestStart before today in the clinic's zone (400), judging 'today' in that zone", async () => {
      const patientId = await newPatient(t.http, A);
      expectProblem(
        await preview(A.keys.frontDesk, { patientId, protocolId: A.protocolId, earliestStart: '2026-11-24' }),
        400,
        'VALIDATION_FAILED',
        ['earliestStart'],
      );
      expectProblem(
        await book(A.keys.frontDesk, { patientId, protocolId: A.protocolId, earliestStart: '2026-11-24' }),
        400,
        'VALIDATION_FAILED',
        ['earliestStart'],
      );
      await preview(A.keys.frontDesk, { patientId, protocolId: A.protocolId, earliestStart: '2026-11-25' }).expect(200);
      try {
        // 22:00 on the 25th in New York, already the 26th in UTC: the 25th is still "today".
        t.clock.set(DateTime.fromISO('2026-11-26T03:00:00Z', { zone: 'utc' }));
        const late = await preview(A.keys.frontDesk, {
          patientId,
          protocolId: A.protocolId,
          earliestStart: '2026-11-25',
        });
        expect(late.status).toBe(200);
        // Nothing is left of the 25th: the series starts the next morning.
        expect(late.body.sessions[0].localDate).toBe('2026-11-26');
        expect(Date.parse(late.body.sessions[0].start)).toBeGreaterThan(Date.parse('2026-11-26T03:00:00Z'));
        // Without earliestStart, the default is the clinic's today (the 25th), not UTC's.
        const booked = await bookOk(A.keys.frontDesk, { patientId, protocolId: A.protocolId });
        expect(booked.earliestStart).toBe('2026-11-25');
        // 23:30 on the 24th in New York, already the 25th in UTC: the 24th is still "today".
        t.clock.set(DateTime.fromISO('2026-11-25T04:30:00Z', { zone: 'utc' }));
        const other = await newPatient(t.http, A);
        await preview(A.keys.frontDesk, {
          patientId: other,
          protocolId: A.protocolId,
          earliestStart: '2026-11-24',
        }).expect(200);
        expectProblem(
          await preview(A.keys.frontDesk, { patientId: other, protocolId: A.protocolId, earliestStart: '2026-11-23' }),
          400,
          'VALIDATION_FAILED',
          ['earliestStart'],
        );
      } finally {
        t.clock.set(DateTime.fromISO(NOW, { zone: 'utc' }));
      }
    });

    it("another clinic's patient, an unknown patient or protocol or version: 404, nothing written", async () => {
      const patientId = await newPatient(t.http, A);
      const patientB = await newPatient(t.http, B);
      const before = await counts();
      const cases: [Json, string][] = [
        [{ patientId: patientB, protocolId: A.protocolId }, 'PATIENT_NOT_FOUND'],
        [{ patientId: patientB, protocolId: B.protocolId }, 'PATIENT_NOT_FOUND'],
        [{ patientId: randomUUID(), protocolId: A.protocolId }, 'PATIENT_NOT_FOUND'],
        [{ patientId, protocolId: randomUUID() }, 'PROTOCOL_NOT_FOUND'],
        [{ patientId, protocolId: B.protocolId }, 'PROTOCOL_NOT_FOUND'],
        [{ patientId, protocolId: B.protocolId, protocolVersion: 1 }, 'PROTOCOL_NOT_FOUND'],
        [{ patientId, protocolId: A.protocolId, protocolVersion: 9 }, 'PROTOCOL_VERSION_NOT_FOUND'],
      ];
      for (const [body, code] of cases) {
        expectProblem(await preview(A.keys.frontDesk, body), 404, code);
        expectProblem(await book(A.keys.frontDesk, body), 404, code);
      }
      expect(await counts()).toEqual(before);
    });

    it('a retired version makes no new plans: 422 PROTOCOL_VERSION_RETIRED', async () => {
      const protocolId = await publishProtocol(A.keys, 'Soon retired');
      await api()
        .post(`/v1/protocols/${protocolId}/versions/1/retire`)
        .set(bearer(A.keys.clinician))
        .send()
        .expect(200);
      const patientId = await newPatient(t.http, A);
      const before = await counts();
      for (const body of [
        { patientId, protocolId, protocolVersion: 1 },
        { patientId, protocolId },
      ]) {
        expectProblem(await preview(A.keys.frontDesk, body), 422, 'PROTOCOL_VERSION_RETIRED');
        expectProblem(await book(A.keys.frontDesk, body), 422, 'PROTOCOL_VERSION_RETIRED');
      }
      expect(await counts()).toEqual(before);
    });

    it('nothing fits because no chair is active: 422 PLAN_INFEASIBLE naming the binding constraint, no start date', async () => {
      const c = await setupClinic(t.app, t.http, 'Chairless');
      for (const chair of c.chairs)
        await api()
          .patch(`/v1/clinics/${c.keys.clinicId}/chairs/${chair.id}`)
          .set(bearer(c.keys.admin))
          .send({ active: false })
          .expect(200);
      const patientId = await newPatient(t.http, c);
      const before = await counts();
      for (const res of [
        await preview(c.keys.frontDesk, { patientId, protocolId: c.protocolId }),
        await book(c.keys.frontDesk, { patientId, protocolId: c.protocolId }),
      ]) {
        expectProblem(res, 422, 'PLAN_INFEASIBLE');
        expect(res.body.binding).toMatchObject({ code: 'NO_CHAIR', ref: 'infusion#1', message: expect.any(String) });
        expect(res.body.binding.message.length).toBeGreaterThan(0);
        expect(res.body.earliestStart).toBeNull();
      }
      expect(await counts()).toEqual(before);
      // Both refusals were worked out from the patient's data: each is an audited read, and nothing else is written.
      const audited = await t.dataSource.query(
        'SELECT action, route FROM audit_events WHERE patient_id = $1 AND action <> $2 ORDER BY id',
        [patientId, 'patient.create'],
      );
      expect(audited).toEqual([
        { action: 'plan.preview', route: 'POST /v1/plans/preview' },
        { action: 'plan.preview', route: 'POST /v1/plans' },
      ]);
    });

    it('nothing fits because of a long closure: 422 with the closure and the earliest start that works (which then works)', async () => {
      const c = await setupClinic(t.app, t.http, 'Winter break');
      await api()
        .post(`/v1/clinics/${c.keys.clinicId}/closures`)
        .set(bearer(c.keys.admin))
        .send({ startDate: '2026-11-25', endDate: '2027-01-31', reason: 'Renovation' })
        .expect(201);
      const patientId = await newPatient(t.http, c);
      const before = await counts();
      for (const res of [
        await preview(c.keys.frontDesk, { patientId, protocolId: c.protocolId }),
        await book(c.keys.frontDesk, { patientId, protocolId: c.protocolId }),
      ]) {
        expectProblem(res, 422, 'PLAN_INFEASIBLE');
        expect(res.body.binding).toMatchObject({
          code: 'CLOSURE',
          ref: 'intake#1',
          message: expect.stringContaining('Renovation'),
        });
        // Monday 1 February 2027, the first open day.
        expect(res.body.earliestStart).toBe('2027-02-01');
      }
      expect(await counts()).toEqual(before);

      // The suggested start is workable.
      const ok = await preview(c.keys.frontDesk, {
        patientId,
        protocolId: c.protocolId,
        earliestStart: '2027-02-01',
      }).expect(200);
      expect(ok.body.sessions).toHaveLength(15);
      expect(ok.body.sessions[0].localDate).toBe('2027-02-01');

      // Closed far beyond the search horizon: no start date to suggest.
      await api()
        .post(`/v1/clinics/${c.keys.clinicId}/closures`)
        .set(bearer(c.keys.admin))
        .send({ startDate: '2027-02-01', endDate: '2027-08-31', reason: 'Moving' })
        .expect(201);
      const never = await preview(c.keys.frontDesk, { patientId, protocolId: c.protocolId });
      expectProblem(never, 422, 'PLAN_INFEASIBLE');
      expect(never.body.binding).toMatchObject({
        code: 'CLOSURE',
        ref: expect.any(String),
        message: expect.any(String),
      });
      expect(never.body.earliestStart).toBeNull();
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('POST /v1/plans (booking) and reads', () => {
    it('books the whole series: 201 with ids and status scheduled, rows as promised, tailoring stored', async () => {
      const patientId = await newPatient(t.http, A, { weightKg: 72.4 });
      const body = {
        patientId,
        protocolId: A.protocolId,
        earliestStart: '2026-11-30',
        tailoring: { weightKg: 80, steps: [{ step: 'infusion', amount: 0.6, occurrences: 5 }] },
      };
      const res = await book(A.keys.clinician, body);
      expect(res.status).toBe(201);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['idempotent-replayed']).toBeUndefined();
      const plan = res.body as Json;
      expect(plan).toMatchObject({
        id: expect.stringMatching(UUID_RE),
        clinicId: A.keys.clinicId,
        patientId,
        protocolId: A.protocolId,
        protocolVersion: 1,
        timezone: ZONE,
        status: 'active',
        version: 1,
        earliestStart: '2026-11-30',
        tailoring: expect.objectContaining({ weightKg: 80 }),
      });
      expect(JSON.stringify(plan.tailoring)).toContain('0.6');
      expect(plan.sessions).toHaveLength(13);
      expect(new Set(plan.sessions.map((s: Json) => s.id)).size).toBe(13);
      for (const s of plan.sessions) {
        expect(s).toMatchObject({ id: expect.stringMatching(UUID_RE), status: 'scheduled' });
        expect(s.localDate >= '2026-11-30').toBe(true);
      }
      for (const s of plan.sessions.filter((x: Json) => x.kind === 'infusion')) expect(s.dose.totalMg).toBe(48);

      // The plan row: pinned version, tailoring as sent (weight, amount, count).
      const [row] = await t.dataSource.query(
        `SELECT clinic_id, patient_id, protocol_id, protocol_version, tailoring, to_char(earliest_start, 'YYYY-MM-DD') AS earliest_start, status FROM plans WHERE id = $1`,
        [plan.id],
      );
      expect(row).toMatchObject({
        clinic_id: A.keys.clinicId,
        patient_id: patientId,
        protocol_id: A.protocolId,
        protocol_version: 1,
        earliest_start: '2026-11-30',
        status: 'active',
      });
      expect(row.tailoring).toEqual(plan.tailoring);
      expect(row.tailoring).toMatchObject({ weightKg: 80, steps: { infusion: { amount: 0.6, occurrences: 5 } } });

      // The session rows match the response one by one.
      const sessions: Json[] = await t.dataSource.query(
        `SELECT id, plan_id, patient_id, ref, kind, starts_at, ends_at, occupied_until, chair_id, staff_id, staff_seat, status, planned_dose
           FROM sessions WHERE plan_id = $1`,
        [plan.id],
      );
      expect(sessions).toHaveLength(13);
      const rows = new Map(sessions.map((r) => [r.id as string, r]));
      for (const s of plan.sessions) {
        const r = rows.get(s.id)!;
        expect(r).toBeDefined();
        expect({
          planId: r.plan_id,
          patientId: r.patient_id,
          ref: r.ref,
          start: r.starts_at.getTime(),
          end: r.ends_at.getTime(),
          until: r.occupied_until.getTime(),
          chair: r.chair_id,
          staff: r.staff_id,
          seated: r.staff_seat !== null,
          status: r.status,
          dose: r.planned_dose,
        }).toEqual({
          planId: plan.id,
          patientId,
          ref: s.ref,
          start: Date.parse(s.start),
          end: Date.parse(s.end),
          until: Date.parse(s.occupiedUntil),
          chair: s.chair?.id ?? null,
          staff: s.staff?.id ?? null,
          seated: s.staff !== null,
          status: 'scheduled',
          dose: s.dose,
        });
      }
      // The booking is audited.
      const [{ n }] = await t.dataSource.query('SELECT count(*)::int AS n FROM audit_events WHERE entity_id = $1', [
        plan.id,
      ]);
      expect(n).toBeGreaterThanOrEqual(1);
    });

    it.each([
      ['front_desk', 'frontDesk'],
      ['clinician', 'clinician'],
      ['admin', 'admin'],
    ] as const)('a %s key may preview and book', async (_role, k) => {
      const patientId = await newPatient(t.http, A);
      const p = await preview(A.keys[k], { patientId, protocolId: A.protocolId });
      expect(p.status).toBe(200);
      expect(p.body.sessions).toHaveLength(15);
      const b = await book(A.keys[k], { patientId, protocolId: A.protocolId });
      expect(b.status).toBe(201);
      expect(b.body.sessions).toHaveLength(15);
      expect(await rowsOfPatient(patientId)).toEqual({ plans: 1, sessions: 15 });
    });

    it('without a key or with a bad key: 401 on every plans endpoint', async () => {
      const body = { patientId: randomUUID(), protocolId: A.protocolId };
      const calls = [
        () => api().post('/v1/plans/preview').send(body),
        () => api().post('/v1/plans').send(body),
        () => api().get(`/v1/plans/${randomUUID()}`),
        () => api().get(`/v1/patients/${randomUUID()}/plans`),
      ];
      for (const call of calls) {
        expectProblem(await call(), 401, 'UNAUTHENTICATED');
        expectProblem(await call().set(bearer('cs_not_a_real_key')), 401, 'UNAUTHENTICATED');
      }
    });

    it('GET /v1/plans/{id}: the plan with its sessions, only in its own clinic', async () => {
      const patientId = await newPatient(t.http, A);
      const booked = await bookOk(A.keys.frontDesk, { patientId, protocolId: A.protocolId });
      for (const key of [A.keys.frontDesk, A.keys.clinician, A.keys.admin]) {
        const got = await api().get(`/v1/plans/${booked.id}`).set(bearer(key));
        expect(got.status).toBe(200);
        expect(got.body).toEqual(booked);
      }
      expectProblem(await api().get(`/v1/plans/${booked.id}`).set(bearer(B.keys.admin)), 404, 'PLAN_NOT_FOUND');
      expectProblem(await api().get(`/v1/plans/${randomUUID()}`).set(bearer(A.keys.admin)), 404, 'PLAN_NOT_FOUND');
      expectProblem(await api().get('/v1/plans/not-a-uuid').set(bearer(A.keys.admin)), 400, 'VALIDATION_FAILED');
    });

    it("GET /v1/patients/{id}/plans: the patient's plans, newest first, with their sessions", async () => {
      const patientId = await newPatient(t.http, A);
      const empty = await api().get(`/v1/patients/${patientId}/plans`).set(bearer(A.keys.frontDesk));
      expect(empty.status).toBe(200);
      expect(empty.body).toEqual({ items: [] });

      const first = await bookOk(A.keys.frontDesk, { patientId, protocolId: A.protocolId });
      // A second active series of the protocol, booked on purpose (see active-series.spec.ts).
      const second = await bookOk(A.keys.clinician, {
        patientId,
        protocolId: A.protocolId,
        earliestStart: '2027-03-01',
        allowConcurrentSeries: true,
      });
      // The second series does not overlap the first (the patient cannot be in two places).
      const last = Math.max(...first.sessions.map((s: Json) => Date.parse(s.occupiedUntil)));
      const intervals = [...first.sessions, ...second.sessions]
        .map((s: Json) => [Date.parse(s.start), Date.parse(s.occupiedUntil)])
        .sort((x, y) => x[0] - y[0]);
      for (let i = 1; i < intervals.length; i++) expect(intervals[i][0]).toBeGreaterThanOrEqual(intervals[i - 1][1]);
      expect(last).toBeGreaterThan(0);

      const list = await api().get(`/v1/patients/${patientId}/plans`).set(bearer(A.keys.frontDesk));
      expect(list.status).toBe(200);
      expect(list.body.items.map((p: Json) => p.id)).toEqual([second.id, first.id]);
      expect(list.body.items).toEqual([second, first]);

      const patientB = await newPatient(t.http, B);
      expectProblem(
        await api().get(`/v1/patients/${patientB}/plans`).set(bearer(A.keys.frontDesk)),
        404,
        'PATIENT_NOT_FOUND',
      );
      expectProblem(
        await api().get(`/v1/patients/${randomUUID()}/plans`).set(bearer(A.keys.frontDesk)),
        404,
        'PATIENT_NOT_FOUND',
      );
    });

    it('a plan stays pinned to v1 after v2 is published; v1 cannot disappear under it', async () => {
      const protocolId = await publishProtocol(A.keys, 'Pinning protocol');
      const patientId = await newPatient(t.http, A, { weightKg: 72.4 });
      const booked = await bookOk(A.keys.frontDesk, { patientId, protocolId });
      expect(booked.protocolVersion).toBe(1);
      const v1 = await api().get(`/v1/protocols/${protocolId}/versions/1`).set(bearer(A.keys.frontDesk)).expect(200);

      // A new draft (5 infusions at 0.4 mg/kg), published as v2.
      const draft = await api().get(`/v1/protocols/${protocolId}`).set(bearer(A.keys.clinician)).expect(200);
      const steps = structuredClone(KETAMINE_PROTOCOL.steps) as Json[];
      steps[1].repeat = 5;
      steps[1].dose.amount = 0.4;
      await api()
        .put(`/v1/protocols/${protocolId}/draft`)
        .set(bearer(A.keys.clinician))
        .set('If-Match', draft.headers.etag)
        .send({ name: 'Pinning protocol', indication: KETAMINE_PROTOCOL.indication, steps })
        .expect(200);
      const v2 = await api().post(`/v1/protocols/${protocolId}/publish`).set(bearer(A.keys.clinician)).send();
      expect({ status: v2.status, version: v2.body.version }).toEqual({ status: 201, version: 2 });

      // The booked plan is unchanged: version 1, its 15 sessions at 0.5 mg/kg.
      const got = await api().get(`/v1/plans/${booked.id}`).set(bearer(A.keys.clinician)).expect(200);
      expect(got.body).toEqual(booked);
      expect(got.body.protocolVersion).toBe(1);
      for (const s of got.body.sessions.filter((x: Json) => x.dose)) expect(s.dose.amount).toBe(0.5);
      const [{ protocol_version }] = await t.dataSource.query('SELECT protocol_version FROM plans WHERE id = $1', [
        booked.id,
      ]);
      expect(protocol_version).toBe(1);
      // v1 itself is unchanged.
      expect(
        (await api().get(`/v1/protocols/${protocolId}/versions/1`).set(bearer(A.keys.frontDesk)).expect(200)).body,
      ).toEqual(v1.body);

      // New plans use v2 by default; v1 can still be asked for while it is not retired.
      const other = await newPatient(t.http, A);
      const p2 = await preview(A.keys.frontDesk, { patientId: other, protocolId }).expect(200);
      expect(p2.body.protocolVersion).toBe(2);
      expect(p2.body.sessions).toHaveLength(13);
      expect(p2.body.sessions.find((s: Json) => s.kind === 'infusion').dose.amount).toBe(0.4);
      const p1 = await preview(A.keys.frontDesk, { patientId: other, protocolId, protocolVersion: 1 }).expect(200);
      expect(p1.body.protocolVersion).toBe(1);
      expect(p1.body.sessions).toHaveLength(15);
      const bookedV1 = await bookOk(A.keys.frontDesk, { patientId: other, protocolId, protocolVersion: 1 });
      expect(bookedV1.protocolVersion).toBe(1);
      expect(bookedV1.sessions).toHaveLength(15);

      // Retiring v1 stops new plans on it, and leaves the booked plan alone.
      await api()
        .post(`/v1/protocols/${protocolId}/versions/1/retire`)
        .set(bearer(A.keys.clinician))
        .send()
        .expect(200);
      expectProblem(
        await preview(A.keys.frontDesk, { patientId: other, protocolId, protocolVersion: 1 }),
        422,
        'PROTOCOL_VERSION_RETIRED',
      );
      expect((await api().get(`/v1/plans/${booked.id}`).set(bearer(A.keys.clinician)).expect(200)).body).toEqual(
        booked,
      );

      // The database keeps v1 while a plan points at it: even with the immutability trigger out of
      // the way, the foreign key refuses the delete.
      // As the owner: the service's own role may not disable a trigger.
      const c = new pg.Client({ connectionString: t.ownerUrl });
      await c.connect();
      try {
        await c.query('BEGIN');
        await c.query('ALTER TABLE protocol_versions DISABLE TRIGGER protocol_versions_immutable');
        const err = await c
          .query('DELETE FROM protocol_versions WHERE protocol_id = $1 AND version = 1', [protocolId])
          .then(
            () => undefined,
            (e: { code?: string; table?: string }) => e,
          );
        expect(err).toMatchObject({ code: '23503', table: 'plans' });
      } finally {
        await c.query('ROLLBACK');
        await c.end();
      }
      // And without disabling anything, it is refused too.
      await expect(
        t.dataSource.query('DELETE FROM protocol_versions WHERE protocol_id = $1 AND version = 1', [protocolId]),
      ).rejects.toThrow();
    });

    it("lowering a nurse's limit below what is booked ahead: 409 STAFF_CAPACITY_IN_USE, limit unchanged", async () => {
      const c = await setupClinic(t.app, t.http, 'Capacity', { chairs: 2, nurseMax: 2 });
      const body = (patientId: string) => ({ patientId, protocolId: c.protocolId, earliestStart: '2026-12-01' });
      const first = await bookOk(c.keys.frontDesk, body(await newPatient(t.http, c)));
      const second = await bookOk(c.keys.frontDesk, body(await newPatient(t.http, c)));
      // Precondition: the two series overlap on the nurse (seat 2 is in use).
      const [{ seat }] = await t.dataSource.query(
        'SELECT max(staff_seat)::int AS seat FROM sessions WHERE staff_id = $1 AND plan_id = ANY($2)',
        [c.nurse.id, [first.id, second.id]],
      );
      expect(seat).toBe(2);

      const staffUrl = `/v1/clinics/${c.keys.clinicId}/staff/${c.nurse.id}`;
      expectProblem(
        await api().patch(staffUrl).set(bearer(c.keys.admin)).send({ maxConcurrentPatients: 1 }),
        409,
        'STAFF_CAPACITY_IN_USE',
      );
      const [{ max }] = await t.dataSource.query(
        'SELECT max_concurrent_patients AS max FROM staff_members WHERE id = $1',
        [c.nurse.id],
      );
      expect(max).toBe(2);
      const list = await api().get(`/v1/clinics/${c.keys.clinicId}/staff`).set(bearer(c.keys.admin)).expect(200);
      expect(list.body.items.find((s: Json) => s.id === c.nurse.id).maxConcurrentPatients).toBe(2);
      // Raising it, or changing something else, is fine.
      expect((await api().patch(staffUrl).set(bearer(c.keys.admin)).send({ maxConcurrentPatients: 3 })).status).toBe(
        200,
      );
      expect((await api().patch(staffUrl).set(bearer(c.keys.admin)).send({ maxConcurrentPatients: 2 })).status).toBe(
        200,
      );
      // Once those sessions are in the past, lowering is allowed.
      try {
        t.clock.set(DateTime.fromISO('2027-06-01T12:00:00Z', { zone: 'utc' }));
        expect((await api().patch(staffUrl).set(bearer(c.keys.admin)).send({ maxConcurrentPatients: 1 })).status).toBe(
          200,
        );
      } finally {
        t.clock.set(DateTime.fromISO(NOW, { zone: 'utc' }));
      }
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('Idempotency-Key on POST /v1/plans', () => {
    it('a retry with the same key and body returns the first response: same status, same body, Idempotent-Replayed', async () => {
      const patientId = await newPatient(t.http, A);
      const key = `book-${randomUUID()}`;
      const body = { patientId, protocolId: A.protocolId };
      const first = await book(A.keys.frontDesk, body, key);
      expect(first.status).toBe(201);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      const again = await book(A.keys.frontDesk, body, key);
      expect(again.status).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.headers['content-type']).toMatch(/^application\/json/);
      expect(again.body).toEqual(first.body);
      // The same body with its keys in another order is the same request.
      const reordered = await book(A.keys.frontDesk, { protocolId: A.protocolId, patientId }, key);
      expect(reordered.status).toBe(201);
      expect(reordered.body).toEqual(first.body);
      expect(await rowsOfPatient(patientId)).toEqual({ plans: 1, sessions: 15 });
    });

    it('the same key with a different body: 422 IDEMPOTENCY_KEY_REUSED, nothing written', async () => {
      const patientId = await newPatient(t.http, A);
      const other = await newPatient(t.http, A);
      const key = `book-${randomUUID()}`;
      expect((await book(A.keys.frontDesk, { patientId, protocolId: A.protocolId }, key)).status).toBe(201);
      const before = await counts();
      expectProblem(
        await book(A.keys.frontDesk, { patientId, protocolId: A.protocolId, earliestStart: '2026-12-14' }, key),
        422,
        'IDEMPOTENCY_KEY_REUSED',
      );
      expectProblem(
        await book(A.keys.frontDesk, { patientId: other, protocolId: A.protocolId }, key),
        422,
        'IDEMPOTENCY_KEY_REUSED',
      );
      expect(await counts()).toEqual(before);
      expect(await rowsOfPatient(patientId)).toEqual({ plans: 1, sessions: 15 });
      expect(await rowsOfPatient(other)).toEqual({ plans: 0, sessions: 0 });
    });

    it('keys belong to their clinic: the same key in another clinic is a new request', async () => {
      const key = `shared-${randomUUID()}`;
      expect(
        (await book(A.keys.frontDesk, { patientId: await newPatient(t.http, A), protocolId: A.protocolId }, key))
          .status,
      ).toBe(201);
      const inB = await book(
        B.keys.frontDesk,
        { patientId: await newPatient(t.http, B), protocolId: B.protocolId },
        key,
      );
      expect(inB.status).toBe(201);
      expect(inB.headers['idempotent-replayed']).toBeUndefined();
      expect(inB.body.clinicId).toBe(B.keys.clinicId);
    });

    it('a malformed key (too long, a space, empty of visible characters) is 400, nothing written; 200 visible characters are fine', async () => {
      const patientId = await newPatient(t.http, A);
      const body = { patientId, protocolId: A.protocolId };
      for (const key of ['k'.repeat(300), 'two words', 'tab\there']) {
        expectProblem(await book(A.keys.frontDesk, body, key), 400, 'VALIDATION_FAILED', ['Idempotency-Key']);
      }
      expect(await rowsOfPatient(patientId)).toEqual({ plans: 0, sessions: 0 });
      const longest = `${randomUUID()}${'x'.repeat(164)}`;
      expect(longest).toHaveLength(200);
      expect((await book(A.keys.frontDesk, body, longest)).status).toBe(201);
    });

    it('concurrent duplicates: exactly one booking; the others wait for it and replay the same body', async () => {
      for (let round = 0; round < 3; round++) {
        const patientId = await newPatient(t.http, A);
        const key = `dup-${randomUUID()}`;
        const body = { patientId, protocolId: A.protocolId };
        const results = await Promise.all([0, 1, 2, 3].map(() => book(A.keys.frontDesk, body, key)));
        const originals = results.filter((r) => r.status === 201 && r.headers['idempotent-replayed'] === undefined);
        expect(originals).toHaveLength(1);
        for (const r of results) {
          if (r === originals[0]) continue;
          expect({ status: r.status, replayed: r.headers['idempotent-replayed'] }).toEqual({
            status: 201,
            replayed: 'true',
          });
          expect(r.body).toEqual(originals[0].body);
        }
        expect(await rowsOfPatient(patientId)).toEqual({ plans: 1, sessions: 15 });
        // And afterwards, a retry replays the one booking.
        const retry = await book(A.keys.frontDesk, body, key);
        expect({ status: retry.status, replayed: retry.headers['idempotent-replayed'] }).toEqual({
          status: 201,
          replayed: 'true',
        });
        expect(retry.body).toEqual(originals[0].body);
      }
    });

    it('a duplicate that checked the key before the first one committed still gets the replay, not a 422 from planning again', async () => {
      // A clinic with exactly one free hour: Thursday 2026-11-26 08:00–09:00 (closed from the 27th on),
      // and a one-step protocol (a one-hour consult). Once the first request has booked that hour,
      // a second plan for the same patient is infeasible — so the duplicate must not plan again.
      const hour = weekdays([1, 2, 3, 4, 5], '08:00', '09:00');
      const keys = await persistClinicWithKeys(t.app, { name: 'One free hour', openingHours: hour });
      await api()
        .post(`/v1/clinics/${keys.clinicId}/staff`)
        .set(bearer(keys.admin))
        .send(makeStaff({ name: 'Dr Single', role: 'physician', availability: hour, maxConcurrentPatients: 1 }))
        .expect(201);
      await api()
        .post(`/v1/clinics/${keys.clinicId}/closures`)
        .set(bearer(keys.admin))
        .send({ startDate: '2026-11-27', endDate: '2027-12-31', reason: 'Closed' })
        .expect(201);
      const created = await api()
        .post('/v1/protocols')
        .set(bearer(keys.clinician))
        .send({ name: 'Consult only', indication: 'Assessment', steps: [KETAMINE_PROTOCOL.steps[0]] })
        .expect(201);
      await api().post(`/v1/protocols/${created.body.id}/publish`).set(bearer(keys.clinician)).send().expect(201);
      const patient = await api().post('/v1/patients').set(bearer(keys.frontDesk)).send(makePatient()).expect(201);
      const body = { patientId: patient.body.id, protocolId: created.body.id };
      const key = `race-${randomUUID()}`;

      // Force the worst interleaving with table locks on two side connections:
      //  L1 (SHARE on idempotency_keys) holds the first request inside its transaction, after planning;
      //  L2 (ACCESS EXCLUSIVE on protocols) holds the duplicate after its key lookup, before planning.
      const side = async () => {
        const c = new pg.Client({ connectionString: t.databaseUrl });
        await c.connect();
        await c.query('BEGIN');
        const pid: number = (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
        return {
          c,
          pid,
          release: async () => {
            await c.query('ROLLBACK').catch(() => undefined);
            await c.end();
          },
        };
      };
      const waitFor = async (pid: number) => {
        const deadline = Date.now() + 3000;
        while (Date.now() < deadline) {
          const [{ n }] = await t.dataSource.query(
            'SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
            [pid],
          );
          if (n > 0) return;
          await new Promise((r) => setTimeout(r, 10));
        }
        // Not held (the code changed shape): the interleaving is then whatever it is; the outcome rules still hold.
      };
      const l1 = await side();
      const l2 = await side();
      try {
        await l1.c.query('LOCK TABLE idempotency_keys IN SHARE MODE');
        const first = book(keys.frontDesk, body, key).then((r) => r);
        await waitFor(l1.pid);
        await l2.c.query('LOCK TABLE protocols IN ACCESS EXCLUSIVE MODE');
        const duplicate = book(keys.frontDesk, body, key).then((r) => r);
        await waitFor(l2.pid);
        await l1.release();
        const original = await first;
        expect(original.status).toBe(201);
        await l2.release();
        const dup = await duplicate;
        expect({ status: dup.status, code: dup.body.code, replayed: dup.headers['idempotent-replayed'] }).toEqual({
          status: 201,
          code: undefined,
          replayed: 'true',
        });
        expect(dup.body).toEqual(original.body);
        expect(await rowsOfPatient(patient.body.id)).toEqual({ plans: 1, sessions: 1 });
      } finally {
        await l1.release().catch(() => undefined);
        await l2.release().catch(() => undefined);
      }
    });
  });

  // ---------------------------------------------------------------------------------------------
  // Another booking wins the race: a session is inserted (uncommitted) on another connection
  // where the plan will go; the booking blocks on the exclusion constraint, and we commit.
  describe('losing the race to a conflicting booking', () => {
    let R: Setup;

    /** A patient with a plan row, whose sessions stand in for "another booking". */
    async function otherBooking(): Promise<{ patientId: string; planId: string }> {
      const patientId = await newPatient(t.http, R);
      const [plan] = await t.dataSource.query(
        `INSERT INTO plans (clinic_id, patient_id, protocol_id, protocol_version, tailoring, earliest_start)
         VALUES ($1, $2, $3, 1, '{}'::jsonb, '2026-11-25') RETURNING id`,
        [R.keys.clinicId, patientId, R.protocolId],
      );
      return { patientId, planId: plan.id };
    }

    interface Held {
      id: string;
      pid: number;
      commit(): Promise<void>;
      rollback(): Promise<void>;
    }

    /** Inserts, in an open transaction on its own connection, a session occupying [start, until) on a chair and/or the nurse's seat 1. */
    async function hold(over: { chairId: string | null; nurse: boolean; start: string; until: string }): Promise<Held> {
      const owner = await otherBooking();
      const c = new pg.Client({ connectionString: t.databaseUrl });
      await c.connect();
      await c.query('BEGIN');
      const pid: number = (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      const { rows } = await c.query(
        `INSERT INTO sessions (clinic_id, plan_id, patient_id, ref, step_key, occurrence, kind, label, starts_at, ends_at, occupied_until, chair_id, staff_id, staff_seat)
         VALUES ($1, $2, $3, 'other#1', 'other', 1, 'infusion', 'Another booking', $4, $5, $5, $6, $7, $8) RETURNING id`,
        [
          R.keys.clinicId,
          owner.planId,
          owner.patientId,
          over.start,
          over.until,
          over.chairId,
          over.nurse ? R.nurse.id : null,
          over.nurse ? 1 : null,
        ],
      );
      let open = true;
      const end = async (sql: string) => {
        if (!open) return;
        open = false;
        await c.query(sql);
        await c.end();
      };
      return { id: rows[0].id, pid, commit: () => end('COMMIT'), rollback: () => end('ROLLBACK') };
    }

    /** Waits until some backend is waiting for the transaction of `pid`. */
    async function blockedBy(pid: number): Promise<void> {
      const deadline = Date.now() + 5000;
      for (;;) {
        const [{ n }] = await t.dataSource.query(
          'SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
          [pid],
        );
        if (n > 0) return;
        if (Date.now() > deadline) throw new Error(`nothing waited for backend ${pid}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    }

    const overlapsInClinic = async (): Promise<number> => {
      const [{ n }] = await t.dataSource.query(
        `SELECT count(*)::int AS n FROM sessions a JOIN sessions b ON b.clinic_id = a.clinic_id AND a.id < b.id AND a.during && b.during
          AND (a.chair_id = b.chair_id OR a.patient_id = b.patient_id OR (a.staff_id = b.staff_id AND a.staff_seat = b.staff_seat))
          WHERE a.clinic_id = $1 AND a.status IN ('scheduled', 'checked_in', 'completed') AND b.status IN ('scheduled', 'checked_in', 'completed')`,
        [R.keys.clinicId],
      );
      return n;
    };

    beforeAll(async () => {
      // One chair and one nurse who looks after one patient at a time: every infusion competes.
      R = await setupClinic(t.app, t.http, 'Race', { chairs: 1, nurseMax: 1 });
    });

    it('loses once: the service plans again around the winner and books the whole series', async () => {
      const patientId = await newPatient(t.http, R);
      const body = { patientId, protocolId: R.protocolId };
      const planned = byRef((await preview(R.keys.frontDesk, body).expect(200)).body.sessions).get('infusion#1')!;
      const winner = await hold({
        chairId: R.chairs[0].id,
        nurse: false,
        start: planned.start,
        until: planned.occupiedUntil,
      });
      try {
        const pending = book(R.keys.frontDesk, body).then((r) => r);
        await blockedBy(winner.pid);
        await winner.commit();
        const res = await pending;
        expect(res.status).toBe(201);
        expect(res.body.sessions).toHaveLength(15);
        const inf1 = byRef(res.body.sessions).get('infusion#1')!;
        expect(inf1.start).not.toBe(planned.start);
        expect(await rowsOfPatient(patientId)).toEqual({ plans: 1, sessions: 15 });
        expect(await overlapsInClinic()).toBe(0);
      } finally {
        await winner.rollback();
      }
    });

    /**
     * Loses twice: the first attempt collides with `first`; the second (planned around `first`)
     * collides with `second`. `kind` decides what the collisions are on.
     */
    async function loseTwice(
      kind: 'chair' | 'nurse seat',
    ): Promise<{ res: request.Response; second: Held; patientId: string }> {
      const patientId = await newPatient(t.http, R);
      const body = { patientId, protocolId: R.protocolId };
      const on = (s: Json) => ({
        chairId: kind === 'chair' ? R.chairs[0].id : null,
        nurse: kind === 'nurse seat',
        start: s.start,
        until: s.occupiedUntil,
      });
      const attempt1 = byRef((await preview(R.keys.frontDesk, body).expect(200)).body.sessions).get('infusion#1')!;
      // What the second attempt will plan: the same request with `first` in place.
      const probe = await hold(on(attempt1));
      await probe.commit();
      const attempt2 = byRef((await preview(R.keys.frontDesk, body).expect(200)).body.sessions).get('infusion#1')!;
      expect(attempt2.start).not.toBe(attempt1.start);
      await t.dataSource.query('DELETE FROM sessions WHERE id = $1', [probe.id]);

      const first = await hold(on(attempt1));
      const second = await hold(on(attempt2));
      try {
        const pending = book(R.keys.frontDesk, body).then((r) => r);
        await blockedBy(first.pid);
        await first.commit();
        await blockedBy(second.pid);
        await second.commit();
        return { res: await pending, second, patientId };
      } finally {
        await first.rollback();
        await second.rollback();
      }
    }

    it('loses twice on a chair: 409 SLOT_TAKEN naming the conflicting session, nothing of the series written', async () => {
      const { res, second, patientId } = await loseTwice('chair');
      expectProblem(res, 409, 'SLOT_TAKEN');
      expect(res.body.conflictingSessionId).toBe(second.id);
      expect(await rowsOfPatient(patientId)).toEqual({ plans: 0, sessions: 0 });
      expect(await overlapsInClinic()).toBe(0);
    });

    it("loses twice on the nurse's only seat: 409 SLOT_TAKEN naming the conflicting session, nothing of the series written", async () => {
      const { res, second, patientId } = await loseTwice('nurse seat');
      expectProblem(res, 409, 'SLOT_TAKEN');
      expect(await rowsOfPatient(patientId)).toEqual({ plans: 0, sessions: 0 });
      expect(await overlapsInClinic()).toBe(0);
      expect(res.body.conflictingSessionId).toBe(second.id);
    });
  });
});
