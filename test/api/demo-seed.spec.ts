import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { seedDemo } from '../../src/seed/demo-seed.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

const parseEnv = (text: string) =>
  Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((l) => l.replace(/^export /, '').split('=') as [string, string]),
  );

describe('demo seed', () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    t = await startTestApp();
    dir = mkdtempSync(path.join(os.tmpdir(), 'chairside-seed-'));
  });
  afterAll(() => t.close());

  it('creates the Fort Lauderdale clinic, its resources, the ketamine protocol and one working key per role, once', async () => {
    const first = await seedDemo(t.app, dir);
    expect(first.created).toBe(true);
    const env = parseEnv(readFileSync(first.keysFile, 'utf8'));
    expect(Object.keys(env).sort()).toEqual(
      [
        'CHAIRSIDE_ADMIN_KEY',
        'CHAIRSIDE_CLINICIAN_KEY',
        'CHAIRSIDE_CLINIC_ID',
        'CHAIRSIDE_FRONT_DESK_KEY',
        'CHAIRSIDE_OPERATOR_KEY',
        'CHAIRSIDE_PROTOCOL_ID',
      ].sort(),
    );

    const clinic = await request(t.http)
      .get(`/v1/clinics/${env.CHAIRSIDE_CLINIC_ID}`)
      .set(bearer(env.CHAIRSIDE_FRONT_DESK_KEY))
      .expect(200);
    expect(clinic.body).toMatchObject({ name: 'Chairside Fort Lauderdale', timezone: 'America/New_York' });
    expect(new Set(clinic.body.openingHours.map((h: { weekday: number }) => h.weekday))).toEqual(
      new Set([1, 2, 3, 4, 5, 6]),
    );

    const chairs = await request(t.http)
      .get(`/v1/clinics/${env.CHAIRSIDE_CLINIC_ID}/chairs`)
      .set(bearer(env.CHAIRSIDE_FRONT_DESK_KEY))
      .expect(200);
    expect(chairs.body.items).toHaveLength(4);
    const staff = await request(t.http)
      .get(`/v1/clinics/${env.CHAIRSIDE_CLINIC_ID}/staff`)
      .set(bearer(env.CHAIRSIDE_FRONT_DESK_KEY))
      .expect(200);
    const roles = staff.body.items.map((s: { role: string }) => s.role).sort();
    expect(roles).toEqual(['nurse', 'nurse', 'nurse', 'physician', 'therapist']);
    const patients = await request(t.http).get('/v1/patients').set(bearer(env.CHAIRSIDE_FRONT_DESK_KEY)).expect(200);
    expect(patients.body.items.length).toBeGreaterThanOrEqual(3);
    // Seeded weights count as confirmed: the demo books mg/kg doses from them.
    for (const p of patients.body.items)
      expect(p).toMatchObject({
        weightKg: expect.any(Number),
        weightConfirmedAt: expect.any(String),
        pendingWeightKg: null,
      });

    const protocol = await request(t.http)
      .get(`/v1/protocols/${env.CHAIRSIDE_PROTOCOL_ID}`)
      .set(bearer(env.CHAIRSIDE_CLINICIAN_KEY))
      .expect(200);
    // Version 2 (infusions 2–4 days apart, target 3) is the current one; version 1 stays readable.
    expect(protocol.body).toMatchObject({
      name: 'Ketamine infusion series for opioid withdrawal',
      currentVersion: 2,
      draft: { changed: false },
    });
    expect(protocol.headers.etag).toBe('"d2"');
    const v2 = await request(t.http)
      .get(`/v1/protocols/${env.CHAIRSIDE_PROTOCOL_ID}/versions/2`)
      .set(bearer(env.CHAIRSIDE_FRONT_DESK_KEY))
      .expect(200);
    expect(v2.body.steps.find((s: { key: string }) => s.key === 'infusion').spacing).toEqual({
      min: 2,
      target: 3,
      max: 4,
      unit: 'days',
    });
    const v1 = await request(t.http)
      .get(`/v1/protocols/${env.CHAIRSIDE_PROTOCOL_ID}/versions/1`)
      .set(bearer(env.CHAIRSIDE_FRONT_DESK_KEY))
      .expect(200);
    const infusion = v1.body.steps.find((s: { key: string }) => s.key === 'infusion');
    expect(infusion).toMatchObject({
      repeat: 6,
      recoveryMinutes: 60,
      needsChair: true,
      staffRole: 'nurse',
      dose: { amount: 0.5, unit: 'mg/kg', infusionMinutes: 40, min: 0.1, max: 1 },
    });

    // Two demo patients have their series booked, from tomorrow in the clinic's zone.
    const plans: { patient_id: string; n: number; first: Date }[] = await t.dataSource.query(
      `SELECT p.patient_id, count(s.*)::int AS n, min(s.starts_at) AS first FROM plans p JOIN sessions s ON s.plan_id = p.id
        WHERE p.status = 'active' GROUP BY p.id, p.patient_id`,
    );
    expect(plans).toHaveLength(2);
    // The demo history (for the outcomes report): 16 past series per version, every session before now.
    const [history] = await t.dataSource.query(
      `SELECT count(DISTINCT p.id) FILTER (WHERE p.protocol_version = 1)::int AS v1, count(DISTINCT p.id) FILTER (WHERE p.protocol_version = 2)::int AS v2,
              max(s.occupied_until) AS last
         FROM plans p JOIN sessions s ON s.plan_id = p.id WHERE p.status <> 'active'`,
    );
    expect({ v1: history.v1, v2: history.v2 }).toEqual({ v1: 16, v2: 16 });
    expect(history.last.getTime()).toBeLessThan(t.clock.now().toMillis());
    for (const p of plans) {
      expect(p.n).toBe(15);
      expect(p.first.getTime()).toBeGreaterThan(t.clock.now().toMillis());
    }
    expect(first.banner.filter((l) => l.startsWith('Demo plan for'))).toHaveLength(2);

    // Each key has exactly its role.
    await request(t.http)
      .post(`/v1/clinics/${env.CHAIRSIDE_CLINIC_ID}/chairs`)
      .set(bearer(env.CHAIRSIDE_FRONT_DESK_KEY))
      .send({ name: 'X' })
      .expect(403);
    await request(t.http)
      .post(`/v1/clinics/${env.CHAIRSIDE_CLINIC_ID}/chairs`)
      .set(bearer(env.CHAIRSIDE_ADMIN_KEY))
      .send({ name: 'Chair 5' })
      .expect(201);
    await request(t.http)
      .post('/v1/clinics')
      .set(bearer(env.CHAIRSIDE_ADMIN_KEY))
      .send({ name: 'N', timezone: 'UTC', openingHours: [] })
      .expect(403);
    await request(t.http)
      .post('/v1/clinics')
      .set(bearer(env.CHAIRSIDE_OPERATOR_KEY))
      .send({ name: 'Second', timezone: 'UTC', openingHours: [] })
      .expect(201);

    const second = await seedDemo(t.app, dir);
    expect(second.created).toBe(false);
    const [{ n }] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM clinics WHERE name = 'Chairside Fort Lauderdale'`,
    );
    expect(n).toBe(1);
  });

  it('seeds once when several instances start together', async () => {
    const fresh = await startTestApp();
    try {
      const results = await Promise.all([seedDemo(fresh.app, dir), seedDemo(fresh.app, dir), seedDemo(fresh.app, dir)]);
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const [{ n }] = await fresh.dataSource.query('SELECT count(*)::int AS n FROM clinics');
      expect(n).toBe(1);
    } finally {
      await fresh.close();
    }
  });
});
