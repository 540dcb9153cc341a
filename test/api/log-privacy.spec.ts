import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { DEMO_PATIENTS, seedDemo } from '../../src/seed/demo-seed.js';
import { WebhookDeliveryWorker } from '../../src/webhooks/webhook-delivery.worker.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';
import { logSink } from '../support/log-sink.js';

// ---------------------------------------------------------------------------------------------
// No patient data and no secret in any log line: the demo clinic is walked through the whole
// API at debug level (patients, search, booking, adjustments, the session lifecycle,
// observations, the day sheet, sync, calendar feeds, webhooks with a live receiver, the audit
// trail, and failing requests that carry patient data in their bodies and query strings), then
// every captured line is searched for the demo patients' names, birth dates and phone numbers,
// and for every API key, feed token and webhook secret handed out.
// ---------------------------------------------------------------------------------------------

type Json = Record<string, any>;

describe('log privacy over a full API walk-through', () => {
  let t: TestApp;
  let keys: Record<string, string>;
  let receiver: http.Server;
  let receiverUrl: string;
  const received: string[] = [];
  const { lines, sink } = logSink();
  const secrets: string[] = [];

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(body);
        res.writeHead(received.length % 2 === 0 ? 500 : 204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    // pollMs 0: the test drives delivery itself; retries come at once.
    t = await startTestApp({
      logLevel: 'info',
      logDestination: sink,
      webhooks: { pollMs: 0, retryDelaysSeconds: [0, 0] },
    });
    const seeded = await seedDemo(t.app, mkdtempSync(path.join(os.tmpdir(), 'chairside-logs-')));
    keys = Object.fromEntries(
      readFileSync(seeded.keysFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.replace(/^export /, '').split('=') as [string, string]),
    );
    secrets.push(
      keys.CHAIRSIDE_OPERATOR_KEY,
      keys.CHAIRSIDE_ADMIN_KEY,
      keys.CHAIRSIDE_CLINICIAN_KEY,
      keys.CHAIRSIDE_FRONT_DESK_KEY,
    );
  });
  afterAll(async () => {
    await t.close();
    await new Promise((r) => receiver.close(r));
  });

  it('walks the API and finds no patient field, key, token or secret in any log line', async () => {
    const api = () => request(t.http);
    const fd = bearer(keys.CHAIRSIDE_FRONT_DESK_KEY);
    const cl = bearer(keys.CHAIRSIDE_CLINICIAN_KEY);
    const ad = bearer(keys.CHAIRSIDE_ADMIN_KEY);
    const clinicId = keys.CHAIRSIDE_CLINIC_ID;

    const hook = await api()
      .post('/v1/webhooks')
      .set(ad)
      .send({
        url: receiverUrl,
        eventTypes: ['session.created', 'session.updated', 'session.cancelled', 'plan.booked', 'plan.adjusted'],
      })
      .expect(201);
    secrets.push(hook.body.secret);
    const apiKey = await api()
      .post('/v1/api-keys')
      .set(ad)
      .send({ name: 'Integration', role: 'front_desk' })
      .expect(201);
    secrets.push(apiKey.body.key);

    for (const p of DEMO_PATIENTS) {
      await api().get('/v1/patients').query({ q: p.fullName }).set(fd).expect(200);
    }
    const patients = (await api().get('/v1/patients').set(fd).expect(200)).body.items as Json[];
    const jordan = patients.find((p) => p.fullName === DEMO_PATIENTS[0].fullName)!;
    await api().get(`/v1/patients/${jordan.id}`).set(cl).expect(200);
    await api()
      .patch(`/v1/patients/${jordan.id}`)
      .set(fd)
      .send({ notes: `${DEMO_PATIENTS[0].fullName} prefers the window chair` })
      .expect(200);
    const newcomer = await api()
      .post('/v1/patients')
      .set(cl)
      .send({ fullName: 'Quinn Logsworth', dateOfBirth: '1969-06-18', phone: '+1 954 555 0999', weightKg: 70 })
      .expect(201);
    const planRes = await api()
      .post('/v1/plans')
      .set(fd)
      .set('Idempotency-Key', 'walk-1')
      .send({ patientId: newcomer.body.id, protocolId: keys.CHAIRSIDE_PROTOCOL_ID })
      .expect(201);
    const plan = planRes.body as Json;
    // Jordan is in the seeded series already: a second one is a clinician's to ask for.
    await api()
      .post('/v1/plans/preview')
      .set(cl)
      .send({ patientId: jordan.id, protocolId: keys.CHAIRSIDE_PROTOCOL_ID, allowConcurrentSeries: true })
      .expect(200);
    await api().get(`/v1/plans/${plan.id}`).set(fd).expect(200);
    await api().get(`/v1/patients/${newcomer.body.id}/plans`).set(fd).expect(200);

    const [first, second] = plan.sessions as Json[];
    await api().post(`/v1/sessions/${first.id}/check-in`).set(fd).expect(200);
    await api()
      .post(`/v1/sessions/${first.id}/complete`)
      .set(cl)
      .send({})
      .expect((r) => expect([200, 400]).toContain(r.status));
    await api()
      .post(`/v1/sessions/${first.id}/observations`)
      .set(cl)
      .send({ craving: 6, note: 'Quinn Logsworth reports poor sleep' })
      .expect(201);
    await api().get(`/v1/plans/${plan.id}/observations`).set(cl).expect(200);
    const etag = (await api().get(`/v1/plans/${plan.id}`).set(fd)).headers.etag as string;
    await api()
      .post(`/v1/plans/${plan.id}/adjustments`)
      .set(cl)
      .set('If-Match', etag)
      .send({ type: 'cancel_remaining', reason: 'Quinn Logsworth moved away' })
      .expect(200);
    await api()
      .post(`/v1/sessions/${second.id}/cancel`)
      .set(fd)
      .send({ reason: 'Quinn Logsworth has the flu' })
      .expect((r) => expect([200, 409]).toContain(r.status));
    await api().get('/v1/sessions').query({ clinicId, from: '2026-11-25', to: '2026-12-20' }).set(fd).expect(200);
    await api().get('/v1/sync/sessions').set(fd).expect(200);
    await api()
      .get(`/v1/clinics/${clinicId}/availability`)
      .query({ from: '2026-11-30', to: '2026-12-05', durationMinutes: 60 })
      .set(fd)
      .expect(200);
    await api().get('/v1/audit').query({ patientId: jordan.id }).set(ad).expect(200);

    for (const body of [{ scope: 'patient', patientId: jordan.id }, { scope: 'clinic' }]) {
      const feed = await api().post('/v1/calendar/feeds').set(fd).send(body).expect(201);
      secrets.push(feed.body.token);
      const path = new URL(feed.body.url).pathname;
      await api().get(path).expect(200);
      await api().head(path).expect(200);
      await api().get(`${path}/`).expect(200); // Express routes a trailing slash too: still redacted
    }

    // Failing requests that carry patient data.
    await api()
      .post('/v1/patients')
      .set(fd)
      .send({ fullName: 'Quinn Logsworth', dateOfBirth: '1969-02-30' })
      .expect(400);
    await api()
      .post('/v1/patients')
      .set(fd)
      .set('Content-Type', 'application/json')
      .send(`{"fullName":"${DEMO_PATIENTS[1].fullName}",`)
      .expect(400);
    await api().get('/v1/patients').query({ q: DEMO_PATIENTS[2].fullName, limit: 'many' }).set(fd).expect(400);
    await api().get('/v1/calendar/feeds/cfd_not-a-real-token-but-looks-secret.ics').expect(404);
    await api().get('/v1/patients').set(bearer('cs_wrong-key-also-secret')).expect(401);

    const worker = t.app.get(WebhookDeliveryWorker);
    for (let i = 0; i < 5 && (await worker.runOnce(200)) > 0; i++);
    expect(received.length).toBeGreaterThan(0);

    await new Promise((r) => setTimeout(r, 100)); // pino writes asynchronously
    expect(lines.length).toBeGreaterThan(40);
    const all = lines.join('\n');
    const forbidden = [
      ...DEMO_PATIENTS.flatMap((p) => [p.fullName, p.dateOfBirth, p.phone, ...p.fullName.split(' ')]),
      'Quinn Logsworth',
      'Logsworth',
      '1969-06-18',
      '1969-02-30',
      '+1 954 555 0999',
      'poor sleep',
      'moved away',
      'the flu',
      'cfd_not-a-real-token-but-looks-secret',
      'cs_wrong-key-also-secret',
      ...secrets,
    ];
    const found = forbidden.filter((s) => all.includes(s) || all.includes(encodeURIComponent(s)));
    expect(found).toEqual([]);
    // Webhook payloads (sent to the receiver) carry no patient data either.
    expect(forbidden.filter((s) => received.join('\n').includes(s))).toEqual([]);
  });
});
