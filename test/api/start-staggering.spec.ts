import pg from 'pg';
import request from 'supertest';
import { weekdays } from '../factories/clinic.factory.js';
import { bookPlan, newPatient, setupClinic, type ClinicSetup } from '../factories/series.factory.js';
import { expectProblem } from '../support/problem.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// ---------------------------------------------------------------------------------------------
// Start staggering: a clinic caps the infusion starts (active sessions holding a chair) per
// quarter hour, clinic-wide and per nurse. The engine plans within it; the database refuses what
// would exceed it, even from two writers at once (start seats + exclusion constraints).
// ---------------------------------------------------------------------------------------------

const ACTIVE = `('scheduled', 'checked_in', 'completed')`;

describe('start staggering', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  const patch = (s: ClinicSetup, body: Record<string, unknown>) =>
    request(t.http).patch(`/v1/clinics/${s.keys.clinicId}`).set(bearer(s.keys.admin)).send(body);

  /** The most infusion starts in one quarter hour: clinic-wide and for one staff member. */
  async function peakStarts(clinicId: string): Promise<{ all: number; staff: number }> {
    const [row] = await t.dataSource.query(
      `SELECT (SELECT coalesce(max(n), 0)::int FROM (SELECT count(*) n FROM sessions
                 WHERE clinic_id = $1 AND chair_id IS NOT NULL AND status IN ${ACTIVE} GROUP BY start_slot(starts_at)) a) AS all,
              (SELECT coalesce(max(n), 0)::int FROM (SELECT count(*) n FROM sessions
                 WHERE clinic_id = $1 AND chair_id IS NOT NULL AND staff_id IS NOT NULL AND status IN ${ACTIVE}
                 GROUP BY start_slot(starts_at), staff_id) b) AS staff`,
      [clinicId],
    );
    return row;
  }

  it('the clinic shows the limits (none by default), PATCH sets and clears them, audited', async () => {
    const s = await setupClinic(t.app, t.http, 'Stagger settings');
    const got = await request(t.http).get(`/v1/clinics/${s.keys.clinicId}`).set(bearer(s.keys.frontDesk)).expect(200);
    expect(got.body).toMatchObject({ maxStartsPerSlot: null, maxStartsPerNursePerSlot: null });

    const set = await patch(s, { maxStartsPerSlot: 2, maxStartsPerNursePerSlot: 1 }).expect(200);
    expect(set.body).toMatchObject({ maxStartsPerSlot: 2, maxStartsPerNursePerSlot: 1 });
    const again = await request(t.http).get(`/v1/clinics/${s.keys.clinicId}`).set(bearer(s.keys.admin)).expect(200);
    expect(again.body).toMatchObject({ maxStartsPerSlot: 2, maxStartsPerNursePerSlot: 1 });
    const [audit] = await t.dataSource.query(
      `SELECT changes FROM audit_events WHERE clinic_id = $1 AND action = 'clinic.update' ORDER BY id DESC LIMIT 1`,
      [s.keys.clinicId],
    );
    expect(audit.changes).toMatchObject({
      before: { maxStartsPerSlot: null, maxStartsPerNursePerSlot: null },
      after: { maxStartsPerSlot: 2, maxStartsPerNursePerSlot: 1 },
    });

    const cleared = await patch(s, { maxStartsPerNursePerSlot: null }).expect(200);
    expect(cleared.body).toMatchObject({ maxStartsPerSlot: 2, maxStartsPerNursePerSlot: null });
  });

  it.each([
    [{ maxStartsPerSlot: 0 }, 'maxStartsPerSlot'],
    [{ maxStartsPerSlot: 51 }, 'maxStartsPerSlot'],
    [{ maxStartsPerSlot: 1.5 }, 'maxStartsPerSlot'],
    [{ maxStartsPerSlot: '2' }, 'maxStartsPerSlot'],
    [{ maxStartsPerNursePerSlot: -1 }, 'maxStartsPerNursePerSlot'],
    [{ maxStartsPerNursePerSlot: true }, 'maxStartsPerNursePerSlot'],
  ])('refuses %j with a 400 naming the field, and changes nothing', async (body, field) => {
    const s = await setupClinic(t.app, t.http, `Stagger bad ${JSON.stringify(body)}`);
    expectProblem(await patch(s, body), 400, 'VALIDATION_FAILED', field);
    const got = await request(t.http).get(`/v1/clinics/${s.keys.clinicId}`).set(bearer(s.keys.admin)).expect(200);
    expect(got.body).toMatchObject({ maxStartsPerSlot: null, maxStartsPerNursePerSlot: null, version: 1 });
  });

  it('bookings keep within the limit: one start per quarter hour with four chairs and two nurses', async () => {
    const s = await setupClinic(t.app, t.http, 'Stagger booking', { chairs: 4, nurseMax: 3 });
    await request(t.http)
      .post(`/v1/clinics/${s.keys.clinicId}/staff`)
      .set(bearer(s.keys.admin))
      .send({
        name: 'Second nurse',
        role: 'nurse',
        availability: weekdays([1, 2, 3, 4, 5], '08:00', '18:00'),
        maxConcurrentPatients: 3,
      })
      .expect(201);
    // Unlimited first: the same morning fills several starts in one quarter hour.
    const free = await setupClinic(t.app, t.http, 'Stagger unlimited', { chairs: 4, nurseMax: 3 });
    for (let i = 0; i < 3; i++)
      await bookPlan(t.http, free, { protocolId: free.shortProtocolId, earliestStart: '2026-11-30' });
    expect((await peakStarts(free.keys.clinicId)).all).toBeGreaterThan(1);

    await patch(s, { maxStartsPerSlot: 1 }).expect(200);
    for (let i = 0; i < 3; i++)
      await bookPlan(t.http, s, { protocolId: s.shortProtocolId, earliestStart: '2026-11-30' });
    expect(await peakStarts(s.keys.clinicId)).toMatchObject({ all: 1 });
    // Each start holds its seat beside the session.
    const [{ seated, starts }] = await t.dataSource.query(
      `SELECT (SELECT count(*)::int FROM session_start_seats WHERE clinic_id = $1) AS seated,
              (SELECT count(*)::int FROM sessions WHERE clinic_id = $1 AND chair_id IS NOT NULL) AS starts`,
      [s.keys.clinicId],
    );
    expect(seated).toBe(starts);
  });

  it('setting a limit numbers what is booked ahead; a limit below it is refused (400) and nothing changes', async () => {
    const s = await setupClinic(t.app, t.http, 'Stagger lowered', { chairs: 4, nurseMax: 3 });
    for (let i = 0; i < 3; i++)
      await bookPlan(t.http, s, { protocolId: s.shortProtocolId, earliestStart: '2026-11-30' });
    const peak = (await peakStarts(s.keys.clinicId)).all;
    expect(peak).toBeGreaterThan(1);
    const res = await patch(s, { maxStartsPerSlot: peak - 1 });
    expectProblem(res, 400, 'VALIDATION_FAILED', 'maxStartsPerSlot');
    expect(res.body.errors[0].message).toMatch(/already booked/);
    const got = await request(t.http).get(`/v1/clinics/${s.keys.clinicId}`).set(bearer(s.keys.admin)).expect(200);
    expect(got.body.maxStartsPerSlot).toBeNull();
    // At the peak it is accepted, and the slot at the peak is full: the database refuses one more there.
    await patch(s, { maxStartsPerSlot: peak }).expect(200);
    const [{ n }] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM session_start_seats WHERE clinic_id = $1`,
      [s.keys.clinicId],
    );
    expect(n).toBeGreaterThan(0);
  });

  it("levelling: 'off' by default, PATCH sets 'balanced' (anything else is a 400), and bookings then avoid the busiest hours", async () => {
    const s = await setupClinic(t.app, t.http, 'Levelled', { chairs: 3, nurseMax: 3 });
    const got = await request(t.http).get(`/v1/clinics/${s.keys.clinicId}`).set(bearer(s.keys.admin)).expect(200);
    expect(got.body.levelling).toBe('off');
    for (const bad of ['on', '', null, 1])
      expectProblem(await patch(s, { levelling: bad }), 400, 'VALIDATION_FAILED', 'levelling');
    // A morning rush on two of three chairs, booked first.
    const rush: { start: string; occupiedUntil: string; chair: unknown }[] = [];
    for (let i = 0; i < 2; i++)
      rush.push(
        ...(await bookPlan(t.http, s, { protocolId: s.shortProtocolId, earliestStart: '2026-11-30' })).sessions,
      );
    const off = await request(t.http)
      .post('/v1/plans/preview')
      .set(bearer(s.keys.frontDesk))
      .send({ patientId: await newPatient(t.http, s), protocolId: s.shortProtocolId, earliestStart: '2026-11-30' })
      .expect(200);
    expect((await patch(s, { levelling: 'balanced' }).expect(200)).body.levelling).toBe('balanced');
    const on = await request(t.http)
      .post('/v1/plans/preview')
      .set(bearer(s.keys.frontDesk))
      .send({ patientId: await newPatient(t.http, s), protocolId: s.shortProtocolId, earliestStart: '2026-11-30' })
      .expect(200);
    // The rush's chair sessions overlapping a plan's infusions.
    const beside = (b: { sessions: { ref: string; start: string; occupiedUntil: string }[] }) =>
      b.sessions
        .filter((x) => x.ref.startsWith('infusion#'))
        .flatMap((x) =>
          rush.filter(
            (r) =>
              r.chair !== null &&
              Date.parse(r.start) < Date.parse(x.occupiedUntil) &&
              Date.parse(x.start) < Date.parse(r.occupiedUntil),
          ),
        ).length;
    // Off: beside the rush, as early as it can; balanced: another hour or (within a day of the gap's
    // target) another day, where the chairs are free.
    expect(beside(off.body)).toBeGreaterThan(0);
    expect(beside(on.body)).toBeLessThan(beside(off.body));
  });

  describe('the database refuses an over-limit start, even from two writers at once (direct SQL)', () => {
    let s: ClinicSetup;
    let rivals: string[];

    beforeAll(async () => {
      s = await setupClinic(t.app, t.http, 'Stagger race', { chairs: 3, nurseMax: 3 });
      rivals = [await newPatient(t.http, s), await newPatient(t.http, s), await newPatient(t.http, s)];
    });

    async function insertStart(c: pg.Client, patientId: string, at: string, chair: number, staff: boolean) {
      const [version] = await t.dataSource.query(
        'SELECT version FROM protocol_versions WHERE clinic_id = $1 AND protocol_id = $2',
        [s.keys.clinicId, s.shortProtocolId],
      );
      const {
        rows: [plan],
      } = await c.query(
        `INSERT INTO plans (clinic_id, patient_id, protocol_id, protocol_version, tailoring, earliest_start, concurrent_series)
         VALUES ($1, $2, $3, $4, '{}', '2026-11-30', true) RETURNING id`,
        [s.keys.clinicId, patientId, s.shortProtocolId, version.version],
      );
      const end = new Date(Date.parse(at) + 30 * 60_000).toISOString();
      await c.query(
        `INSERT INTO sessions (clinic_id, plan_id, patient_id, ref, step_key, occurrence, kind, label, starts_at, ends_at,
                               occupied_until, chair_id, staff_id, staff_seat)
         VALUES ($1, $2, $3, 'walk-in#1', 'walk-in', 1, 'infusion', 'Walk-in', $4, $5, $5, $6, $7, $8)`,
        [
          s.keys.clinicId,
          plan.id,
          patientId,
          at,
          end,
          s.chairs[chair].id,
          staff ? s.nurse.id : null,
          staff ? chair + 1 : null,
        ],
      );
    }

    async function race(at: string, staff: boolean): Promise<unknown> {
      const a = new pg.Client({ connectionString: t.databaseUrl });
      const b = new pg.Client({ connectionString: t.databaseUrl });
      await a.connect();
      await b.connect();
      try {
        await a.query('BEGIN');
        await b.query('BEGIN');
        await insertStart(a, rivals[0], at, 0, staff);
        // The second writer cannot see the first (uncommitted): it takes the same seat and waits on it.
        const second = insertStart(b, rivals[1], new Date(Date.parse(at) + 5 * 60_000).toISOString(), 1, staff).then(
          () => null,
          (err: unknown) => err,
        );
        const deadline = Date.now() + 10_000;
        for (;;) {
          const [{ waiting }] = await t.dataSource.query(
            `SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          );
          if (waiting > 0) break;
          if (Date.now() > deadline) throw new Error('the second writer never waited on the first');
          await new Promise((r) => setTimeout(r, 10));
        }
        await a.query('COMMIT');
        const err = await second;
        await b.query(err ? 'ROLLBACK' : 'COMMIT');
        return err;
      } finally {
        await a.end();
        await b.end();
      }
    }

    it('clinic-wide: the second start in a full quarter hour is refused (23P01), the first stays', async () => {
      await patch(s, { maxStartsPerSlot: 1, maxStartsPerNursePerSlot: null }).expect(200);
      const err = (await race('2026-12-07T15:00:00Z', false)) as { code?: string; constraint?: string } | null;
      expect(err).toMatchObject({ code: '23P01', constraint: 'session_start_seats_slot_excl' });
      const [{ n }] = await t.dataSource.query(
        `SELECT count(*)::int AS n FROM sessions WHERE clinic_id = $1 AND start_slot(starts_at) = start_slot('2026-12-07T15:00:00Z')`,
        [s.keys.clinicId],
      );
      expect(n).toBe(1);
      // Without a race too: a third writer alone is refused at once.
      const c = new pg.Client({ connectionString: t.databaseUrl });
      await c.connect();
      try {
        await expect(insertStart(c, rivals[2], '2026-12-07T15:10:00Z', 2, false)).rejects.toMatchObject({
          code: '23P01',
        });
      } finally {
        await c.end();
      }
    });

    it('per nurse: the same nurse cannot start two patients in one quarter hour', async () => {
      await patch(s, { maxStartsPerSlot: null, maxStartsPerNursePerSlot: 1 }).expect(200);
      const err = (await race('2026-12-08T15:00:00Z', true)) as { code?: string; constraint?: string } | null;
      expect(err).toMatchObject({ code: '23P01', constraint: 'session_start_seats_staff_excl' });
    });

    it('a limit of two lets exactly two start together', async () => {
      await patch(s, { maxStartsPerSlot: 2, maxStartsPerNursePerSlot: null }).expect(200);
      // Both writers pick seat 1 without seeing each other; the second is refused and could try
      // again (a booking re-plans), but never commits a third start beyond two.
      const c = new pg.Client({ connectionString: t.databaseUrl });
      await c.connect();
      try {
        await insertStart(c, rivals[0], '2026-12-09T15:00:00Z', 0, false);
        await insertStart(c, rivals[1], '2026-12-09T15:05:00Z', 1, false);
        await expect(insertStart(c, rivals[2], '2026-12-09T15:10:00Z', 2, false)).rejects.toMatchObject({
          code: '23P01',
        });
      } finally {
        await c.end();
      }
      const [{ seats }] = await t.dataSource.query(
        `SELECT array_agg(seat ORDER BY seat) AS seats FROM session_start_seats WHERE clinic_id = $1 AND start_slot = start_slot('2026-12-09T15:00:00Z')`,
        [s.keys.clinicId],
      );
      expect(seats).toEqual([1, 2]);
    });
  });
});
