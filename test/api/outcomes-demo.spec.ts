import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { seedDemo } from '../../src/seed/demo-seed.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// ---------------------------------------------------------------------------------------------
// The outcomes report on the demo data: a fresh demo has past series on both versions of the
// ketamine protocol, so the report (as the README fetches it) shows both with real figures.
// ---------------------------------------------------------------------------------------------

type Json = Record<string, any>;
const parseEnv = (text: string) =>
  Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((l) => l.replace(/^export /, '').split('=') as [string, string]),
  );

describe('outcomes on the demo data', () => {
  let t: TestApp;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await startTestApp({ now: '2026-12-03T15:00:00Z' });
    const seeded = await seedDemo(t.app, mkdtempSync(path.join(os.tmpdir(), 'chairside-outcomes-demo-')));
    env = parseEnv(readFileSync(seeded.keysFile, 'utf8'));
  });
  afterAll(() => t.close());

  it('shows both versions with figures, not suppressed', async () => {
    const res = await request(t.http)
      .get(`/v1/protocols/${env.CHAIRSIDE_PROTOCOL_ID}/outcomes?versions=1,2`)
      .set(bearer(env.CHAIRSIDE_CLINICIAN_KEY))
      .expect(200);
    if (process.env.OUTCOMES_DUMP) writeFileSync(process.env.OUTCOMES_DUMP, JSON.stringify(res.body, null, 1));
    const [v1, v2] = res.body.versions as Json[];
    expect([v1.version, v2.version]).toEqual([1, 2]);
    for (const v of [v1, v2]) {
      expect(v.plans.started.count).toBe(16);
      expect(v.plans.completed.count).toBeGreaterThanOrEqual(5);
      expect(v.plans.endedEarly.count).toBeGreaterThanOrEqual(5);
      expect(v.plans.running).toEqual({ count: 0, patients: 0 });
      const infusion = v.sessions.find((s: Json) => s.kind === 'infusion');
      expect(infusion.completed.count).toBeGreaterThan(50);
      expect(v.adherence.find((a: Json) => a.stepKey === 'infusion').absDeviationDays.n).toBeGreaterThan(40);
      expect(v.dose.find((d: Json) => d.infusion === 'all').given.mean).toBeGreaterThan(0.3);
      expect(v.observations.byInfusion[0].craving.patients).toBe(16);
      expect(v.observations.firstToLast.craving.median).toBeLessThan(0);
      expect(v.observations.cravingHalved.suppressed).toBeUndefined();
      expect(v.adverseEvents.events.some((e: Json) => e.term === 'dissociation' && e.rate.per100 > 0)).toBe(true);
    }
    // Version 2 (infusions further apart) does better on craving in the demo data.
    expect(v2.observations.firstToLast.craving.median).toBeLessThan(v1.observations.firstToLast.craving.median);
    // No patient identifier anywhere in the report.
    const text = JSON.stringify(res.body);
    const ids: { id: string }[] = await t.dataSource.query(
      'SELECT id FROM patients UNION ALL SELECT id FROM plans UNION ALL SELECT id FROM sessions',
    );
    for (const { id } of ids) expect(text.includes(id)).toBe(false);
    expect(text).not.toMatch(/Outcomes demo patient/);
  });
});
