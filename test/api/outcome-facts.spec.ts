import { DateTime } from 'luxon';
import pg from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { runMigrations } from '../../src/database/database-bootstrap.js';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { operations } from '../../src/outcomes/domain/operations.js';
import { OutcomesRepository } from '../../src/outcomes/outcomes.repository.js';
import { KETAMINE_PROTOCOL, KETAMINE_PROTOCOL_V2 } from '../../src/seed/demo-protocol.js';
import { insertHistory, type Queryable } from '../../src/seed/history-writer.js';
import { generateHistory } from '../../src/seed/outcome-history.js';
import { persistClinicWithKeys, type ClinicKeys } from '../factories/clinic.factory.js';
import { referenceFacts, referencePlans, referenceVersions } from '../support/outcomes-reference.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// ---------------------------------------------------------------------------------------------
// The outcomes reports read per-plan facts (plan_outcome_facts) that triggers keep in the writing
// transaction. After each kind of write that feeds them — a session's status, a new observation, a
// plan ended early, an adjustment that moves a session or changes a dose, a tailored target, the
// clinic's time zone — the report must still equal the reference computed from the raw rows, and
// the facts must equal a rebuild from scratch. Facts are also built, by the migration, for plans
// that existed before it.
// ---------------------------------------------------------------------------------------------

type Json = Record<string, any>;
const ZONE = 'Europe/London';
const NOW = '2026-12-03T15:00:00Z';
const PERIOD = { from: '2025-12-04', to: '2026-12-03' };

async function seedProtocol(db: Queryable, clinicId: string): Promise<string> {
  const [protocol] = await db.query(
    `INSERT INTO protocols (clinic_id, name, indication, description, draft_steps, draft_revision, latest_version, draft_updated_at)
     VALUES ($1, 'Facts protocol', 'Opioid withdrawal', NULL, $2, 1, 2, now()) RETURNING id`,
    [clinicId, JSON.stringify(KETAMINE_PROTOCOL_V2.steps)],
  );
  for (const [v, steps] of [
    [1, KETAMINE_PROTOCOL.steps],
    [2, KETAMINE_PROTOCOL_V2.steps],
  ] as const)
    await db.query(
      `INSERT INTO protocol_versions (clinic_id, protocol_id, version, name, indication, description, steps, published_at)
       VALUES ($1, $2, $3, 'Facts protocol', 'Opioid withdrawal', NULL, $4, now() - interval '400 days')`,
      [clinicId, protocol.id, v, JSON.stringify(steps)],
    );
  return protocol.id as string;
}

async function seedHistory(db: Queryable, clinicId: string, protocolId: string, count: number, seed: number) {
  const patients: { id: string }[] = await db.query(
    `INSERT INTO patients (clinic_id, full_name, date_of_birth, weight_kg, weight_confirmed_at, unavailable, unavailable_dates, preferred_times, version)
     SELECT $1, 'Facts patient ' || i, '1980-01-01', 70, now(), '[]', '[]', '[]', 1 FROM generate_series(1, $2::int) i ORDER BY i RETURNING id`,
    [clinicId, count],
  );
  const today = DateTime.fromISO(NOW, { zone: ZONE }).startOf('day');
  const plans = generateHistory({
    timezone: ZONE,
    protocolId,
    steps: { 1: KETAMINE_PROTOCOL.steps, 2: KETAMINE_PROTOCOL_V2.steps },
    plans: patients.map((p, k) => ({
      patientId: p.id,
      version: (k % 2) + 1,
      weightKg: 70,
      firstDate: today.minus({ days: 330 - Math.floor((k * 300) / count) }).toISODate()!,
    })),
    chairs: null,
    profile: {
      1: { cravingFallPerInfusion: 0.8, endedEarlyEvery: 3 },
      2: { cravingFallPerInfusion: 1.1, endedEarlyEvery: 4 },
    },
    endReason: 'Stopped attending',
    seed,
  });
  await insertHistory(db, clinicId, plans);
}

