import request from 'supertest';
import { newPatient, setupClinic, type ClinicSetup } from '../factories/series.factory.js';
import { expectProblem } from '../support/problem.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// Issue 14, item 8: no date a request names may lie more than 730 days ahead (earliestStart once
// booked sessions in year 10000, which sync then sent as non-RFC 3339 years). Now is
// 2026-11-25 10:00 in New York: the last date allowed is 2028-11-24.
describe('dates at most 730 days ahead', () => {
  let t: TestApp;
  let s: ClinicSetup;

  beforeAll(async () => {
    t = await startTestApp();
    s = await setupClinic(t.app, t.http, 'Far future');
  });
  afterAll(() => t.close());

  const counts = async () =>
    (
      await t.dataSource.query(
        `SELECT (SELECT count(*) FROM plans)::int AS plans, (SELECT count(*) FROM sessions)::int AS sessions`,
      )
    )[0];

  it.each(['9999-12-31', '2028-11-25'])(
    'booking or previewing with earliestStart %s is 400 naming earliestStart, nothing written',
    async (earliestStart) => {
      const patientId = await newPatient(t.http, s);
      const before = await counts();
      for (const path of ['/v1/plans/preview', '/v1/plans']) {
        const res = await request(t.http)
          .post(path)
          .set(bearer(s.keys.frontDesk))
          .send({ protocolId: s.shortProtocolId, patientId, earliestStart });
        expectProblem(res, 400, 'VALIDATION_FAILED', 'earliestStart', { exact: true });
        expect(res.body.errors[0].message).toMatch(/at most 730 days ahead \(on or before 2028-11-24\)/);
      }
      expect(await counts()).toEqual(before);
      // The last date allowed is a date like any other.
      const edge = await request(t.http)
        .post('/v1/plans/preview')
        .set(bearer(s.keys.frontDesk))
        .send({ protocolId: s.shortProtocolId, patientId, earliestStart: '2028-11-24' });
      expect(edge.status).toBe(200);
      expect(edge.body.sessions[0].localDate >= '2028-11-24').toBe(true);
    },
  );

  it('free slots: a window beyond the cap is 400 naming to', async () => {
    const url = `/v1/clinics/${s.keys.clinicId}/availability`;
    expectProblem(
      await request(t.http)
        .get(`${url}?from=9999-12-01&to=9999-12-03&durationMinutes=40`)
        .set(bearer(s.keys.frontDesk)),
      400,
      'VALIDATION_FAILED',
      'to',
    );
    expectProblem(
      await request(t.http)
        .get(`${url}?from=2028-11-20&to=2028-11-25&durationMinutes=40`)
        .set(bearer(s.keys.frontDesk)),
      400,
      'VALIDATION_FAILED',
      'to',
    );
    expect(
      (
        await request(t.http)
          .get(`${url}?from=2028-11-20&to=2028-11-24&durationMinutes=40`)
          .set(bearer(s.keys.frontDesk))
      ).status,
    ).toBe(200);
  });

  it.each([
    ['from=9999-12-01&to=9999-12-02', 'from'],
    ['from=2026-11-25&to=9999-12-02', 'to'],
    ['from=9999-12-01T00:00:00Z&to=9999-12-02T00:00:00Z', 'from'],
    ['from=2028-11-25&to=2028-11-26', 'from'],
  ])('the day sheet with %s is 400 naming %s', async (query, field) => {
    expectProblem(
      await request(t.http).get(`/v1/sessions?${query}`).set(bearer(s.keys.frontDesk)),
      400,
      'VALIDATION_FAILED',
      field,
    );
  });

  it('the day sheet up to the last allowed date answers', async () => {
    expect(
      (await request(t.http).get('/v1/sessions?from=2028-11-20&to=2028-11-24').set(bearer(s.keys.frontDesk))).status,
    ).toBe(200);
  });

  it('a closure ending beyond the cap is 400 naming its last date; the last date allowed is accepted', async () => {
    const url = `/v1/clinics/${s.keys.clinicId}/closures`;
    const closures = async () =>
      (await t.dataSource.query(`SELECT count(*)::int AS n FROM closures WHERE clinic_id = $1`, [s.keys.clinicId]))[0]
        .n;
    const before = await closures();
    expectProblem(
      await request(t.http).post(url).set(bearer(s.keys.admin)).send({ startDate: '9999-12-25', reason: 'Far' }),
      400,
      'VALIDATION_FAILED',
      'startDate',
      { exact: true },
    );
    expectProblem(
      await request(t.http)
        .post(url)
        .set(bearer(s.keys.admin))
        .send({ startDate: '2028-11-20', endDate: '2028-11-25', reason: 'Far' }),
      400,
      'VALIDATION_FAILED',
      'endDate',
      { exact: true },
    );
    expect(await closures()).toBe(before);
    expect(
      (
        await request(t.http)
          .post(url)
          .set(bearer(s.keys.admin))
          .send({ startDate: '2028-11-20', endDate: '2028-11-24', reason: 'Edge' })
      ).status,
    ).toBe(201);
  });

  it("a patient's unavailable date beyond the cap is 400 naming it, on registration and on change", async () => {
    const registered = await request(t.http)
      .post('/v1/patients')
      .set(bearer(s.keys.frontDesk))
      .send({ fullName: 'Far Away', dateOfBirth: '1980-01-01', unavailableDates: ['2027-01-04', '9999-12-31'] });
    expectProblem(registered, 400, 'VALIDATION_FAILED', 'unavailableDates.1', { exact: true });
    const patientId = await newPatient(t.http, s);
    const changed = await request(t.http)
      .patch(`/v1/patients/${patientId}`)
      .set(bearer(s.keys.frontDesk))
      .send({ unavailableDates: ['2028-11-25'] });
    expectProblem(changed, 400, 'VALIDATION_FAILED', 'unavailableDates.0', { exact: true });
    const edge = await request(t.http)
      .patch(`/v1/patients/${patientId}`)
      .set(bearer(s.keys.frontDesk))
      .send({ unavailableDates: ['2028-11-24'] });
    expect(edge.status).toBe(200);
    expect(edge.body.unavailableDates).toEqual(['2028-11-24']);
  });

  it.each(['from', 'to'])('the audit trail with %s beyond the cap is 400 naming it', async (field) => {
    const query = field === 'from' ? 'from=9999-12-01T00:00:00Z' : 'from=2026-11-01T00:00:00Z&to=2028-11-26T00:00:00Z';
    expectProblem(
      await request(t.http).get(`/v1/audit?${query}`).set(bearer(s.keys.admin)),
      400,
      'VALIDATION_FAILED',
      field,
      { exact: true },
    );
    expect(
      (
        await request(t.http)
          .get('/v1/audit?from=2026-11-01T00:00:00Z&to=2028-11-24T00:00:00Z')
          .set(bearer(s.keys.admin))
      ).status,
    ).toBe(200);
  });
});
