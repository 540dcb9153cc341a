import request from 'supertest';
import { bookPlan, setupClinic, type ClinicSetup } from '../factories/series.factory.js';
import { persistClinicWithKeys } from '../factories/clinic.factory.js';
import { expectProblem } from '../support/problem.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// GET /v1/clinics/{id}/load: per local day and hour, chairs occupied and infusion starts; counts
// only (no patient data), audited as a read of the clinic.

describe('GET /v1/clinics/{id}/load', () => {
  let t: TestApp;
  let s: ClinicSetup;
  let plan: Record<string, any>;

  beforeAll(async () => {
    t = await startTestApp();
    s = await setupClinic(t.app, t.http, 'Load clinic', { chairs: 2 });
    plan = await bookPlan(t.http, s, { protocolId: s.shortProtocolId, earliestStart: '2026-11-30' });
  });
  afterAll(async () => {
    await t?.close();
  });

  const load = (q: Record<string, string>, key = s.keys.frontDesk, clinicId = s.keys.clinicId) =>
    request(t.http).get(`/v1/clinics/${clinicId}/load`).query(q).set(bearer(key));

  it('counts chairs occupied and starts per local hour, matching the booked sessions, with no patient data', async () => {
    const res = await load({ from: '2026-11-30', to: '2026-12-13' }).expect(200);
    expect(res.body).toMatchObject({ timezone: 'America/New_York', chairs: 2, maxStartsPerSlot: null });
    expect(res.body.days).toHaveLength(14);
    // Opening hours Mon–Fri 08:00–18:00: ten hours on a weekday, none on a Sunday with nothing booked.
    const monday = res.body.days.find((d: { date: string }) => d.date === '2026-11-30');
    expect(monday.hours.map((h: { hour: string }) => h.hour)).toEqual(
      ['08', '09', '10', '11', '12', '13', '14', '15', '16', '17'].map((h) => `${h}:00`),
    );
    expect(res.body.days.find((d: { date: string }) => d.date === '2026-12-06').hours).toEqual([]);

    const chairSessions = (plan.sessions as any[]).filter((x) => x.chair !== null);
    expect(chairSessions.length).toBe(2);
    const hours = res.body.days.flatMap((d: any) => d.hours);
    const totalStarts = hours.reduce((n: number, h: any) => n + h.starts, 0);
    expect(totalStarts).toBe(chairSessions.length);
    // Chair-hours add up to the sessions' occupancy (duration + recovery).
    const chairHours = hours.reduce((n: number, h: any) => n + h.chairsOccupied, 0);
    const expected = chairSessions.reduce(
      (n: number, x: any) => n + (Date.parse(x.occupiedUntil) - Date.parse(x.start)) / 3_600_000,
      0,
    );
    expect(chairHours).toBeCloseTo(expected, 1);
    // The hour of the first infusion's start counts it.
    const first = chairSessions[0];
    const day = res.body.days.find((d: any) => d.date === first.localDate);
    const hour = day.hours.find((h: any) => h.hour === `${first.localTime.slice(0, 2)}:00`);
    expect(hour).toMatchObject({ starts: 1, peakStartsPerSlot: 1, peakChairs: 1 });
    // No patient data anywhere in it.
    const body = JSON.stringify(res.body);
    expect(body).not.toContain(plan.patientId);
    expect(body).not.toMatch(/patient/i);
  });

  it('is audited as a read of the clinic', async () => {
    await load({ from: '2026-12-01', to: '2026-12-01' }).expect(200);
    const rows = await t.dataSource.query(
      `SELECT entity_type, entity_id, patient_id FROM audit_events WHERE action = 'clinic.load.read' AND clinic_id = $1`,
      [s.keys.clinicId],
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0]).toEqual({ entity_type: 'clinic', entity_id: s.keys.clinicId, patient_id: null });
  });

  it.each([
    [{ from: '2026-12-01' }, 'to'],
    [{ from: '2026-12-01', to: '2026-13-01' }, 'to'],
    [{ from: 'yesterday', to: '2026-12-01' }, 'from'],
    [{ from: '2026-12-10', to: '2026-12-01' }, 'to'],
    [{ from: '2026-12-01', to: '2027-01-01' }, 'to'],
    [{ from: '2029-12-01', to: '2029-12-02' }, 'to'],
  ])('refuses %j with a 400 naming the field', async (q, field) => {
    expectProblem(await load(q as Record<string, string>), 400, 'VALIDATION_FAILED', field);
  });

  it("another clinic's id is a 404", async () => {
    const other = await persistClinicWithKeys(t.app, { name: 'Other load clinic' });
    expectProblem(
      await load({ from: '2026-12-01', to: '2026-12-01' }, s.keys.frontDesk, other.clinicId),
      404,
      'CLINIC_NOT_FOUND',
    );
  });
});
