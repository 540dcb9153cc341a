import net, { type AddressInfo } from 'node:net';
import request from 'supertest';
import { persistClinicWithKeys, type ClinicKeys } from '../factories/clinic.factory.js';
import { expectProblem } from '../support/problem.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// ---------------------------------------------------------------------------------------------
// Hardening: security headers (helmet) on every answer, and the per-key rate limit
// (rate-limiter-flexible): 429 problem+json with Retry-After, one budget per key across all routes.
// ---------------------------------------------------------------------------------------------

describe('security headers', () => {
  let t: TestApp;
  let keys: ClinicKeys;
  beforeAll(async () => {
    t = await startTestApp();
    keys = await persistClinicWithKeys(t.app);
  });
  afterAll(() => t.close());

  it.each([
    ['GET', '/health', 200],
    ['GET', '/v1/patients', 401],
    ['GET', '/v1/no-such-route', 404],
  ])('%s %s (%d) carries helmet headers and no X-Powered-By', async (_m, path, status) => {
    const res = await request(t.http).get(path);
    expect(res.status).toBe(status);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(res.headers['content-security-policy']).not.toMatch(/upgrade-insecure-requests/);
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('the OpenAPI UI still loads its scripts from the same origin (allowed by the CSP)', async () => {
    const res = await request(t.http).get('/docs/');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/<script src="\.\/swagger-ui-bundle\.js"/);
    expect(res.text).not.toMatch(/<script>[^<]+<\/script>/); // no inline script the CSP would block
  });

  it('a body over 1 MB is refused with 413 problem+json and nothing written', async () => {
    const before = await t.dataSource.query('SELECT count(*)::int AS n FROM patients');
    const res = await request(t.http)
      .post('/v1/patients')
      .set(bearer(keys.frontDesk))
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ fullName: 'x'.repeat(1_100_000), dateOfBirth: '1980-01-01' }));
    expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
    expect(await t.dataSource.query('SELECT count(*)::int AS n FROM patients')).toEqual(before);
  });
});

