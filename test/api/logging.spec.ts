import request from 'supertest';
import { persistClinicWithKeys, type ClinicKeys } from '../factories/clinic.factory.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';
import { logSink } from '../support/log-sink.js';

// Structured request logs, with ids, and nothing about patients in them.
describe('request logs', () => {
  let t: TestApp;
  let keys: ClinicKeys;
  const { lines, sink } = logSink();

  beforeAll(async () => {
    t = await startTestApp({ logLevel: 'info', logDestination: sink });
    keys = await persistClinicWithKeys(t.app);
  });
  afterAll(() => t.close());

  it('logs one JSON line per request with its id, and no patient data, keys or bodies', async () => {
    const name = 'Quentin Zebulon-Marlowe';
    const created = await request(t.http)
      .post('/v1/patients')
      .set(bearer(keys.frontDesk))
      .set('x-request-id', 'log-test-1')
      .send({ fullName: name, dateOfBirth: '1970-02-03', email: 'qzm@example.org', notes: 'prefers mornings' })
      .expect(201);
    await request(t.http)
      .get(`/v1/patients?q=${encodeURIComponent(name)}`)
      .set(bearer(keys.frontDesk))
      .expect(200);
    await request(t.http).get(`/v1/patients/${created.body.id}`).set(bearer(keys.clinician)).expect(200);
    await request(t.http)
      .patch(`/v1/patients/${created.body.id}`)
      .set(bearer(keys.clinician))
      .send({ fullName: name, weightKg: 'heavy' })
      .expect(400);
    await request(t.http)
      .post('/v1/patients')
      .set(bearer(keys.frontDesk))
      .set('Content-Type', 'application/json')
      .send(`{"fullName":"${name}",`)
      .expect(400);

    await new Promise((r) => setTimeout(r, 50)); // pino writes asynchronously
    const requests = lines.map((l) => JSON.parse(l)).filter((l) => l.req);
    expect(requests.length).toBeGreaterThanOrEqual(5);
    // Our own id names the line; the caller's stands beside it.
    const first = requests.find((l) => l.req.clientRequestId === 'log-test-1');
    expect(first).toMatchObject({
      req: { id: created.headers['x-request-id'], method: 'POST', url: '/v1/patients' },
      res: { statusCode: 201 },
    });
    expect(requests.some((l) => l.req.url === '/v1/patients' && l.req.method === 'GET')).toBe(true);

    const all = lines.join('\n');
    for (const secret of [
      name,
      'Zebulon',
      'qzm@example.org',
      '1970-02-03',
      'prefers mornings',
      'heavy',
      keys.frontDesk,
      keys.clinician,
      'Bearer',
    ]) {
      expect({ secret, found: all.includes(secret) }).toEqual({ secret, found: false });
    }
  });
});
