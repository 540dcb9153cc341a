import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { logSink } from '../support/log-sink.js';

// ---------------------------------------------------------------------------------------------
// Issue 14, item 4: a start says nothing alarming (no "Unsupported route path" from Nest's
// legacy route converter), and one request is one log line (/health was logged twice).
// ---------------------------------------------------------------------------------------------

describe('start-up and request logs', () => {
  let t: TestApp;
  const { lines, sink } = logSink();

  beforeAll(async () => {
    t = await startTestApp({ logLevel: 'info', logDestination: sink });
  });
  afterAll(() => t?.close());

  it('starts without a route-path warning', () => {
    expect(lines.filter((l) => /Unsupported route path|LegacyRouteConverter/.test(l))).toEqual([]);
    expect(lines.filter((l) => /"level":(40|50|60)/.test(l))).toEqual([]);
  });

  it('logs each request once: /health, an API call, a 404', async () => {
    await request(t.http).get('/health').set('x-request-id', 'health-once').expect(200);
    await request(t.http).get('/v1/clinics').set('x-request-id', 'api-once').expect(401);
    await request(t.http).get('/v1/nowhere').set('x-request-id', 'missing-once').expect(404);
    await new Promise((r) => setTimeout(r, 50)); // pino writes asynchronously
    // The log's req.id is the service's own; the caller's X-Request-Id is kept beside it.
    const requests = lines
      .map((l) => JSON.parse(l) as { req?: { id: string; clientRequestId?: string; url: string } })
      .filter((l) => l.req);
    for (const id of ['health-once', 'api-once', 'missing-once']) {
      expect({ id, lines: requests.filter((l) => l.req!.clientRequestId === id).length }).toEqual({ id, lines: 1 });
    }
  });
});