/** The outcomes report and the operations, over HTTP, equal to the reference computed from the raw rows. */
async function expectReportsEqualReference(t: TestApp, keys: ClinicKeys, protocolId: string): Promise<Json> {
  const { from, to } = PERIOD;
  const res = await request(t.http)
    .get(`/v1/protocols/${protocolId}/outcomes?versions=1,2&from=${from}&to=${to}`)
    .set(bearer(keys.clinician))
    .expect(200);
  const head = (await t.app.get(OutcomesRepository).protocol(protocolId, keys.clinicId))!;
  const { versions } = await referenceVersions(t.dataSource, head, keys.clinicId, protocolId, from, to);
  expect(res.body.versions).toEqual(versions);

  const ops = await request(t.http)
    .get(`/v1/outcomes/operations?from=${from}&to=${to}`)
    .set(bearer(keys.clinician))
    .expect(200);
  const opsRaw = await referencePlans(t.dataSource, keys.clinicId, null, null, from, to, [], false);
  expect(ops.body.rows).toEqual(
    JSON.parse(
      JSON.stringify(operations([{ protocolId, protocolName: head.name, plans: referenceFacts(head, opsRaw) }])),
    ),
  );
  return res.body;
}

/** The clinic's facts as stored, and as a rebuild from scratch computes them (rolled back). */
async function storedAndRebuilt(ownerUrl: string, clinicId: string): Promise<[Json[], Json[]]> {
  const c = new pg.Client({ connectionString: ownerUrl });
  await c.connect();
  const read = async () =>
    (
      await c.query(
        `SELECT plan_id, protocol_id, protocol_version, patient_id, status, booked_at, first_start, due, missed, chair_minutes, doc::text AS doc
           FROM plan_outcome_facts WHERE clinic_id = $1 ORDER BY plan_id`,
        [clinicId],
      )
    ).rows as Json[];
  try {
    await c.query('BEGIN');
    const stored = await read();
    await c.query(`DELETE FROM plan_outcome_facts WHERE clinic_id = $1`, [clinicId]);
    await c.query(
      `SELECT plan_outcome_facts_refresh($1, array_agg(id)) FROM plans WHERE clinic_id = $1 GROUP BY clinic_id`,
      [clinicId],
    );
    const rebuilt = await read();
    return [stored, rebuilt];
  } finally {
    await c.query('ROLLBACK');
    await c.end();
  }
}

