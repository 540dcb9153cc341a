import { setupClinic, type ClinicSetup } from '../factories/series.factory.js';
import { makePatient } from '../factories/clinic.factory.js';
import { createTestDatabase } from '../support/test-database.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { startChildService, stopAllChildServices, type ChildService } from './support/child-service.js';
import { addWebhookEndpoint, allProblems } from './support/invariants.js';
import { auth, label, quiesce, send, sleep, tally, type Outcome } from './support/http-client.js';

// ---------------------------------------------------------------------------------------------
// Issue 9, item 3: the service process is killed with SIGKILL while it books series and adjusts
// plans. After a restart no series is half-booked, no adjustment half-applied, every change that
// committed has its outbox messages exactly once, nothing acknowledged is lost, and a booking
// retried with its Idempotency-Key is neither lost nor booked twice.
// ---------------------------------------------------------------------------------------------

const SERIES_LENGTH = 15;
type Response = Extract<Outcome, { kind: 'response' }>;
interface Booking {
  patientId: string;
  key: string;
  outcome: Outcome;
}
interface Adjustment {
  planId: string;
  type: string;
  outcome: Outcome;
}

describe('a service process killed with SIGKILL mid-flight', () => {
  let db: { url: string; drop: () => Promise<void> };
  let seeder: TestApp;
  let s: ClinicSetup;

  beforeAll(async () => {
    db = await createTestDatabase();
    // The clinic, its keys, resources and protocols are set up in-process; all the traffic goes to
    // the child processes (their clock is the real one).
    seeder = await startTestApp({ databaseUrl: db.url });
    s = await setupClinic(seeder.app, seeder.http, 'Crash clinic', { chairs: 4, nurseMax: 4 });
    await addWebhookEndpoint(seeder.dataSource, s.keys.clinicId);
  });
  afterAll(async () => {
    await stopAllChildServices();
    await seeder?.close();
    await db?.drop();
  });

  const q = <T = any>(sql: string, params: unknown[] = []): Promise<T[]> => seeder.dataSource.query(sql, params);
  const book = (child: ChildService, patientId: string, key: string) =>
    send(child.url, 'POST', '/v1/plans', {
      headers: { ...auth(s.keys.frontDesk), 'Idempotency-Key': key },
      body: { patientId, protocolId: s.protocolId },
      timeoutMs: 30_000,
    });

  /** One adjustment of a plan as a client makes it: read the ETag, then change with If-Match. */
  async function adjust(child: ChildService, planId: string, i: number): Promise<Adjustment | undefined> {
    const got = await send(child.url, 'GET', `/v1/plans/${planId}`, {
      headers: auth(s.keys.clinician),
      timeoutMs: 30_000,
    });
    if (got.kind !== 'response' || got.status !== 200) return undefined;
    const headers = { ...auth(s.keys.clinician), 'If-Match': got.headers.etag as string };
    const next = (got.body.sessions as { id: string; ref: string; status: string }[]).find(
      (x) => x.ref.startsWith('infusion#') && x.status === 'scheduled',
    );
    // Alternately: a new dose for every remaining infusion (many sessions in one change), or
    // skipping the next infusion and shifting what follows (a cancellation and a cascade of moves).
    const body =
      i % 2 === 0 || !next
        ? { type: 'change_dose', stepKey: 'infusion', amount: [0.3, 0.4, 0.6, 0.7][i % 4], reason: 'Titration' }
        : { type: 'skip', sessionId: next.id, shift: true, reason: 'Unwell' };
    const outcome = await send(child.url, 'POST', `/v1/plans/${planId}/adjustments`, {
      headers,
      body,
      timeoutMs: 30_000,
    });
    return { planId, type: body.type, outcome };
  }

  it('leaves no half-booked series, no half-applied adjustment and no lost or doubled outbox event; retried bookings end once', async () => {
    const first = await startChildService(db.url);

    const patients: string[] = [];
    for (let i = 0; i < 40; i += 10) {
      const made = await Promise.all(
        Array.from({ length: 10 }, (_, j) =>
          send(first.url, 'POST', '/v1/patients', {
            headers: auth(s.keys.clinician),
            body: makePatient({ fullName: `Crash ${i + j}` }),
          }),
        ),
      );
      for (const r of made) {
        expect(r).toMatchObject({ kind: 'response', status: 201 });
        patients.push((r as Response).body.id);
      }
    }
    // Plans to adjust, booked before the storm.
    const plans: string[] = [];
    for (const patientId of patients.splice(0, 6)) {
      const r = await book(first, patientId, `pre-${patientId}`);
      expect(r).toMatchObject({ kind: 'response', status: 201 });
      plans.push((r as Response).body.id);
    }

    // The storm: bookings (each with an Idempotency-Key) and adjustments, all at once.
    const bookings: Booking[] = [];
    const adjustments: Adjustment[] = [];
    let killed = false;
    let inFlight = 0;
    const track = async <T>(work: Promise<T>): Promise<T> => {
      inFlight++;
      try {
        return await work;
      } finally {
        inFlight--;
      }
    };
    const queue = [...patients];
    const booker = async () => {
      for (let patientId = queue.shift(); patientId && !killed; patientId = queue.shift()) {
        const key = `crash-${patientId}`;
        const outcome = await track(book(first, patientId, key));
        bookings.push({ patientId, key, outcome });
      }
    };
    const adjuster = async (w: number) => {
      for (let i = w; !killed; i += 3) {
        const a = await track(adjust(first, plans[i % plans.length], i));
        if (a) adjustments.push(a);
        else if (killed) break;
      }
    };
    const workers = [booker(), booker(), booker(), booker(), adjuster(0), adjuster(1), adjuster(2)];

    const ok = (o: Outcome) => o.kind === 'response' && o.status < 300;
    const until = Date.now() + 30_000;
    // Kill once a few of each have succeeded, with the rest still coming.
    while (bookings.filter((b) => ok(b.outcome)).length < 5 || adjustments.filter((a) => ok(a.outcome)).length < 5) {
      if (Date.now() > until || queue.length === 0) break;
      await sleep(5);
    }
    const inFlightAtKill = inFlight;
    first.kill('SIGKILL');
    killed = true;
    expect(await first.exited).toBe('SIGKILL');
    await Promise.all(workers);
    console.info(
      `SIGKILL with ${inFlightAtKill} requests in flight — bookings: ${tally(bookings.map((b) => b.outcome))}; change_dose: ${tally(adjustments.filter((a) => a.type === 'change_dose').map((a) => a.outcome))}; ` +
        `skip: ${tally(adjustments.filter((a) => a.type === 'skip').map((a) => a.outcome))}`,
    );
    expect(bookings.filter((b) => ok(b.outcome)).length).toBeGreaterThanOrEqual(5);
    expect(adjustments.filter((a) => ok(a.outcome)).length).toBeGreaterThanOrEqual(5);
    expect(inFlightAtKill).toBeGreaterThan(0);
    // Up to the kill, every answer was one the contract allows; after it, only broken connections.
    const answers = [...bookings.map((b) => b.outcome), ...adjustments.map((a) => a.outcome)];
    for (const o of answers) {
      if (o.kind === 'response') expect([200, 201, 409, 412, 422]).toContain(o.status);
      else expect(o.kind).toBe('error');
    }
    const cut = answers.filter((o) => o.kind === 'error');
    expect(cut.length).toBeGreaterThan(0);

    // The dead process's connections end (the server rolls back whatever they had open).
    await quiesce(seeder.dataSource);

    // Nothing acknowledged is lost.
    for (const b of bookings.filter((x) => ok(x.outcome))) {
      const [{ n }] = await q(`SELECT count(*)::int AS n FROM sessions WHERE plan_id = $1`, [
        (b.outcome as Response).body.id,
      ]);
      expect(n).toBe(SERIES_LENGTH);
    }
    for (const a of adjustments.filter((x) => ok(x.outcome))) {
      const { planVersion, changes } = (a.outcome as Response).body;
      const rows = await q(
        `SELECT type, jsonb_array_length(changes) AS n FROM plan_adjustments WHERE plan_id = $1 AND plan_version = $2`,
        [a.planId, planVersion],
      );
      expect(rows).toEqual([{ type: a.type, n: changes.length }]);
    }
    // Nothing half-done: whole series, each adjustment entirely or not at all, the outbox exact.
    expect(await allProblems(seeder.dataSource, s.keys.clinicId, SERIES_LENGTH)).toEqual([]);
    const committedBefore = new Map(
      (
        await q<{ patient_id: string; id: string }>(`SELECT patient_id, id FROM plans WHERE clinic_id = $1`, [
          s.keys.clinicId,
        ])
      ).map((r) => [r.patient_id, r.id]),
    );

    // A new process on the same database serves at once.
    const second = await startChildService(db.url);

    // The front desk retries every booking it got no answer for, with the same key: a series that
    // committed before the kill comes back as the stored answer; one that did not is booked now.
    const unanswered = bookings.filter((b) => b.outcome.kind === 'error');
    const retries = await Promise.all(
      unanswered.map(async (b) => ({ ...b, retry: await book(second, b.patientId, b.key) })),
    );
    for (const r of retries) {
      expect(r.retry).toMatchObject({ kind: 'response' });
      const res = r.retry as Response;
      const before = committedBefore.get(r.patientId);
      if (before) {
        expect({ status: res.status, replayed: res.headers['idempotent-replayed'], id: res.body.id }).toEqual({
          status: 201,
          replayed: 'true',
          id: before,
        });
      } else {
        expect([201, 409, 422]).toContain(res.status);
        if (res.status === 201) expect(res.headers['idempotent-replayed']).toBeUndefined();
      }
    }
    console.info(
      `after the restart: retried ${unanswered.length} unanswered bookings: ${tally(retries.map((r) => r.retry))} (${retries.filter((r) => committedBefore.has(r.patientId)).length} had committed before the kill)`,
    );
    // One series per patient at most, and it is the one the answers named.
    for (const b of bookings) {
      const rows = await q<{ id: string }>(`SELECT id FROM plans WHERE patient_id = $1`, [b.patientId]);
      const named = [b.outcome, ...retries.filter((r) => r.patientId === b.patientId).map((r) => r.retry)]
        .filter(ok)
        .map((o) => (o as Response).body.id);
      expect(rows.length).toBeLessThanOrEqual(1);
      expect(rows.map((r) => r.id)).toEqual([...new Set(named)]);
    }

    // The restarted service reads and adjusts the plans the dead one left.
    for (const planId of plans.slice(0, 2)) {
      const a = await adjust(second, planId, 0);
      expect(a && label(a.outcome)).toBe('200');
    }
    await quiesce(seeder.dataSource);
    expect(await allProblems(seeder.dataSource, s.keys.clinicId, SERIES_LENGTH)).toEqual([]);
  });
});
