import { DateTime } from 'luxon';
import request from 'supertest';
import { operations } from '../../src/outcomes/domain/operations.js';
import { OutcomesRepository } from '../../src/outcomes/outcomes.repository.js';
import { KETAMINE_PROTOCOL, KETAMINE_PROTOCOL_V2 } from '../../src/seed/demo-protocol.js';
import { insertHistory } from '../../src/seed/history-writer.js';
import { generateHistory, type HistoryPlan } from '../../src/seed/outcome-history.js';
import { mulberry32 } from '../../src/seed/random.js';
import { persistClinicWithKeys, type ClinicKeys } from '../factories/clinic.factory.js';
import { referenceFacts, referencePlans, referenceVersions } from '../support/outcomes-reference.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// ---------------------------------------------------------------------------------------------
// The report is aggregated by PostgreSQL (percentile_cont, count(DISTINCT), sums in ascending
// order); the per-plan TypeScript domain it replaced (checked against hand-computed figures in
// outcomes.spec.ts and stats.spec.ts) is kept as the reference. On a varied data set of 240
// series — patients with two series of the same version, end-early reasons differing only in case
// and spacing, tailored spacing targets, missing and corrected scores, rare adverse-event terms,
// doses given in another unit, a zone with DST — every figure of both must be identical, bit for bit.
// ---------------------------------------------------------------------------------------------

type Json = Record<string, any>;
const ZONE = 'Europe/London';
const NOW = '2026-12-03T15:00:00Z';
const PLANS = 240;
const PATIENTS = 150;

