import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('GET /health', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('reports the service and the database as up, without a key', async () => {
    const res = await request(t.http).get('/health').expect(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.details.database.status).toBe('up');
  });

  it('is not under /v1', async () => {
    const res = await request(t.http).get('/v1/health').expect(404);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  });
});
