import pg from 'pg';
import request from 'supertest';
import { weekdays } from '../factories/clinic.factory.js';
import { newPatient, setupClinic, type ClinicSetup } from '../factories/series.factory.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// ---------------------------------------------------------------------------------------------
// Many bookings at once for series that compete for few chairs and one nurse: the database (not
// only the code) must keep every chair, staff seat and patient free of overlaps, and every
// request must end either fully booked or refused — never a half-booked series.
// ---------------------------------------------------------------------------------------------

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SERIES_LENGTH = 15; // intake + 6 infusions + 6 therapies + follow-up + booster
const ACTIVE = `('scheduled', 'checked_in', 'completed')`;
const MORNINGS = weekdays([1, 2, 3, 4, 5], '08:00', '12:00');

interface Scenario extends ClinicSetup {
  patientIds: string[];
}

interface Outcome {
  patientId: string;
  res: request.Response;
}

/** Asserts an RFC 9457 problem response. */
function expectProblem(res: request.Response, status: number, codes: string[]): void {
  expect({ status: res.status, body: res.body }).toMatchObject({ status, body: { status } });
  expect(codes).toContain(res.body.code);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(typeof res.body.detail).toBe('string');
}

describe('booking under concurrency (POST /v1/plans)', () => {
  let t: TestApp;
  let t2: TestApp | undefined;

  /** A clinic open only on weekday mornings, with few chairs and one nurse, the demo protocol published and patients. */
  async function crowdedClinic(
    app: TestApp,
    name: string,
    chairs: number,
    nurseMax: number,
    patients: number,
  ): Promise<Scenario> {
    const setup = await setupClinic(app.app, app.http, name, {
      chairs,
      nurseMax,
      openingHours: MORNINGS,
      staff: { physician: { maxConcurrentPatients: 1 }, therapist: { maxConcurrentPatients: 1 } },
    });
    const patientIds: string[] = [];
    for (let i = 0; i < patients; i++)
      patientIds.push(await newPatient(app.http, setup, { fullName: `Patient ${i}`, weightKg: 60 + i }));
    return { ...setup, patientIds };
  }

  /** Fires one POST /v1/plans per patient, all at once, spreading them over the given servers. */
  async function bookAllAtOnce(s: Scenario, servers: TestApp[]): Promise<Outcome[]> {
    // Each supertest request opens its own connection; Promise.all sends them together.
    return Promise.all(
      s.patientIds.map(async (patientId, i) => ({
        patientId,
        res: await request(servers[i % servers.length].http)
          .post('/v1/plans')
          .set(bearer(i % 2 ? s.keys.frontDesk : s.keys.clinician))
          .send({ patientId, protocolId: s.protocolId, startWithinDays: 3 }),
      })),
    );
  }

  /** Every invariant the database must hold for a clinic after the storm. */
  async function expectNoDoubleBooking(
    s: Scenario,
    outcomes: Outcome[],
  ): Promise<{ booked: number; refused: number; codes: string }> {
    const clinicId = s.keys.clinicId;
    const q = (sql: string) => t.dataSource.query(sql.replaceAll('$clinic', `'${clinicId}'`));

    // 1. Every response is a complete booking or a problem+json refusal.
    const booked = outcomes.filter((o) => o.res.status === 201);
    const refused = outcomes.filter((o) => o.res.status !== 201);
    for (const { patientId, res } of booked) {
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toMatchObject({
        id: expect.stringMatching(UUID_RE),
        patientId,
        clinicId,
        status: 'active',
        protocolVersion: 1,
      });
      expect(res.body.sessions).toHaveLength(SERIES_LENGTH);
      for (const session of res.body.sessions)
        expect(session).toMatchObject({ id: expect.stringMatching(UUID_RE), status: 'scheduled' });
    }
    for (const { res } of refused) {
      if (res.status === 409) expectProblem(res, 409, ['SLOT_TAKEN', 'CONFLICT']);
      else expectProblem(res, 422, ['PLAN_INFEASIBLE']);
      if (res.body.code === 'SLOT_TAKEN') {
        // The loser is told which session is in the way: an active session of a winning plan.
        // (A conflict on a staff seat alone is not named today; plans.spec.ts pins that down.)
        expect(res.body).toHaveProperty('conflictingSessionId');
        if (res.body.conflictingSessionId !== null) {
          const [row] = await t.dataSource.query(
            `SELECT plan_id, status FROM sessions WHERE clinic_id = $1 AND id = $2`,
            [s.keys.clinicId, res.body.conflictingSessionId],
          );
          expect(row).toBeDefined();
          expect(ACTIVE).toContain(`'${row.status}'`);
          expect(booked.map((o) => o.res.body.id)).toContain(row.plan_id);
        }
      }
    }

    // 2. The database holds exactly the booked plans, each with its full series, nothing for the refused.
    const plans: { id: string; patient_id: string; n: number }[] = await q(
      `SELECT p.id, p.patient_id, count(s.id)::int AS n FROM plans p LEFT JOIN sessions s ON s.clinic_id = p.clinic_id AND s.plan_id = p.id
        WHERE p.clinic_id = $clinic GROUP BY p.id, p.patient_id`,
    );
    expect(plans.map((p) => p.id).sort()).toEqual(booked.map((o) => o.res.body.id as string).sort());
    for (const p of plans) expect(p.n).toBe(SERIES_LENGTH);
    const refusedPatients = refused.map((o) => o.patientId);
    const [{ n: strays }] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM sessions WHERE patient_id = ANY($1)`,
      [refusedPatients],
    );
    expect(strays).toBe(0);

    // 3. What the responses promised is what the database holds.
    const rows: {
      id: string;
      starts_at: Date;
      occupied_until: Date;
      chair_id: string | null;
      staff_id: string | null;
    }[] = await q(`SELECT id, starts_at, occupied_until, chair_id, staff_id FROM sessions WHERE clinic_id = $clinic`);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const { res } of booked) {
      for (const s of res.body.sessions) {
        const row = byId.get(s.id);
        expect(row).toBeDefined();
        expect(row!.starts_at.getTime()).toBe(Date.parse(s.start));
        expect(row!.occupied_until.getTime()).toBe(Date.parse(s.occupiedUntil));
        expect(row!.chair_id).toBe(s.chair?.id ?? null);
        expect(row!.staff_id).toBe(s.staff?.id ?? null);
      }
    }

    // 4. No overlap on a chair, a patient or a staff seat among active sessions.
    const overlaps = async (same: string) =>
      (
        await q(
          `SELECT a.id AS a, b.id AS b FROM sessions a JOIN sessions b
              ON b.clinic_id = a.clinic_id AND a.id < b.id AND ${same} AND a.during && b.during
            WHERE a.clinic_id = $clinic AND a.status IN ${ACTIVE} AND b.status IN ${ACTIVE}`,
        )
      ).length;
    expect(await overlaps('a.chair_id = b.chair_id')).toBe(0);
    expect(await overlaps('a.patient_id = b.patient_id')).toBe(0);
    expect(await overlaps('a.staff_id = b.staff_id AND a.staff_seat = b.staff_seat')).toBe(0);

    // 5. No staff member ever looks after more patients at once than their limit. The peak of a set
    // of [start, end) intervals is reached at one of their starts.
    const peaks: { staff_id: string; peak: number; max: number }[] = await q(
      `SELECT s.staff_id, max(c.n)::int AS peak, m.max_concurrent_patients AS max
         FROM sessions s
         JOIN staff_members m ON m.clinic_id = s.clinic_id AND m.id = s.staff_id
         CROSS JOIN LATERAL (
           SELECT count(*) AS n FROM sessions o
            WHERE o.clinic_id = s.clinic_id AND o.staff_id = s.staff_id AND o.status IN ${ACTIVE} AND o.during @> s.starts_at
         ) c
        WHERE s.clinic_id = $clinic AND s.status IN ${ACTIVE}
        GROUP BY s.staff_id, m.max_concurrent_patients`,
    );
    expect(peaks.length).toBeGreaterThan(0);
    for (const p of peaks) expect(p.peak).toBeLessThanOrEqual(p.max);
    // and every seat held lies within 1..limit
    const [{ n: badSeats }] = await q(
      `SELECT count(*)::int AS n FROM sessions s JOIN staff_members m ON m.clinic_id = s.clinic_id AND m.id = s.staff_id
        WHERE s.clinic_id = $clinic AND s.status IN ${ACTIVE} AND (s.staff_seat < 1 OR s.staff_seat > m.max_concurrent_patients)`,
    );
    expect(badSeats).toBe(0);

    const codes = outcomes.map((o) => (o.res.status === 201 ? '201' : `${o.res.status} ${o.res.body.code}`));
    return {
      booked: booked.length,
      refused: refused.length,
      codes: [...new Set(codes)].map((c) => `${codes.filter((x) => x === c).length}× ${c}`).join(', '),
    };
  }

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t2?.close();
    await t.close();
  });

  it('12 parallel bookings for 2 chairs and one nurse (1 patient at a time): no overlap anywhere, each all-or-nothing', async () => {
    const s = await crowdedClinic(t, 'Crowded one', 2, 1, 12);
    const started = Date.now();
    const outcomes = await bookAllAtOnce(s, [t]);
    const result = await expectNoDoubleBooking(s, outcomes);
    // The mornings of one nurse cannot hold 12 series starting within 3 days: someone must lose,
    // and someone must win.
    expect(result.booked).toBeGreaterThan(0);
    expect(result.refused).toBeGreaterThan(0);
    // One nurse at a time: no two infusions of the clinic overlap at all.
    const [{ n }] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM sessions a JOIN sessions b ON b.clinic_id = a.clinic_id AND a.id < b.id AND a.staff_id = b.staff_id AND a.during && b.during
        WHERE a.clinic_id = $1 AND a.staff_id = $2`,
      [s.keys.clinicId, s.nurse.id],
    );
    expect(n).toBe(0);
    console.info(`12 parallel bookings on one instance: ${result.codes} in ${Date.now() - started} ms`);
  });

  it('a booking that loses its race to a transaction committing meanwhile is planned again under the lock: 201, Chairside-Replanned, no overlap', async () => {
    const s = await crowdedClinic(t, 'Lost race', 1, 2, 2);
    const [rival, patientId] = s.patientIds;
    const body = { patientId, protocolId: s.protocolId, earliestStart: '2026-11-30' };
    const planned = await request(t.http)
      .post('/v1/plans/preview')
      .set(bearer(s.keys.frontDesk))
      .send(body)
      .expect(200);
    const first = planned.body.sessions.find((x: { chair: unknown }) => x.chair !== null);
    // Another writer (not this instance) takes the first infusion's chair and time, and has not committed yet.
    const other = new pg.Client({ connectionString: t.databaseUrl });
    await other.connect();
    try {
      await other.query('BEGIN');
      const [version] = (await t.dataSource.query(
        'SELECT protocol_id, version FROM protocol_versions WHERE clinic_id = $1 AND protocol_id = $2',
        [s.keys.clinicId, s.protocolId],
      )) as { version: number }[];
      const {
        rows: [plan],
      } = await other.query(
        `INSERT INTO plans (clinic_id, patient_id, protocol_id, protocol_version, tailoring, earliest_start) VALUES ($1, $2, $3, $4, '{}', '2026-11-30') RETURNING id`,
        [s.keys.clinicId, rival, s.protocolId, version.version],
      );
      await other.query(
        `INSERT INTO sessions (clinic_id, plan_id, patient_id, ref, step_key, occurrence, kind, label, starts_at, ends_at, occupied_until, chair_id)
         VALUES ($1, $2, $3, 'walk-in#1', 'walk-in', 1, 'infusion', 'Walk-in', $4, $5, $5, $6)`,
        [s.keys.clinicId, plan.id, rival, first.start, first.occupiedUntil, first.chair.id],
      );
      // The booking plans without seeing it (uncommitted), and its insert waits on the other's row.
      const booking = request(t.http)
        .post('/v1/plans')
        .set(bearer(s.keys.frontDesk))
        .send(body)
        .then((r) => r);
      const deadline = Date.now() + 10_000;
      for (;;) {
        const [{ waiting }] = await t.dataSource.query(
          `SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO sessions%'`,
        );
        if (waiting > 0) break;
        if (Date.now() > deadline) throw new Error('the booking never waited on the other transaction');
        await new Promise((r) => setTimeout(r, 10));
      }
      await other.query('COMMIT');
      const res = await booking;
      expect({ status: res.status, replanned: res.headers['chairside-replanned'] }).toEqual({
        status: 201,
        replanned: 'true',
      });
      const moved = res.body.sessions.find((x: { ref: string }) => x.ref === first.ref);
      expect(moved.start === first.start && moved.chair.id === first.chair.id).toBe(false);
    } finally {
      await other.end();
    }
    const [{ n }] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM sessions a JOIN sessions b ON b.clinic_id = a.clinic_id AND a.id < b.id AND a.chair_id = b.chair_id AND a.during && b.during
        WHERE a.clinic_id = $1 AND a.status IN ${ACTIVE} AND b.status IN ${ACTIVE}`,
      [s.keys.clinicId],
    );
    expect(n).toBe(0);
  });

  it('the same from two app instances on one database (alternating): still no overlap, each all-or-nothing', async () => {
    t2 = await startTestApp({ databaseUrl: t.databaseUrl });
    // Two chairs and a nurse who may look after two patients at once: seats 1 and 2 both in play.
    const s = await crowdedClinic(t, 'Crowded two', 2, 2, 12);
    const started = Date.now();
    const outcomes = await bookAllAtOnce(s, [t, t2]);
    const result = await expectNoDoubleBooking(s, outcomes);
    expect(result.booked).toBeGreaterThan(0);
    expect(result.refused).toBeGreaterThan(0);
    // Both instances served bookings (the alternation reached the second one).
    expect(outcomes.filter((o, i) => i % 2 === 1 && [201, 409, 422].includes(o.res.status))).toHaveLength(6);
    console.info(`12 parallel bookings on two instances: ${result.codes} in ${Date.now() - started} ms`);
  });

  describe('the database itself refuses double booking (direct SQL)', () => {
    let s: Scenario;
    let client: pg.Client;
    /** A booked infusion of the scenario, to collide with. */
    let infusion: {
      plan_id: string;
      patient_id: string;
      chair_id: string;
      staff_id: string;
      staff_seat: number;
      starts_at: Date;
      occupied_until: Date;
    };
    let otherPatient: { patientId: string; planId: string };

    /** Runs `sql` in a savepoint; returns the SQLSTATE and constraint it failed with, or 'ok'. */
    async function attempt(sql: string, params: unknown[]): Promise<{ code: string; constraint?: string }> {
      await client.query('SAVEPOINT attempt');
      try {
        await client.query(sql, params);
        await client.query('RELEASE SAVEPOINT attempt');
        return { code: 'ok' };
      } catch (err) {
        await client.query('ROLLBACK TO SAVEPOINT attempt');
        const e = err as { code?: string; constraint?: string };
        return { code: e.code ?? 'unknown', constraint: e.constraint };
      }
    }
    const insertSession = (
      over: Partial<{
        plan_id: string;
        patient_id: string;
        chair_id: string | null;
        staff_id: string | null;
        staff_seat: number | null;
        starts_at: Date;
        occupied_until: Date;
        status: string;
      }>,
    ) => {
      const r = {
        ...infusion,
        ...(otherPatient && { plan_id: otherPatient.planId, patient_id: otherPatient.patientId }),
        status: 'scheduled',
        ...over,
      };
      return attempt(
        `INSERT INTO sessions (clinic_id, plan_id, patient_id, ref, step_key, occurrence, kind, label, starts_at, ends_at, occupied_until, chair_id, staff_id, staff_seat, status)
         VALUES ($1, $2, $3, 'probe#' || floor(random() * 1e9)::text, 'probe', 1, 'infusion', 'Probe', $4, $4::timestamptz + interval '1 minute', $5, $6, $7, $8, $9)`,
        [
          s.keys.clinicId,
          r.plan_id,
          r.patient_id,
          r.starts_at,
          r.occupied_until,
          r.chair_id,
          r.staff_id,
          r.staff_seat,
          r.status,
        ],
      );
    };

    beforeAll(async () => {
      s = await crowdedClinic(t, 'Constraint clinic', 2, 1, 2);
      const booked = await request(t.http)
        .post('/v1/plans')
        .set(bearer(s.keys.frontDesk))
        .send({ patientId: s.patientIds[0], protocolId: s.protocolId });
      expect(booked.status).toBe(201);
      [infusion] = await t.dataSource.query(
        `SELECT plan_id, patient_id, chair_id, staff_id, staff_seat, starts_at, occupied_until FROM sessions
          WHERE plan_id = $1 AND ref = 'infusion#1'`,
        [booked.body.id],
      );
      expect(infusion).toMatchObject({ chair_id: expect.stringMatching(UUID_RE), staff_id: s.nurse.id, staff_seat: 1 });
      // A plan row for the second patient, to hang colliding sessions on.
      const [plan] = await t.dataSource.query(
        `INSERT INTO plans (clinic_id, patient_id, protocol_id, protocol_version, tailoring, earliest_start)
         VALUES ($1, $2, $3, 1, '{}'::jsonb, '2026-11-25') RETURNING id`,
        [s.keys.clinicId, s.patientIds[1], s.protocolId],
      );
      otherPatient = { patientId: s.patientIds[1], planId: plan.id };
      client = new pg.Client({ connectionString: t.databaseUrl });
      await client.connect();
      await client.query('BEGIN');
    });
    afterAll(async () => {
      await client?.query('ROLLBACK');
      await client?.end();
    });

    const later = (d: Date, minutes: number) => new Date(d.getTime() + minutes * 60_000);
    const otherChair = () => s.chairs.find((c) => c.id !== infusion.chair_id)!.id;

    it('an overlapping session on the same chair: 23P01 (sessions_no_chair_overlap)', async () => {
      const r = await insertSession({
        chair_id: infusion.chair_id,
        staff_id: null,
        staff_seat: null,
        starts_at: later(infusion.starts_at, 30),
        occupied_until: later(infusion.occupied_until, 30),
      });
      expect(r).toEqual({ code: '23P01', constraint: 'sessions_no_chair_overlap' });
    });

    it('an overlapping session of the same patient (another chair, no staff): 23P01 (sessions_no_patient_overlap)', async () => {
      const r = await insertSession({
        plan_id: infusion.plan_id,
        patient_id: infusion.patient_id,
        chair_id: otherChair(),
        staff_id: null,
        staff_seat: null,
      });
      expect(r).toEqual({ code: '23P01', constraint: 'sessions_no_patient_overlap' });
    });

    it('an overlapping session on the same staff seat (another chair and patient): 23P01 (sessions_no_seat_overlap)', async () => {
      const r = await insertSession({
        chair_id: otherChair(),
        staff_id: infusion.staff_id,
        staff_seat: infusion.staff_seat,
        starts_at: later(infusion.starts_at, -30),
        occupied_until: later(infusion.starts_at, 1),
      });
      expect(r).toEqual({ code: '23P01', constraint: 'sessions_no_seat_overlap' });
    });

    it("a seat above the staff member's limit: 23P01 from the trigger, on insert and on update", async () => {
      // No overlap with anything: a quiet Sunday night; only the seat number is wrong (limit 1).
      const sunday = new Date('2026-11-29T03:00:00Z');
      expect(
        await insertSession({
          chair_id: null,
          staff_id: infusion.staff_id,
          staff_seat: 2,
          starts_at: sunday,
          occupied_until: later(sunday, 60),
        }),
      ).toEqual({
        code: '23P01',
        constraint: 'sessions_seat_within_capacity',
      });
      // Seat 1 at the same quiet time is fine, and moving it to seat 2 is refused.
      expect(
        await insertSession({
          chair_id: null,
          staff_id: infusion.staff_id,
          staff_seat: 1,
          starts_at: sunday,
          occupied_until: later(sunday, 60),
        }),
      ).toEqual({ code: 'ok' });
      const moved = await attempt(
        `UPDATE sessions SET staff_seat = 2 WHERE clinic_id = $1 AND staff_id = $2 AND starts_at = $3`,
        [s.keys.clinicId, infusion.staff_id, sunday],
      );
      expect(moved).toEqual({ code: '23P01', constraint: 'sessions_seat_within_capacity' });
    });

    it('only overlaps are refused: touching intervals, cancelled sessions and other chairs pass', async () => {
      // Starts exactly when the booked infusion's recovery ends ([start, end) ranges touch).
      expect(
        await insertSession({
          chair_id: infusion.chair_id,
          staff_id: infusion.staff_id,
          staff_seat: 1,
          starts_at: infusion.occupied_until,
          occupied_until: later(infusion.occupied_until, 60),
        }),
      ).toEqual({ code: 'ok' });
      // A cancelled session holds nothing.
      expect(
        await insertSession({
          chair_id: infusion.chair_id,
          staff_id: infusion.staff_id,
          staff_seat: 1,
          status: 'cancelled',
        }),
      ).toEqual({ code: 'ok' });
      // The same time on the other chair, with no staff, for another patient.
      expect(await insertSession({ chair_id: otherChair(), staff_id: null, staff_seat: null })).toEqual({ code: 'ok' });
      // ... but reactivating the cancelled one collides again.
      const reactivated = await attempt(
        `UPDATE sessions SET status = 'scheduled' WHERE clinic_id = $1 AND status = 'cancelled' AND chair_id = $2 AND starts_at = $3`,
        [s.keys.clinicId, infusion.chair_id, infusion.starts_at],
      );
      expect(reactivated.code).toBe('23P01');
    });
  });
});