describe('requests Node refuses before any handler', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await new Promise<void>((r) => t.http.listen(0, '127.0.0.1', r));
  });
  afterAll(() => t.close());

  const raw = (text: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const { port } = t.http.address() as AddressInfo;
      const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
      let out = '';
      socket.on('data', (c) => (out += c));
      socket.on('end', () => resolve(out));
      socket.on('error', reject);
      socket.setTimeout(5000, () => socket.destroy(new Error('no answer')));
    });

  it.each([
    [
      'a head over 16 KB',
      `GET /v1/patients HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
      'HEADERS_TOO_LARGE',
    ],
    ['a broken request line', 'NOT HTTP AT ALL\r\n\r\n', 400, 'MALFORMED_REQUEST'],
  ])('%s gets problem+json', async (_what, text, status, code) => {
    const answer = await raw(text);
    const [head, body] = answer.split('\r\n\r\n');
    expect(head).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
    expect(head).toMatch(/Content-Type: application\/problem\+json/i);
    expect(JSON.parse(body)).toMatchObject({ status, code });
  });
});

describe('rate limit per API key', () => {
  let t: TestApp;
  let keys: ClinicKeys;
  const LIMIT = 5;
  beforeAll(async () => {
    t = await startTestApp({ rateLimitPerMinute: LIMIT });
    keys = await persistClinicWithKeys(t.app);
  });
  afterAll(() => t.close());

  it('counts one budget across routes, answers 429 problem+json with Retry-After, and leaves other keys alone', async () => {
    const paths = [
      '/v1/patients',
      `/v1/clinics/${keys.clinicId}`,
      '/v1/protocols',
      '/v1/patients',
      `/v1/clinics/${keys.clinicId}/chairs`,
    ];
    for (const [i, p] of paths.entries()) {
      const ok = await request(t.http).get(p).set(bearer(keys.admin));
      expect({ p, status: ok.status }).toEqual({ p, status: 200 });
      expect(Number(ok.headers['ratelimit-limit'])).toBe(LIMIT);
      expect(Number(ok.headers['ratelimit-remaining'])).toBe(LIMIT - i - 1);
    }
    const limited = await request(t.http).get('/v1/protocols').set(bearer(keys.admin));
    expectProblem(limited, 429, 'RATE_LIMITED');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);

    // Another key of the same clinic has its own budget.
    expect((await request(t.http).get('/v1/patients').set(bearer(keys.frontDesk))).status).toBe(200);
  });

  it('limits a flood of unknown keys too — the same one or a new one each time — before any key is looked up', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 2; i++) {
      statuses.push(
        (
          await request(t.http)
            .get('/v1/patients')
            .set(bearer(`cs_made-up-key-${i}`))
        ).status,
      );
    }
    expect(statuses.slice(0, LIMIT)).toEqual(Array(LIMIT).fill(401));
    expect(statuses.slice(LIMIT)).toEqual([429, 429]);
    // Past the limit, a key not seen lately is refused too until the minute is over…
    expectProblem(await request(t.http).get('/v1/patients').set(bearer(keys.clinician)), 429, 'RATE_LIMITED');
    // …while keys that authenticated lately still pass (honest clients behind the same address).
    expect((await request(t.http).get('/v1/patients').set(bearer(keys.frontDesk))).status).toBe(200);
  });
});

describe('behind a proxy (TRUST_PROXY)', () => {
  let t: TestApp;
  let keys: ClinicKeys;
  beforeAll(async () => {
    // Without PUBLIC_URL, feed URLs name only hosts this service answers to (ALLOWED_HOSTS).
    t = await startTestApp({ rateLimitPerMinute: 3, trustProxy: 'loopback', allowedHosts: ['chairside.example.org'] });
    keys = await persistClinicWithKeys(t.app);
  });
  afterAll(() => t.close());

  it('counts failed keys per forwarded client address, not per proxy', async () => {
    const from = (ip: string, i: number) =>
      request(t.http)
        .get('/v1/patients')
        .set('X-Forwarded-For', ip)
        .set(bearer(`cs_made-up-${ip}-${i}`));
    const a = [];
    for (let i = 0; i < 4; i++) a.push((await from('203.0.113.7', i)).status);
    expect(a).toEqual([401, 401, 401, 429]);
    // Another client behind the same proxy has its own budget.
    expect((await from('198.51.100.9', 0)).status).toBe(401);
  });

  it('builds feed URLs from the forwarded scheme and host', async () => {
    const res = await request(t.http)
      .post('/v1/calendar/feeds')
      .set(bearer(keys.frontDesk))
      .set('X-Forwarded-Proto', 'https')
      .set('X-Forwarded-Host', 'chairside.example.org')
      .send({ scope: 'clinic' });
    expect(res.status).toBe(201);
    expect(res.body.url).toMatch(/^https:\/\/chairside\.example\.org\/v1\/calendar\/feeds\/cfd_[A-Za-z0-9_-]+\.ics$/);
  });
});

describe('key-less routes (feeds, /health, docs) are limited per client address', () => {
  let t: TestApp;
  let keys: ClinicKeys;
  const LIMIT = 3;
  beforeAll(async () => {
    t = await startTestApp({ rateLimitPerMinute: LIMIT, trustProxy: 'loopback' });
    keys = await persistClinicWithKeys(t.app);
  });
  afterAll(() => t.close());

  it.each([
    ['/health', '203.0.113.21'],
    ['/openapi.json', '203.0.113.22'],
    ['/docs/', '203.0.113.23'],
    ['feed', '203.0.113.24'],
  ])('%s: a made-up Bearer key on each request buys no fresh budget', async (path, ip) => {
    let url = path;
    if (path === 'feed') {
      const feed = await request(t.http)
        .post('/v1/calendar/feeds')
        .set(bearer(keys.frontDesk))
        .send({ scope: 'clinic' })
        .expect(201);
      url = new URL(feed.body.url as string).pathname;
    }
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 1; i++) {
      statuses.push(
        (
          await request(t.http)
            .get(url)
            .set('X-Forwarded-For', ip)
            .set(bearer(`cs_made-up-${i}`))
        ).status,
      );
    }
    expect(statuses.slice(0, LIMIT).every((s) => s === 200)).toBe(true);
    expect(statuses[LIMIT]).toBe(429);
    const limited = await request(t.http).get(url).set('X-Forwarded-For', ip);
    expectProblem(limited, 429, 'RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('failed logins from an address do not close /health and feeds to it', async () => {
    const ip = '203.0.113.30';
    const feed = await request(t.http)
      .post('/v1/calendar/feeds')
      .set(bearer(keys.frontDesk))
      .send({ scope: 'clinic' })
      .expect(201);
    const feedPath = new URL(feed.body.url as string).pathname;
    const logins: number[] = [];
    for (let i = 0; i < LIMIT + 1; i++)
      logins.push(
        (
          await request(t.http)
            .get('/v1/patients')
            .set('X-Forwarded-For', ip)
            .set(bearer(`cs_wrong-${i}`))
        ).status,
      );
    expect(logins).toEqual([401, 401, 401, 429]);
    expect((await request(t.http).get('/health').set('X-Forwarded-For', ip)).status).toBe(200);
    expect((await request(t.http).get(feedPath).set('X-Forwarded-For', ip)).status).toBe(200);
  });
});
