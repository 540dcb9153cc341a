import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import request from 'supertest';
import { seedDemo } from '../../src/seed/demo-seed.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// Free slots around what the demo seed booked: a booked chair takes one chair away, not the time.
describe('GET /v1/clinics/{id}/availability', () => {
  let t: TestApp;
  let keys: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApp();
    const seeded = await seedDemo(t.app, mkdtempSync(path.join(os.tmpdir(), 'chairside-avail-')));
    keys = Object.fromEntries(
      readFileSync(seeded.keysFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.replace(/^export /, '').split('=') as [string, string]),
    );
  });
  afterAll(() => t.close());

  it('offers a booked time with the chairs and nurses that remain free', async () => {
    // About chairs, not start staggering: the demo clinic's limit (2 starts per quarter hour) is lifted
    // (its own tests are in start-staggering.spec.ts).
    await t.dataSource.query(`UPDATE clinics SET max_starts_per_slot = NULL, max_starts_per_nurse_per_slot = NULL`);
    const [booked] = await t.dataSource.query(
      `SELECT starts_at, chair_id FROM sessions WHERE chair_id IS NOT NULL AND status = 'scheduled' ORDER BY starts_at LIMIT 1`,
    );
    const start = DateTime.fromJSDate(booked.starts_at, { zone: 'America/New_York' });
    const [{ n: busyChairs }] = await t.dataSource.query(
      `SELECT count(DISTINCT chair_id)::int AS n FROM sessions WHERE chair_id IS NOT NULL AND status = 'scheduled' AND during && tstzrange($1, $1::timestamptz + interval '100 minutes')`,
      [booked.starts_at],
    );
    const res = await request(t.http)
      .get(`/v1/clinics/${keys.CHAIRSIDE_CLINIC_ID}/availability`)
      .query({
        from: start.toISODate(),
        to: start.toISODate(),
        durationMinutes: 40,
        recoveryMinutes: 60,
        needsChair: 'true',
      })
      .set(bearer(keys.CHAIRSIDE_FRONT_DESK_KEY))
      .expect(200);
    const slot = res.body.slots.find((s: { localTime: string }) => s.localTime === start.toFormat('HH:mm'));
    expect(slot).toBeDefined();
    expect(slot.freeChairs).toBe(4 - busyChairs);
    expect(slot.chair.id).not.toBe(booked.chair_id);
  });
});