describe('outcomes aggregated in PostgreSQL equal the per-plan reference', () => {
  let t: TestApp;
  let keys: ClinicKeys;
  let protocolId: string;

  beforeAll(async () => {
    t = await startTestApp({ now: NOW });
    keys = await persistClinicWithKeys(t.app, { timezone: ZONE });
    const c = keys.clinicId;
    const [protocol] = await t.dataSource.query(
      `INSERT INTO protocols (clinic_id, name, indication, description, draft_steps, draft_revision, latest_version, draft_updated_at)
       VALUES ($1, 'Equivalence protocol', 'Opioid withdrawal', NULL, $2, 1, 2, now()) RETURNING id`,
      [c, JSON.stringify(KETAMINE_PROTOCOL_V2.steps)],
    );
    protocolId = protocol.id;
    for (const [v, steps] of [
      [1, KETAMINE_PROTOCOL.steps],
      [2, KETAMINE_PROTOCOL_V2.steps],
    ] as const)
      await t.dataSource.query(
        `INSERT INTO protocol_versions (clinic_id, protocol_id, version, name, indication, description, steps, published_at)
         VALUES ($1, $2, $3, 'Equivalence protocol', 'Opioid withdrawal', NULL, $4, now() - interval '400 days')`,
        [c, protocolId, v, JSON.stringify(steps)],
      );
    const patients: { id: string }[] = await t.dataSource.query(
      `INSERT INTO patients (clinic_id, full_name, date_of_birth, weight_kg, weight_confirmed_at, unavailable, unavailable_dates, preferred_times, version)
       SELECT $1, 'Equivalence patient ' || i, '1980-01-01', 60 + i % 40, now(), '[]', '[]', '[]', 1 FROM generate_series(1, $2::int) i ORDER BY i RETURNING id`,
      [c, PATIENTS],
    );
    const today = DateTime.fromISO(NOW, { zone: ZONE }).startOf('day');
    const plans = generateHistory({
      timezone: ZONE,
      protocolId,
      steps: { 1: KETAMINE_PROTOCOL.steps, 2: KETAMINE_PROTOCOL_V2.steps },
      // Patients 0–89 have two series; the second of a patient is of the same version as the first
      // when k is even (150 + 2j and 2j share patient 2j and version 1).
      plans: [...Array(PLANS)].map((_, k) => ({
        patientId: patients[k % PATIENTS].id,
        version: (k % 2) + 1,
        weightKg: 70,
        firstDate: today.minus({ days: 330 - Math.floor((k * 280) / PLANS) }).toISODate()!,
      })),
      chairs: null,
      profile: {
        1: { cravingFallPerInfusion: 0.8, endedEarlyEvery: 3 },
        2: { cravingFallPerInfusion: 1.1, endedEarlyEvery: 4 },
      },
      endReason: 'Stopped attending',
      seed: 11,
    });
    const rnd = mulberry32(5);
    const reasons = ['Stopped attending', '  stopped   ATTENDING ', 'Moved away', 'Cost'];
    plans.forEach((p: HistoryPlan, k) => {
      if (p.endReason) p.endReason = reasons[(k >> 1) % reasons.length];
      if (k % 9 === 0) p.tailoring = { ...p.tailoring, steps: { infusion: { spacing: { target: 3 } } } };
      const infusions = p.sessions.filter((s) => s.kind === 'infusion' && s.status === 'completed');
      infusions.forEach((s, i) => {
        if (k % 11 === 0 && i === 1) s.observations = [];
        if (k % 13 === 0 && s.observations.length)
          s.observations.push({ craving: Math.floor(rnd() * 11), cows: Math.floor(rnd() * 20) });
        if (k % 7 === 0 && i === 0)
          s.observations.push({ adverseEvents: [{ term: k % 14 === 0 ? 'Tinnitus' : ' NAUSEA', severity: 'mild' }] });
        if (k % 17 === 0 && i === 2 && s.doseGiven) s.doseGiven = { ...s.doseGiven, unit: 'mg' };
        if (k % 19 === 0 && i === 0) s.plannedDose = null;
      });
    });
    await t.dataSource.transaction((m) => insertHistory(m, c, plans));
  });
  afterAll(() => t.close());

  const periods = [
    { from: '2025-12-04', to: '2026-12-03' },
    { from: '2026-03-01', to: '2026-08-31' },
    { from: '2026-05-01', to: '2026-05-20' },
  ];

  it.each(periods)('the report from $from to $to', async ({ from, to }) => {
    const res = await request(t.http)
      .get(`/v1/protocols/${protocolId}/outcomes?versions=1,2&from=${from}&to=${to}`)
      .set(bearer(keys.clinician))
      .expect(200);
    const head = (await t.app.get(OutcomesRepository).protocol(protocolId, keys.clinicId))!;
    const { facts, versions } = await referenceVersions(t.dataSource, head, keys.clinicId, protocolId, from, to);
    expect(res.body.versions).toEqual(versions);
    if (from === periods[0].from) {
      // The data set does exercise what it is meant to.
      const patientsOfV1 = new Set(facts.filter((p) => p.version === 1).map((p) => p.patient));
      expect(patientsOfV1.size).toBeLessThan(facts.filter((p) => p.version === 1).length);
      const [v1] = res.body.versions as Json[];
      expect(v1.plans.endedEarlyByReason.map((r: Json) => r.reason)).toEqual([
        'cost',
        'moved away',
        'stopped attending',
      ]);
      expect(v1.adverseEvents.events.map((e: Json) => e.term)).toContain('nausea');
      expect(facts.some((p) => p.sessions.some((s) => s.given?.unit === 'mg'))).toBe(true);
      expect(facts.some((p) => p.sessions.some((s) => s.kind === 'infusion' && s.planned === null))).toBe(true);
      expect(v1.observations.byInfusion[0].craving.n).toBeGreaterThan(50);
    }
    // Twenty days hold a handful of series: cells are suppressed there (and equally so).
    if (to === '2026-05-20') expect(JSON.stringify(res.body.versions)).toContain('"suppressed":true');
  });

  it.each(periods)('the operations from $from to $to', async ({ from, to }) => {
    const res = await request(t.http)
      .get(`/v1/outcomes/operations?from=${from}&to=${to}`)
      .set(bearer(keys.clinician))
      .expect(200);
    const head = (await t.app.get(OutcomesRepository).protocol(protocolId, keys.clinicId))!;
    const raw = await referencePlans(t.dataSource, keys.clinicId, null, null, from, to, [], false);
    const reference = operations([{ protocolId, protocolName: head.name, plans: referenceFacts(head, raw) }]);
    expect(res.body.rows).toEqual(JSON.parse(JSON.stringify(reference)));
    expect(res.body.rows.length).toBeGreaterThan(1);
  });
});