describe('outcome facts kept by the database', () => {
  let t: TestApp;
  let keys: ClinicKeys;
  let protocolId: string;

  beforeAll(async () => {
    // Server-Timing names the report's work: whether it computed the aggregates or served those it kept.
    t = await startTestApp({ now: NOW, serverTiming: true });
    keys = await persistClinicWithKeys(t.app, { timezone: ZONE });
    protocolId = await seedProtocol(t.dataSource, keys.clinicId);
    await t.dataSource.transaction((m) => seedHistory(m, keys.clinicId, protocolId, 60, 3));
  });
  afterAll(() => t.close());

  const check = async () => {
    const [stored, rebuilt] = await storedAndRebuilt(t.ownerUrl, keys.clinicId);
    expect(stored).toHaveLength(60);
    expect(stored).toEqual(rebuilt);
    return expectReportsEqualReference(t, keys, protocolId);
  };
  const q = (sql: string, params: unknown[] = []) => t.dataSource.query(sql, [keys.clinicId, ...params]);
  /** A plan's completed infusions, in order of start. */
  const infusions = async (planId: string): Promise<Json[]> =>
    q(
      `SELECT id, starts_at, actual_start, dose_given FROM sessions
        WHERE clinic_id = $1 AND plan_id = $2 AND kind = 'infusion' AND status = 'completed' ORDER BY starts_at`,
      [planId],
    );
  const planWith = async (status: string, version: number, skip = 0): Promise<string> =>
    (
      await q(
        `SELECT p.id FROM plans p WHERE p.clinic_id = $1 AND p.status = $2 AND p.protocol_version = $3
            AND (SELECT count(*) FROM sessions s WHERE s.clinic_id = p.clinic_id AND s.plan_id = p.id AND s.kind = 'infusion' AND s.status = 'completed') >= 3
          ORDER BY p.id OFFSET $4 LIMIT 1`,
        [status, version, skip],
      )
    )[0].id;

  it('holds the figures of the data as inserted', async () => {
    const body = await check();
    expect(body.versions[0].plans.started).toMatchObject({ count: 30 });
  });

  it('follows a completed infusion marked a no-show, and one cancelled', async () => {
    const before = (await check()) as Json;
    const plan = await planWith('completed', 1);
    const [first, second] = await infusions(plan);
    await q(
      `UPDATE sessions SET status = 'no_show', actual_start = NULL, actual_end = NULL, dose_given = NULL, version = version + 1
        WHERE clinic_id = $1 AND id = $2`,
      [first.id],
    );
    await q(`UPDATE sessions SET status = 'cancelled', version = version + 1 WHERE clinic_id = $1 AND id = $2`, [
      second.id,
    ]);
    const after = await check();
    const sessionsOf = (b: Json) => b.versions[0].sessions.find((s: Json) => s.kind === 'infusion');
    expect(sessionsOf(after).completed.count).toBe(sessionsOf(before).completed.count - 2);
  });

  it('follows a new observation (a corrected score, an adverse event)', async () => {
    const plan = await planWith('completed', 2);
    const [, , third] = await infusions(plan);
    const [patient] = await q(`SELECT patient_id FROM plans WHERE clinic_id = $1 AND id = $2`, [plan]);
    const before = await check();
    await q(
      `INSERT INTO session_observations (clinic_id, session_id, plan_id, patient_id, recorded_at, craving, cows, adverse_events)
       VALUES ($1, $2, $3, $4, $5::timestamptz + interval '5 hours', 0, 1, '[{"term": " Headache ", "severity": "mild"}]')`,
      [third.id, plan, patient.patient_id, third.starts_at],
    );
    const after = await check();
    expect(after.versions[1].observations.byInfusion[2]).not.toEqual(before.versions[1].observations.byInfusion[2]);
  });

  it('follows a plan ended early: the adjustment, its cancelled sessions, the plan status', async () => {
    const plan = await planWith('completed', 1, 1);
    const [, , third] = await infusions(plan);
    await t.dataSource.transaction(async (m) => {
      const [{ version }] = await m.query(`SELECT version FROM plans WHERE clinic_id = $1 AND id = $2`, [
        keys.clinicId,
        plan,
      ]);
      await m.query(
        `INSERT INTO plan_adjustments (clinic_id, plan_id, plan_version, type, reason, actor_role, occurred_at, changes)
         VALUES ($1, $2, $3, 'cancel_remaining', 'Moved away', 'clinician', now(), '[]')`,
        [keys.clinicId, plan, version + 1],
      );
      await m.query(
        `UPDATE sessions SET status = 'cancelled', status_reason = 'plan ended early: Moved away', actual_start = NULL,
                             actual_end = NULL, dose_given = NULL, version = version + 1
          WHERE clinic_id = $1 AND plan_id = $2 AND starts_at >= $3`,
        [keys.clinicId, plan, third.starts_at],
      );
      await m.query(`UPDATE plans SET status = 'ended_early', version = version + 1 WHERE clinic_id = $1 AND id = $2`, [
        keys.clinicId,
        plan,
      ]);
    });
    const [facts] = await t.asOwner<{ status: string; doc: Json }>(
      `SELECT status, doc FROM plan_outcome_facts WHERE plan_id = $1`,
      [plan],
    );
    expect(facts).toMatchObject({ status: 'ended_early', doc: { r: 'Moved away' } });
    await check();
  });

  it('follows an infusion moved (its gaps) and a dose changed', async () => {
    const plan = await planWith('completed', 2, 1);
    const [, second] = await infusions(plan);
    await q(
      `UPDATE sessions SET actual_start = actual_start + interval '1 day', actual_end = actual_end + interval '1 day',
                           dose_given = jsonb_set(dose_given, '{amount}', '0.55'), version = version + 1
        WHERE clinic_id = $1 AND id = $2`,
      [second.id],
    );
    const [facts] = await t.asOwner<{ doc: { i: unknown[] } }>(
      `SELECT doc FROM plan_outcome_facts WHERE plan_id = $1`,
      [plan],
    );
    expect(facts.doc.i).toContain(0.55);
    await check();
  });

  it("follows a plan's first session moved (its cohort month), a tailored target and the clinic's zone", async () => {
    const plan = await planWith('completed', 1, 2);
    await q(
      `UPDATE sessions SET starts_at = starts_at - interval '40 days', ends_at = ends_at - interval '40 days',
                           occupied_until = occupied_until - interval '40 days', version = version + 1
        WHERE clinic_id = $1 AND id = (SELECT id FROM sessions WHERE clinic_id = $1 AND plan_id = $2 ORDER BY starts_at LIMIT 1)`,
      [plan],
    );
    await check();
    await q(
      `UPDATE plans SET tailoring = jsonb_set(tailoring, '{steps}', '{"infusion": {"spacing": {"target": 5}}}'), version = version + 1
        WHERE clinic_id = $1 AND id = $2`,
      [plan],
    );
    await check();
    await q(`UPDATE clinics SET timezone = 'Pacific/Auckland', version = version + 1 WHERE id = $1`);
    await check();
  });

  it('holds both changes when two transactions change sessions of one plan at once', async () => {
    const plan = await planWith('completed', 2, 2);
    const [first, second] = await infusions(plan);
    const missed = async () =>
      (await t.asOwner<{ missed: number }>(`SELECT missed FROM plan_outcome_facts WHERE plan_id = $1`, [plan]))[0]
        .missed;
    const before = await missed();
    const a = new pg.Client({ connectionString: t.databaseUrl });
    const b = new pg.Client({ connectionString: t.databaseUrl });
    await a.connect();
    await b.connect();
    const noShow = `UPDATE sessions SET status = 'no_show', actual_start = NULL, actual_end = NULL, version = version + 1
                     WHERE clinic_id = $1 AND id = $2`;
    try {
      await a.query('BEGIN');
      await b.query('BEGIN');
      await a.query(noShow, [keys.clinicId, first.id]);
      // B's refresh waits for A's facts row; once A commits, B computes from a snapshot holding A's change.
      const bDone = b.query(noShow, [keys.clinicId, second.id]);
      await new Promise((r) => setTimeout(r, 200));
      await a.query('COMMIT');
      await bDone;
      await b.query('COMMIT');
    } finally {
      await a.end();
      await b.end();
    }
    expect(await missed()).toBe(before + 2);
    await check();
  });

  it("keeps a report's aggregates while its cohort's facts are unchanged, and no longer", async () => {
    const read = async (period = PERIOD) => {
      const res = await request(t.http)
        .get(`/v1/protocols/${protocolId}/outcomes?versions=1,2&from=${period.from}&to=${period.to}`)
        .set(bearer(keys.clinician))
        .expect(200);
      const timing = String(res.headers['server-timing']);
      return { versions: res.body.versions, computed: timing.includes('outcomes-aggregate;'), timing };
    };
    const first = await read();
    const again = await read();
    expect(again).toMatchObject({ computed: false, versions: first.versions });
    expect(again.timing).toMatch(/outcomes-cohort;dur=/);

    // A write no report reads (a session's revision) leaves the facts, so the report is still kept.
    const plan = await planWith('completed', 2, 1);
    const [infusion] = await infusions(plan);
    await q(`UPDATE sessions SET version = version + 1 WHERE clinic_id = $1 AND id = $2`, [infusion.id]);
    expect(await read()).toMatchObject({ computed: false, versions: first.versions });

    // The cohort by month: with every month's signature known, no month's facts are read again.
    const repo = t.app.get(OutcomesRepository);
    const cohort = { clinicId: keys.clinicId, protocolId, versions: [1, 2], ...PERIOD };
    const months = await repo.cohortMonths(cohort, new Map());
    expect(months.length).toBeGreaterThan(6);
    expect(months.every((m) => m.plans !== null && m.plans.length > 0)).toBe(true);
    const known = new Map(months.map((m) => [m.month, m]));
    expect((await repo.cohortMonths(cohort, known)).filter((m) => m.plans !== null)).toEqual([]);
    // Another period shares its whole months; its first and last are cut, and named so.
    const cut = await repo.cohortMonths({ ...cohort, from: '2026-03-15', to: '2026-08-20' }, known);
    expect(cut.map((m) => [m.month, m.plans !== null])).toEqual([
      ['2026-03 from 2026-03-15', true],
      ['2026-04', false],
      ['2026-05', false],
      ['2026-06', false],
      ['2026-07', false],
      ['2026-08 to 2026-08-20', true],
    ]);

    // One infusion of one plan missed: the facts change, and the report is computed again.
    await q(
      `UPDATE sessions SET status = 'no_show', actual_start = NULL, actual_end = NULL, dose_given = NULL, version = version + 1
        WHERE clinic_id = $1 AND id = $2`,
      [infusion.id],
    );
    // Only the month of that plan's first session is read again.
    const [{ month }] = await q(
      `SELECT to_char(f.first_start AT TIME ZONE $3, 'YYYY-MM') AS month FROM plan_outcome_facts f WHERE f.clinic_id = $1 AND f.plan_id = $2`,
      [plan, ZONE],
    );
    const reread = (await repo.cohortMonths(cohort, known)).filter((m) => m.plans !== null);
    expect(reread.map((m) => m.month)).toEqual([month]);
    expect(reread[0].plans).toHaveLength(months.find((m) => m.month === month)!.plans!.length);
    const changed = await read();
    expect(changed.computed).toBe(true);
    expect(changed.versions).not.toEqual(first.versions);
    expect(changed.versions).toEqual((await expectReportsEqualReference(t, keys, protocolId)).versions);
    // Another period is another cohort, kept on its own.
    const shorter = { from: '2026-06-01', to: PERIOD.to };
    expect((await read(shorter)).computed).toBe(true);
    expect((await read(shorter)).computed).toBe(false);
    expect((await read()).computed).toBe(false);
  });

  it('leaves the facts to the database: the service may read them, not write them', async () => {
    await expect(t.dataSource.query(`UPDATE plan_outcome_facts SET due = 0`)).rejects.toThrow(/permission denied/);
    await expect(t.dataSource.query(`DELETE FROM plan_outcome_facts`)).rejects.toThrow(/permission denied/);
    const [{ n }] = await q(`SELECT count(*)::int AS n FROM plan_outcome_facts WHERE clinic_id = $1`);
    expect(n).toBe(60);
  });
});

