import { DateTime } from 'luxon';
import { KETAMINE_PROTOCOL } from '../../src/seed/demo-protocol.js';
import {
  makePatient,
  makeStaff,
  persistClinicWithKeys,
  weekdays,
  type ClinicKeys,
} from '../factories/clinic.factory.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { addWebhookEndpoint, allProblems } from './support/invariants.js';
import { auth, label, listen, quiesce, send, tally, type Outcome } from './support/http-client.js';

// ---------------------------------------------------------------------------------------------
// Issue 9, item 2: two instances of the service on one database, and a storm of bookings,
// reschedules and cancellations for the same chairs, staff and patients sent through both at once.
// Afterwards no two active sessions overlap, every request was answered with a success or a
// conflict/precondition/infeasible problem, and the change log and the webhook outbox hold exactly
// the changes that committed.
// ---------------------------------------------------------------------------------------------

const SERIES_LENGTH = 15;
const ZONE = 'America/New_York';
const MORNINGS = weekdays([1, 2, 3, 4, 5], '08:00', '12:00');
const ALLOWED = [200, 201, 204, 409, 412, 422];

type Response = Extract<Outcome, { kind: 'response' }>;
interface Op {
  kind: 'book' | 'reschedule' | 'cancel';
  /** plan (reschedule), session (cancel) or patient (book) the request is about */
  subject: string;
  via: number;
  run: () => Promise<Outcome>;
}
interface Done extends Omit<Op, 'run'> {
  outcome: Outcome;
}
interface SessionRow {
  id: string;
  plan_id: string;
  ref: string;
  starts_at: Date;
  status: string;
}

