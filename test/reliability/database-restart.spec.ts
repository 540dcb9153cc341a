import { Writable } from 'node:stream';
import { bookPlan, newPatient, setupClinic, type ClinicSetup } from '../factories/series.factory.js';
import { startOwnCluster, type OwnCluster } from '../support/own-cluster.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { addWebhookEndpoint, allProblems } from './support/invariants.js';
import { auth, label, listen, send, sleep, tally, type Outcome } from './support/http-client.js';

// ---------------------------------------------------------------------------------------------
// Issue 9, item 4: the database server stops and starts again while requests are in flight. The
// service answers 503 problem+json meanwhile (never a 500, never a hang), /health says the
// database is down, and it serves again by itself once the database is back — without being
// restarted — with nothing half-written. Its connections carry statement, lock and
// idle-in-transaction timeouts.
// ---------------------------------------------------------------------------------------------

const SERIES_LENGTH = 15;
type Phase = 'before' | 'stopping' | 'down' | 'starting' | 'after';
type Op = 'book' | 'adjust' | 'read';
interface Sent {
  op: Op;
  from: Phase;
  to: Phase;
  outcome: Outcome;
  /** plan id (adjust) */
  subject?: string;
}

// A database server of its own, so that this file can stop and restart it.
describe('the database restarted under load', () => {
  let cluster: OwnCluster;
  let t: TestApp;
  let url: string;
  let s: ClinicSetup;
  const unhandled: string[] = [];

  beforeAll(async () => {
    cluster = await startOwnCluster('restart');
    const databaseUrl = cluster.url;
    // The service's own account of any 500 (type and stack, no patient data), for the failure message.
    const logDestination = new Writable({
      write(chunk, _encoding, done) {
        const line = String(chunk);
        if (line.includes('"msg":"unhandled error"')) unhandled.push(line.slice(0, 2000));
        done();
      },
    });
    t = await startTestApp({ databaseUrl, logLevel: 'info', logDestination });
    url = await listen(t);
    s = await setupClinic(t.app, t.http, 'Restart clinic', { chairs: 3, nurseMax: 3 });
    await addWebhookEndpoint(t.dataSource, s.keys.clinicId);
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await cluster?.remove();
  });

  it('answers 503 problem+json while it is down, reports it on /health, recovers by itself, and writes nothing by halves', async () => {
    const plans: string[] = [];
    for (let i = 0; i < 4; i++) plans.push((await bookPlan(t.http, s)).id as string);
    const patients = await Promise.all(
      Array.from({ length: 40 }, (_, i) => newPatient(t.http, s, { fullName: `Under load ${i}` })),
    );

    let phase: Phase = 'before';
    let running = true;
    let inFlight = 0;
    const records: Sent[] = [];
    const timed = async (op: Op, run: () => Promise<Outcome>, subject?: string): Promise<Outcome> => {
      const from = phase;
      inFlight++;
      const outcome = await run();
      inFlight--;
      records.push({ op, from, to: phase, outcome, subject });
      return outcome;
    };
    // Every request is given 10 s: a hang shows up as a timeout, not as a stuck test.
    const TIMEOUT = 10_000;
    const worker = async (w: number) => {
      for (let i = 0; running; i++) {
        const op: Op = (['book', 'adjust', 'read'] as const)[(w + i) % 3];
        if (op === 'book') {
          const patientId = patients.shift();
          if (!patientId) continue;
          const o = await timed('book', () =>
            send(url, 'POST', '/v1/plans', {
              headers: auth(s.keys.frontDesk),
              body: { patientId, protocolId: s.protocolId },
              timeoutMs: TIMEOUT,
            }),
          );
          // The front desk tries again later for a patient the service could not book just now.
          if (o.kind === 'response' && o.status === 503) patients.push(patientId);
        } else if (op === 'adjust') {
          const planId = plans[(w + i) % plans.length];
          const got = await timed('read', () =>
            send(url, 'GET', `/v1/plans/${planId}`, { headers: auth(s.keys.clinician), timeoutMs: TIMEOUT }),
          );
          if (got.kind === 'response' && got.status === 200) {
            const amount = Math.round((0.2 + ((w * 7 + i) % 7) / 10) * 100) / 100;
            await timed(
              'adjust',
              () =>
                send(url, 'POST', `/v1/plans/${planId}/adjustments`, {
                  headers: { ...auth(s.keys.clinician), 'If-Match': got.headers.etag as string },
                  body: { type: 'change_dose', stepKey: 'infusion', amount, reason: 'Titration' },
                  timeoutMs: TIMEOUT,
                }),
              planId,
            );
          }
        } else {
          await timed('read', () =>
            send(url, 'GET', `/v1/clinics/${s.keys.clinicId}`, { headers: auth(s.keys.admin), timeoutMs: TIMEOUT }),
          );
        }
        await sleep(10);
      }
    };
    const ok = (r: Sent) => r.outcome.kind === 'response' && r.outcome.status < 300;
    const waitFor = async (what: string, cond: () => boolean | Promise<boolean>, withinMs: number) => {
      const until = Date.now() + withinMs;
      while (!(await cond())) {
        if (Date.now() > until) {
          console.log(
            records
              .filter((r) => r.op !== 'read' || (r.outcome.kind === 'response' && r.outcome.status >= 500))
              .map(
                (r) =>
                  `${r.op} ${r.from}->${r.to} ${label(r.outcome)} ${r.outcome.ms}ms ${r.outcome.kind === 'response' && r.outcome.status === 500 ? JSON.stringify(r.outcome.body) : ''}`,
              )
              .join('\n'),
          );
          throw new Error(`gave up waiting for ${what} after ${withinMs} ms: ${tally(records.map((r) => r.outcome))}`);
        }
        await sleep(20);
      }
    };

    const workers = [0, 1, 2, 3].map(worker);
    try {
      await waitFor(
        'successes before the stop',
        () => records.filter((r) => ok(r) && r.op !== 'read').length >= 4,
        20_000,
      );

      // Stop the server (fast shutdown: it ends every session) with requests in flight.
      phase = 'stopping';
      const inFlightAtStop = inFlight;
      await cluster.stop();
      phase = 'down';
      const downSince = Date.now();

      const health = await send(url, 'GET', '/health', { timeoutMs: TIMEOUT });
      expect(health).toMatchObject({
        kind: 'response',
        status: 503,
        headers: { 'content-type': expect.stringMatching(/^application\/problem\+json/) },
      });
      expect((health as Extract<Outcome, { kind: 'response' }>).body).toMatchObject({
        status: 503,
        code: 'DATABASE_UNAVAILABLE',
        checks: { database: { status: 'down' } },
      });
      await waitFor(
        'load while down',
        () =>
          records.filter((r) => r.from === 'down' && r.to === 'down').length >= 20 && Date.now() - downSince >= 1000,
        10_000,
      );

      // The same server comes back on the same port; the service is not touched.
      phase = 'starting';
      await cluster.start();
      phase = 'after';
      const backSince = Date.now();
      await waitFor(
        '/health to say 200',
        async () => {
          const h = await send(url, 'GET', '/health', { timeoutMs: TIMEOUT });
          return h.kind === 'response' && h.status === 200;
        },
        15_000,
      );
      const recoveredMs = Date.now() - backSince;
      await waitFor(
        'a booking and an adjustment after the restart',
        () => ['book', 'adjust'].every((op) => records.some((r) => r.op === op && r.from === 'after' && ok(r))),
        20_000,
      );
      running = false;
      await Promise.all(workers);

      const during = (p: Phase) => records.filter((r) => r.from === p || r.to === p);
      console.info(
        `database restart: ${inFlightAtStop} requests in flight at the stop; back after ${recoveredMs} ms — ` +
          `before: ${tally(records.filter((r) => r.to === 'before').map((r) => r.outcome))}; ` +
          `around the stop: ${tally(during('stopping').map((r) => r.outcome))}; down: ${tally(records.filter((r) => r.from === 'down' && r.to === 'down').map((r) => r.outcome))}; ` +
          `after: ${tally(records.filter((r) => r.from === 'after').map((r) => r.outcome))}`,
      );
      expect(inFlightAtStop).toBeGreaterThan(0);

      // Every request was answered (no hang, no dropped connection), and only as the contract allows.
      const allowed = [200, 201, 409, 412, 422, 503];
      const bad = records
        .filter((r) => r.outcome.kind !== 'response' || !allowed.includes(r.outcome.status))
        .map((r) => `${r.op} (${r.from}→${r.to}): ${label(r.outcome)}`);
      expect({ bad, unhandled }).toEqual({ bad: [], unhandled: [] });
      for (const r of records) {
        const o = r.outcome as Extract<Outcome, { kind: 'response' }>;
        if (o.status === 503) {
          expect(o.headers['content-type']).toMatch(/^application\/problem\+json/);
          expect(o.body).toMatchObject({ status: 503, code: 'DATABASE_UNAVAILABLE' });
          expect(JSON.stringify(o.body)).not.toMatch(/ECONN|127\.0\.0\.1|stack|terminat/i);
        }
      }
      // While the server was down, everything was 503.
      expect(new Set(records.filter((r) => r.from === 'down' && r.to === 'down').map((r) => label(r.outcome)))).toEqual(
        new Set(['503 DATABASE_UNAVAILABLE']),
      );

      // Nothing acknowledged was lost: every booked plan and every adjustment answered 200 is there.
      for (const r of records.filter((x) => ok(x) && x.op === 'book')) {
        const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM sessions WHERE plan_id = $1`, [
          (r.outcome as { body: { id: string } }).body.id,
        ]);
        expect(n).toBe(SERIES_LENGTH);
      }
      for (const r of records.filter((x) => ok(x) && x.op === 'adjust')) {
        const { planVersion } = (r.outcome as { body: { planVersion: number } }).body;
        const [{ n }] = await t.dataSource.query(
          `SELECT count(*)::int AS n FROM plan_adjustments WHERE plan_id = $1 AND plan_version = $2 AND type = 'change_dose'`,
          [r.subject, planVersion],
        );
        expect(n).toBe(1);
      }
      // Nothing half-written: whole series, and change log, adjustment log and outbox agree.
      expect(await allProblems(t.dataSource, s.keys.clinicId, SERIES_LENGTH)).toEqual([]);

      // The connections made after the restart carry the server-side timeouts too (several at once,
      // so that more than one pooled connection answers).
      const settings = await Promise.all(
        Array.from({ length: 4 }, () =>
          t.dataSource.transaction(async (m) => {
            const [row] = await m.query(
              `SELECT current_setting('statement_timeout') AS statement, current_setting('idle_in_transaction_session_timeout') AS idle_in_transaction,
                      current_setting('lock_timeout') AS lock, pg_backend_pid() AS pid, pg_sleep(0.05)::text AS _`,
            );
            return row as { statement: string; idle_in_transaction: string; lock: string; pid: number };
          }),
        ),
      );
      expect(new Set(settings.map((x) => x.pid)).size).toBeGreaterThan(1);
      for (const x of settings)
        expect({ statement: x.statement, idle_in_transaction: x.idle_in_transaction, lock: x.lock }).toEqual({
          statement: '15s',
          idle_in_transaction: '15s',
          lock: '10s',
        });
    } finally {
      running = false;
      await Promise.all(workers);
    }
  });
});