describe('migration OutcomeFacts1796800000000', () => {
  let t: TestApp;
  afterAll(() => t.close());

  it('builds the facts of the plans that existed before it', async () => {
    t = await startTestApp({ now: NOW });
    const keys = await persistClinicWithKeys(t.app, { timezone: ZONE });
    const ds = new DataSource(dataSourceOptions(t.ownerUrl, 2));
    await ds.initialize();
    let protocolId: string;
    try {
      for (;;) {
        const [last] = await ds.query(`SELECT name FROM migrations ORDER BY id DESC LIMIT 1`);
        await ds.undoLastMigration({ transaction: 'each' });
        if (last.name === 'OutcomeFacts1796800000000') break;
      }
      const [table] = await ds.query(`SELECT to_regclass('plan_outcome_facts') AS t`);
      expect(table.t).toBeNull();
      protocolId = await seedProtocol(ds, keys.clinicId);
      await ds.transaction((m) => seedHistory(m, keys.clinicId, protocolId, 40, 9));
    } finally {
      await ds.destroy();
    }
    await runMigrations(t.ownerUrl);

    const [{ n }] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM plan_outcome_facts WHERE clinic_id = $1 AND first_start IS NOT NULL`,
      [keys.clinicId],
    );
    expect(n).toBe(40);
    const body = await expectReportsEqualReference(t, keys, protocolId);
    expect(body.versions[0].plans.started).toMatchObject({ count: 20 });
  });
});
