import { randomUUID } from 'node:crypto';
import { newPatient, setupClinic, type ClinicSetup } from '../factories/series.factory.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { addWebhookEndpoint, allProblems } from './support/invariants.js';
import { auth, listen, quiesce, send, sleep, tally, type Outcome } from './support/http-client.js';

// ---------------------------------------------------------------------------------------------
// Issue 9, item 5: a client that gives up on a booking and sends it again with the same
// Idempotency-Key ends with exactly one series — whichever instance of the service each attempt
// reaches, and whether the abandoned attempt had committed, was still running, or never started.
// ---------------------------------------------------------------------------------------------

const SERIES_LENGTH = 15;

describe('retried bookings with one Idempotency-Key (two instances, one database)', () => {
  let a: TestApp;
  let b: TestApp;
  let urls: string[];
  let s: ClinicSetup;

  beforeAll(async () => {
    a = await startTestApp();
    b = await startTestApp({ databaseUrl: a.databaseUrl });
    urls = [await listen(a), await listen(b)];
    s = await setupClinic(a.app, a.http, 'Retry clinic', { chairs: 3, nurseMax: 3 });
    await addWebhookEndpoint(a.dataSource, s.keys.clinicId);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const plansOf = async (patientId: string): Promise<{ id: string; n: number }[]> =>
    a.dataSource.query(
      `SELECT p.id, (SELECT count(*)::int FROM sessions x WHERE x.clinic_id = p.clinic_id AND x.plan_id = p.id) AS n FROM plans p WHERE p.patient_id = $1`,
      [patientId],
    );

  it('gives up 5 ms after sending, retries on the other instance with more patience until answered: one series, and the answer names it', async () => {
    const patients = await Promise.all(
      Array.from({ length: 8 }, (_, i) => newPatient(a.http, s, { fullName: `Retrying ${i}` })),
    );

    const client = async (patientId: string) => {
      const key = `retry-${randomUUID()}`;
      const body = { patientId, protocolId: s.protocolId };
      const attempts: Outcome[] = [];
      const deadline = Date.now() + 30_000;
      for (let i = 0; Date.now() < deadline; i++) {
        // 5 ms, then 20, 80, 320, 1280, 5000 ms; alternating instances as a load balancer would.
        const timeoutMs = Math.min(5 * 4 ** i, 5000);
        const o = await send(urls[i % 2], 'POST', '/v1/plans', {
          headers: { ...auth(s.keys.frontDesk), 'Idempotency-Key': key },
          body,
          timeoutMs,
        });
        attempts.push(o);
        // 409 IDEMPOTENCY_IN_FLIGHT: an earlier attempt is still running. 409 SLOT_TAKEN: other
        // patients' bookings took the times twice over; nothing was stored for the key, so the client
        // asks again, with the same key.
        if (
          o.kind === 'response' &&
          !(o.status === 409 && ['IDEMPOTENCY_IN_FLIGHT', 'SLOT_TAKEN'].includes(o.body.code))
        )
          break;
        await sleep(10 * (i + 1));
      }
      return { patientId, key, attempts, final: attempts.at(-1)! };
    };
    const results = await Promise.all(patients.map(client));
    await quiesce(a.dataSource);

    for (const r of results) {
      // The booking takes far longer than 5 ms: the first attempt was always abandoned.
      expect(r.attempts[0].kind).toBe('timeout');
      // Every attempt before the last was abandoned or a 409 to try again (never a 5xx or a 422).
      for (const o of r.attempts.slice(0, -1)) {
        if (o.kind === 'response')
          expect({ status: o.status, code: o.body.code }).toEqual({
            status: 409,
            code: expect.stringMatching(/^(IDEMPOTENCY_IN_FLIGHT|SLOT_TAKEN)$/),
          });
        else expect(o.kind).toBe('timeout');
      }
      expect(r.final).toMatchObject({ kind: 'response', status: 201, body: {} });
      if (r.final.kind !== 'response') continue;
      expect(r.final.body.sessions).toHaveLength(SERIES_LENGTH);
      // Exactly one series for the patient, and it is the one the answer names.
      expect(await plansOf(r.patientId)).toEqual([{ id: r.final.body.id, n: SERIES_LENGTH }]);
      const stored = await a.dataSource.query(
        `SELECT response->>'id' AS id FROM idempotency_keys WHERE clinic_id = $1 AND key = $2`,
        [s.keys.clinicId, r.key],
      );
      expect(stored).toEqual([{ id: r.final.body.id }]);
      const sessionIds = (await a.dataSource.query(`SELECT id FROM sessions WHERE plan_id = $1`, [r.final.body.id]))
        .map((x: { id: string }) => x.id)
        .sort();
      expect(r.final.body.sessions.map((x: { id: string }) => x.id).sort()).toEqual(sessionIds);
    }
    // At least one abandoned attempt had committed by the time its retry came: that retry got the
    // stored answer (Idempotent-Replayed), not a second booking.
    const replays = results.filter(
      (r) => r.final.kind === 'response' && r.final.headers['idempotent-replayed'] === 'true',
    );
    expect(replays.length).toBeGreaterThan(0);
    console.info(
      `retrying clients: ${results.map((r) => r.attempts.length).join(', ')} attempts; ${replays.length} of ${results.length} ended in a replay; all: ${tally(results.flatMap((r) => r.attempts))}`,
    );

    expect(await allProblems(a.dataSource, s.keys.clinicId, SERIES_LENGTH)).toEqual([]);
  });

  it('the same request twice at once, one per instance: one books, the other is 409 IDEMPOTENCY_IN_FLIGHT or the replay; one series', async () => {
    const seen: string[] = [];
    for (let round = 0; round < 6; round++) {
      const patientId = await newPatient(a.http, s, { fullName: `Doubled ${round}` });
      const key = `double-${randomUUID()}`;
      const body = { patientId, protocolId: s.protocolId };
      const both = await Promise.all(
        urls.map((u) =>
          send(u, 'POST', '/v1/plans', {
            headers: { ...auth(s.keys.frontDesk), 'Idempotency-Key': key },
            body,
            timeoutMs: 20_000,
          }),
        ),
      );
      const responses = both.filter((o): o is Extract<Outcome, { kind: 'response' }> => o.kind === 'response');
      expect(responses).toHaveLength(2);
      const originals = responses.filter((o) => o.status === 201 && o.headers['idempotent-replayed'] === undefined);
      expect(originals).toHaveLength(1);
      const other = responses.find((o) => o !== originals[0])!;
      if (other.status === 201) {
        expect(other.headers['idempotent-replayed']).toBe('true');
        expect(other.body).toEqual(originals[0].body);
      } else {
        expect({ status: other.status, code: other.body.code, type: other.headers['content-type'] }).toEqual({
          status: 409,
          code: 'IDEMPOTENCY_IN_FLIGHT',
          type: expect.stringMatching(/^application\/problem\+json/),
        });
      }
      seen.push(other.status === 201 ? 'replay' : '409');
      expect(await plansOf(patientId)).toEqual([{ id: originals[0].body.id, n: SERIES_LENGTH }]);
      // A later retry, on either instance, replays the one booking.
      const retry = await send(urls[round % 2], 'POST', '/v1/plans', {
        headers: { ...auth(s.keys.frontDesk), 'Idempotency-Key': key },
        body,
      });
      expect(retry).toMatchObject({
        kind: 'response',
        status: 201,
        headers: { 'idempotent-replayed': 'true' },
        body: originals[0].body,
      });
    }
    console.info(`same key at once on two instances: the second request got ${seen.join(', ')}`);
    expect(await allProblems(a.dataSource, s.keys.clinicId, SERIES_LENGTH)).toEqual([]);
  });
});
