import request from 'supertest';
import { makeStaff, weekdays } from '../factories/clinic.factory.js';
import { newPatient, setupClinic, type ClinicSetup } from '../factories/series.factory.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// ---------------------------------------------------------------------------------------------
// Issue 13 through the API: the demo clinic's shape (4 chairs; 3 nurses with 2 patients at once,
// a physician, a therapist, on the demo hours) filled by one new patient after another, each
// asking for the demo series with a first session within 14 days of Monday 2026-12-07. Every
// request a one-day window would accept is booked; every refusal names an earliest start that
// gives a plan when asked, and no day of the window does.
// ---------------------------------------------------------------------------------------------

const MON_FRI = [1, 2, 3, 4, 5];
const MONDAY = '2026-12-07';
const addDays = (date: string, n: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

describe('the demo clinic filled one patient after another (issue 13)', () => {
  let t: TestApp;
  let c: ClinicSetup;

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-12-03T15:00:00Z' });
    const nurseHours = [...weekdays(MON_FRI, '08:00', '18:00'), ...weekdays([6], '09:00', '14:00')];
    c = await setupClinic(t.app, t.http, 'Demo shape', {
      chairs: 4,
      openingHours: nurseHours,
      staff: {
        nurse: { availability: nurseHours, maxConcurrentPatients: 2 },
        physician: { availability: weekdays(MON_FRI, '09:00', '17:00'), maxConcurrentPatients: 1 },
        therapist: {
          availability: [...weekdays(MON_FRI, '09:00', '18:00'), ...weekdays([6], '09:00', '13:00')],
          maxConcurrentPatients: 1,
        },
      },
    });
    for (const body of [
      { name: 'Second nurse', availability: weekdays(MON_FRI, '08:00', '18:00') },
      {
        name: 'Third nurse',
        availability: [...weekdays([2, 3, 4, 5], '10:00', '18:00'), ...weekdays([6], '09:00', '14:00')],
      },
    ]) {
      await request(t.http)
        .post(`/v1/clinics/${c.keys.clinicId}/staff`)
        .set(bearer(c.keys.admin))
        .send(makeStaff({ ...body, role: 'nurse', maxConcurrentPatients: 2 }))
        .expect(201);
    }
  });
  afterAll(() => t.close());

  const ask = (
    path: '/v1/plans' | '/v1/plans/preview',
    patientId: string,
    earliestStart: string,
    startWithinDays: number,
  ) =>
    request(t.http)
      .post(path)
      .set(bearer(c.keys.frontDesk))
      .send({ patientId, protocolId: c.protocolId, earliestStart, startWithinDays });

  it('books while a first day in the window admits a plan; then refuses, naming the true earliest start', async () => {
    let booked = 0;
    let refused = 0;
    for (let p = 0; p < 40 && refused < 3; p++) {
      const patientId = await newPatient(t.http, c, { fullName: `Fill patient ${p}` });
      const res = await ask('/v1/plans', patientId, MONDAY, 14);
      if (res.status === 201) {
        booked++;
        continue;
      }
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 422, code: 'PLAN_INFEASIBLE' });
      refused++;
      expect(res.body.binding.code).not.toBe('SEARCH_LIMIT');
      const earliest = res.body.earliestStart as string;
      expect(earliest).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      // No first day of the window, nor any day before the earliest start named, admits a plan.
      for (let date = MONDAY; date < earliest; date = addDays(date, 1)) {
        const one = await ask('/v1/plans/preview', patientId, date, 1);
        expect({ date, status: one.status }).toEqual({ date, status: 422 });
      }
      const at = await ask('/v1/plans/preview', patientId, earliest, 1);
      expect({ date: earliest, status: at.status }).toEqual({ date: earliest, status: 200 });
      expect(at.body.sessions[0].localDate ?? at.body.sessions[0].start.slice(0, 10)).toBe(earliest);
    }
    // Before issue 13 the engine gave up (SEARCH_LIMIT, no earliest start) from the 13th patient on.
    expect(booked).toBeGreaterThan(20);
    expect(refused).toBe(3);
  }, 120_000);
});