describe('two instances on one database under concurrent bookings, reschedules and cancellations', () => {
  let t1: TestApp;
  let t2: TestApp;
  let urls: string[];
  let keys: ClinicKeys;
  let protocolId: string;

  beforeAll(async () => {
    t1 = await startTestApp();
    t2 = await startTestApp({ databaseUrl: t1.databaseUrl });
    urls = [await listen(t1), await listen(t2)];
    // Few resources, mornings only: two chairs, a nurse for two patients at a time, one physician, one therapist.
    keys = await persistClinicWithKeys(t1.app, { name: 'Two instances', openingHours: MORNINGS });
    await addWebhookEndpoint(t1.dataSource, keys.clinicId);
    await addWebhookEndpoint(t1.dataSource, keys.clinicId, ['session.cancelled', 'plan.adjusted']);
    const admin = { headers: auth(keys.admin) };
    for (const name of ['Chair A', 'Chair B']) {
      expect(
        (await send(urls[0], 'POST', `/v1/clinics/${keys.clinicId}/chairs`, { ...admin, body: { name } })).kind,
      ).toBe('response');
    }
    for (const [name, role, max] of [
      ['Nurse', 'nurse', 2],
      ['Doctor', 'physician', 1],
      ['Therapist', 'therapist', 1],
    ] as const) {
      const r = await send(urls[1], 'POST', `/v1/clinics/${keys.clinicId}/staff`, {
        ...admin,
        body: makeStaff({ name, role, availability: MORNINGS, maxConcurrentPatients: max }),
      });
      expect(r).toMatchObject({ status: 201 });
    }
    const created = await send(urls[0], 'POST', '/v1/protocols', {
      headers: auth(keys.clinician),
      body: { name: KETAMINE_PROTOCOL.name, indication: KETAMINE_PROTOCOL.indication, steps: KETAMINE_PROTOCOL.steps },
    });
    expect(created).toMatchObject({ status: 201 });
    protocolId = (created as Response).body.id;
    expect(
      await send(urls[1], 'POST', `/v1/protocols/${protocolId}/publish`, { headers: auth(keys.clinician) }),
    ).toMatchObject({ status: 201 });
  });
  afterAll(async () => {
    await t2?.close();
    await t1?.close();
  });

  const newPatient = async (name: string): Promise<string> => {
    const r = await send(urls[0], 'POST', '/v1/patients', {
      headers: auth(keys.clinician),
      body: makePatient({ fullName: name }),
    });
    expect(r).toMatchObject({ status: 201 });
    return (r as Response).body.id;
  };
  const book = (via: number, patientId: string) => () =>
    send(urls[via], 'POST', '/v1/plans', {
      headers: auth(keys.frontDesk),
      body: { patientId, protocolId, startWithinDays: 5 },
      timeoutMs: 60_000,
    });
  const etagOf = async (planId: string): Promise<string> => {
    const r = await send(urls[0], 'GET', `/v1/plans/${planId}`, { headers: auth(keys.frontDesk) });
    expect(r).toMatchObject({ status: 200 });
    return (r as Response).headers.etag as string;
  };
  const reschedule = (via: number, planId: string, etag: string, sessionId: string, start: DateTime) => () =>
    send(urls[via], 'POST', `/v1/plans/${planId}/adjustments`, {
      headers: { ...auth(keys.frontDesk), 'If-Match': etag },
      body: { type: 'reschedule', sessionId, start: start.toISO(), reason: 'Patient asked' },
      timeoutMs: 60_000,
    });
  const cancel = (via: number, sessionId: string) => () =>
    send(urls[via], 'POST', `/v1/sessions/${sessionId}/cancel`, {
      headers: auth(keys.frontDesk),
      body: { reason: 'Called off' },
      timeoutMs: 60_000,
    });
  const sessionsOf = (planIds: string[]): Promise<SessionRow[]> =>
    t1.dataSource.query(
      `SELECT id, plan_id, ref, starts_at, status FROM sessions WHERE plan_id = ANY($1) ORDER BY starts_at, ref`,
      [planIds],
    );

  it('keeps every chair, staff seat and patient free of overlaps, answers every request 2xx/409/412/422, and logs exactly what committed', async () => {
    // Four series booked beforehand, one at a time, through alternating instances.
    const planIds: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await book(i % 2, await newPatient(`Booked ${i}`))();
      expect(r).toMatchObject({ status: 201 });
      planIds.push((r as Response).body.id);
    }

    const done: Done[] = [];
    const fresh: string[] = [];
    const started = Date.now();
    for (let round = 0; round < 3; round++) {
      const sessions = await sessionsOf(planIds);
      const etags = await Promise.all(planIds.map(etagOf));
      const ops: Op[] = [];
      // New series for new patients, one patient booked twice at once (once per instance), and one
      // more series for a patient who has one already: they compete for the same mornings.
      for (let i = 0; i < 3; i++) {
        const p = await newPatient(`Round ${round} new ${i}`);
        fresh.push(p);
        ops.push({ kind: 'book', subject: p, via: i % 2, run: book(i % 2, p) });
      }
      const twice = await newPatient(`Round ${round} twice`);
      ops.push(
        { kind: 'book', subject: twice, via: 0, run: book(0, twice) },
        { kind: 'book', subject: twice, via: 1, run: book(1, twice) },
      );
      const [{ patient_id: again }] = await t1.dataSource.query(`SELECT patient_id FROM plans WHERE id = $1`, [
        planIds[round % planIds.length],
      ]);
      ops.push({ kind: 'book', subject: again, via: round % 2, run: book(round % 2, again) });

      planIds.forEach((planId, i) => {
        const infusions = sessions.filter(
          (x) => x.plan_id === planId && x.status === 'scheduled' && x.ref.startsWith('infusion#'),
        );
        const target = infusions[Math.min(round + 1, infusions.length - 1)];
        if (!target) return;
        // The same reschedule (a day later, a weekday) through both instances with the same If-Match…
        let later = DateTime.fromJSDate(target.starts_at, { zone: ZONE }).plus({ days: 1 });
        while (later.weekday > 5) later = later.plus({ days: 1 });
        ops.push({
          kind: 'reschedule',
          subject: planId,
          via: 0,
          run: reschedule(0, planId, etags[i], target.id, later),
        });
        ops.push({
          kind: 'reschedule',
          subject: planId,
          via: 1,
          run: reschedule(1, planId, etags[i], target.id, later),
        });
        // …a competing one onto the time of the next plan's session with the same ref (its chair and nurse)…
        const next = sessions.find(
          (x) => x.plan_id === planIds[(i + 1) % planIds.length] && x.ref === target.ref && x.status === 'scheduled',
        );
        if (next)
          ops.push({
            kind: 'reschedule',
            subject: planId,
            via: (i + 1) % 2,
            run: reschedule(
              (i + 1) % 2,
              planId,
              etags[i],
              target.id,
              DateTime.fromJSDate(next.starts_at, { zone: ZONE }),
            ),
          });
        // …and the session's therapy cancelled twice at once, once per instance; every other round
        // the moved infusion itself is cancelled too, racing its reschedule.
        const therapy = sessions.find(
          (x) => x.plan_id === planId && x.status === 'scheduled' && x.ref === `therapy#${target.ref.split('#')[1]}`,
        );
        if (therapy)
          ops.push(
            { kind: 'cancel', subject: therapy.id, via: 0, run: cancel(0, therapy.id) },
            { kind: 'cancel', subject: therapy.id, via: 1, run: cancel(1, therapy.id) },
          );
        if ((round + i) % 2 === 0)
          ops.push({ kind: 'cancel', subject: target.id, via: i % 2, run: cancel(i % 2, target.id) });
      });

      const outcomes = await Promise.all(ops.map((op) => op.run()));
      done.push(...ops.map(({ run: _run, ...op }, i) => ({ ...op, outcome: outcomes[i] })));
    }
    await quiesce(t1.dataSource);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);

    // 1. Every request was answered, with a success or a conflict/precondition/infeasible problem.
    const bad = done
      .filter((d) => d.outcome.kind !== 'response' || !ALLOWED.includes(d.outcome.status))
      .map((d) => `${d.kind} via instance ${d.via + 1}: ${label(d.outcome)} after ${d.outcome.ms} ms`);
    expect(bad).toEqual([]);
    for (const d of done) {
      const o = d.outcome as Response;
      if (o.status >= 400) {
        expect(o.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(o.body).toMatchObject({ status: o.status, code: expect.any(String) });
      }
    }
    const of = (kind: Op['kind']) => done.filter((d) => d.kind === kind);
    const ok = (d: Done) => (d.outcome as Response).status < 300;
    console.info(
      `two instances, ${done.length} requests in ${seconds} s — bookings: ${tally(of('book').map((d) => d.outcome))}; ` +
        `reschedules: ${tally(of('reschedule').map((d) => d.outcome))}; cancellations: ${tally(of('cancel').map((d) => d.outcome))}`,
    );
    // The storm did something, and the races were real: each kind succeeded somewhere and lost somewhere.
    for (const kind of ['book', 'reschedule', 'cancel'] as const) {
      expect(of(kind).filter(ok).length).toBeGreaterThan(0);
      expect(of(kind).filter((d) => !ok(d)).length).toBeGreaterThan(0);
    }
    // Both instances answered successes.
    expect(new Set(done.filter(ok).map((d) => d.via))).toEqual(new Set([0, 1]));

    // 2. Racing writes to one plan or one session: never two winners.
    const cancelled = new Map<string, Done[]>();
    for (const d of of('cancel')) cancelled.set(d.subject, [...(cancelled.get(d.subject) ?? []), d]);
    for (const [sessionId, tries] of cancelled) {
      expect(tries.filter(ok).length).toBeLessThanOrEqual(1);
      const losers = tries.filter((d) => !ok(d)).map((d) => label(d.outcome));
      for (const l of losers) expect(l).toBe('409 INVALID_TRANSITION');
      if (tries.some(ok)) {
        const [row] = await t1.dataSource.query(`SELECT status FROM sessions WHERE id = $1`, [sessionId]);
        expect(row.status).toBe('cancelled');
        // Its cancellation is one entry of the plan's log.
        const [{ n }] = await t1.dataSource.query(
          `SELECT count(*)::int AS n FROM plan_adjustments WHERE type = 'cancel_session' AND changes @> jsonb_build_array(jsonb_build_object('sessionId', $1::text))`,
          [sessionId],
        );
        expect(n).toBe(1);
      }
    }
    for (const d of of('reschedule').filter(ok)) {
      const body = (d.outcome as Response).body;
      const [entry] = await t1.dataSource.query(
        `SELECT type, jsonb_array_length(changes) AS n FROM plan_adjustments WHERE plan_id = $1 AND plan_version = $2`,
        [d.subject, body.planVersion],
      );
      expect(entry).toEqual({ type: 'reschedule', n: body.changes.length });
    }

    // 3. Every booking answered 201 is in the database whole; a refused new patient has nothing.
    for (const d of of('book').filter(ok)) {
      const [{ n }] = await t1.dataSource.query(`SELECT count(*)::int AS n FROM sessions WHERE plan_id = $1`, [
        (d.outcome as Response).body.id,
      ]);
      expect(n).toBe(SERIES_LENGTH);
    }
    const bookedPlans = new Set(
      of('book')
        .filter(ok)
        .map((d) => (d.outcome as Response).body.id as string),
    );
    const [{ n: unexplained }] = await t1.dataSource.query(
      `SELECT count(*)::int AS n FROM plans WHERE clinic_id = $1 AND NOT (id = ANY($2))`,
      [keys.clinicId, [...bookedPlans, ...planIds]],
    );
    expect(unexplained).toBe(0);
    for (const p of fresh) {
      const [{ n }] = await t1.dataSource.query(`SELECT count(*)::int AS n FROM plans WHERE patient_id = $1`, [p]);
      expect(n).toBe(of('book').filter((d) => d.subject === p && ok(d)).length);
    }

    // 4. No overlaps; whole series; change log, adjustment log and outbox agree with the sessions.
    expect(await allProblems(t1.dataSource, keys.clinicId, SERIES_LENGTH)).toEqual([]);
  });
});
