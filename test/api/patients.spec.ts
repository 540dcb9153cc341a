import { createHash, randomUUID } from 'node:crypto';
import request from 'supertest';
import {
  makePatient,
  persistClinicWithKeys,
  persistOperatorKey,
  weekdays,
  type ClinicKeys,
} from '../factories/clinic.factory.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';
import { expectProblem } from '../support/problem.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

interface AuditRow {
  clinic_id: string | null;
  actor_key_id: string | null;
  actor_role: string | null;
  action: string;
  entity_type: string;
  entity_id: string | null;
  patient_id: string | null;
}

describe('patients API (/v1/patients)', () => {
  let t: TestApp;
  let operator: string;
  let a: ClinicKeys;
  let b: ClinicKeys;
  /** A patient of clinic B, to prove clinic A cannot see it. */
  let patientB: { id: string; fullName: string };

  const keyId = async (key: string): Promise<string> => {
    const rows: { id: string }[] = await t.dataSource.query('SELECT id FROM api_keys WHERE key_hash = $1', [
      sha256(key),
    ]);
    expect(rows).toHaveLength(1);
    return rows[0].id;
  };
  const auditFor = (patientId: string, action?: string): Promise<AuditRow[]> =>
    t.dataSource.query(
      `SELECT clinic_id, actor_key_id, actor_role, action, entity_type, entity_id, patient_id FROM audit_events
       WHERE patient_id = $1 ${action ? 'AND action = $2' : ''} ORDER BY id`,
      action ? [patientId, action] : [patientId],
    );
  const counts = async (): Promise<{ patients: number; audit: number }> => {
    const [row] = await t.dataSource.query(
      'SELECT (SELECT count(*) FROM patients) AS p, (SELECT count(*) FROM audit_events) AS a',
    );
    return { patients: Number(row.p), audit: Number(row.a) };
  };
  const create = async (key: string, body: Record<string, unknown>) => {
    const res = await request(t.http).post('/v1/patients').set(bearer(key)).send(body);
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 201 });
    return res.body as { id: string; clinicId: string; fullName: string; version: number; [k: string]: unknown };
  };

  beforeAll(async () => {
    t = await startTestApp();
    operator = await persistOperatorKey(t.app);
    a = await persistClinicWithKeys(t.app, { name: 'Alpha Clinic' });
    b = await persistClinicWithKeys(t.app, { name: 'Beta Clinic' });
    patientB = await create(b.frontDesk, makePatient({ fullName: 'Bertha Betaonly' }));
  });
  afterAll(() => t.close());

  describe('authentication and roles', () => {
    it.each([
      ['post', '/v1/patients'],
      ['get', '/v1/patients'],
      ['get', `/v1/patients/${randomUUID()}`],
      ['patch', `/v1/patients/${randomUUID()}`],
    ] as const)('%s %s without a key is 401', async (method, path) => {
      const res = await request(t.http)
        [method](path)
        .send(method === 'get' ? undefined : makePatient());
      expectProblem(res, 401, 'UNAUTHENTICATED');
    });

    it('a revoked key gets 401 and writes nothing', async () => {
      const c = await persistClinicWithKeys(t.app, { name: 'Revoked Clinic' });
      await t.dataSource.query('UPDATE api_keys SET revoked_at = now() WHERE key_hash = $1', [sha256(c.frontDesk)]);
      const before = await counts();
      expectProblem(
        await request(t.http).post('/v1/patients').set(bearer(c.frontDesk)).send(makePatient()),
        401,
        'UNAUTHENTICATED',
      );
      expectProblem(await request(t.http).get('/v1/patients').set(bearer(c.frontDesk)), 401, 'UNAUTHENTICATED');
      expect(await counts()).toEqual(before);
    });

    it.each(['frontDesk', 'clinician', 'admin'] as const)(
      'the %s role may create, read, search and patch patients',
      async (role) => {
        const created = await create(a[role], makePatient({ fullName: `Role Test ${role}` }));
        expect(created.clinicId).toBe(a.clinicId);
        const got = await request(t.http).get(`/v1/patients/${created.id}`).set(bearer(a[role])).expect(200);
        expect(got.body).toEqual(created);
        const found = await request(t.http)
          .get('/v1/patients')
          .query({ q: `Role Test ${role}` })
          .set(bearer(a[role]))
          .expect(200);
        expect(found.body.items.map((p: { id: string }) => p.id)).toEqual([created.id]);
        const patched = await request(t.http)
          .patch(`/v1/patients/${created.id}`)
          .set(bearer(a[role]))
          .send({ phone: '+1 954 555 0100' })
          .expect(200);
        expect(patched.body).toMatchObject({ id: created.id, phone: '+1 954 555 0100', version: 2 });
      },
    );
  });

  describe('POST /v1/patients', () => {
    it('registers a patient with only the required fields; the optional ones come back empty', async () => {
      const res = await request(t.http)
        .post('/v1/patients')
        .set(bearer(a.frontDesk))
        .send({ fullName: 'Minimal Person', dateOfBirth: '1990-07-01' })
        .expect(201);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({
        id: expect.stringMatching(UUID_RE),
        clinicId: a.clinicId,
        fullName: 'Minimal Person',
        dateOfBirth: '1990-07-01',
        email: null,
        phone: null,
        weightKg: null,
        weightConfirmedAt: null,
        weightConfirmedBy: null,
        pendingWeightKg: null,
        pendingWeightAt: null,
        pendingWeightBy: null,
        notes: null,
        unavailable: [],
        unavailableDates: [],
        preferredTimes: [],
        version: 1,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
    });

    it('registers a patient with every field and returns them as sent (weight as a number)', async () => {
      const body = {
        fullName: 'Jordan Rivera',
        dateOfBirth: '1986-04-12',
        email: 'jordan@example.org',
        phone: '+1 (954) 555-0142',
        weightKg: 78.5,
        notes: 'Prefers text messages',
        unavailable: [
          { weekday: 3, start: '08:00', end: '12:00' },
          { weekday: 3, start: '12:00', end: '13:00' },
        ],
        unavailableDates: ['2026-12-24', '2026-12-31'],
        preferredTimes: weekdays([1, 2], '14:00', '18:00'),
      };
      const res = await request(t.http).post('/v1/patients').set(bearer(a.clinician)).send(body).expect(201);
      expect(res.body).toMatchObject({ ...body, clinicId: a.clinicId, version: 1 });
      expect(typeof res.body.weightKg).toBe('number');
      const got = await request(t.http).get(`/v1/patients/${res.body.id}`).set(bearer(a.clinician)).expect(200);
      expect(got.body).toEqual(res.body);
    });

    it.each([
      ['today (the clock says 2026-11-25)', { dateOfBirth: '2026-11-25' }],
      ['the earliest allowed birth date', { dateOfBirth: '1900-01-01' }],
      ['a leap day', { dateOfBirth: '2000-02-29' }],
      ['weight 1 kg', { weightKg: 1 }],
      ['weight 400 kg', { weightKg: 400 }],
      ['weight with one decimal', { weightKg: 55.5 }],
      ['email null', { email: null }],
      ['weightKg null', { weightKg: null }],
    ])('accepts %s', async (_label, overrides) => {
      const res = await request(t.http)
        .post('/v1/patients')
        .set(bearer(a.admin))
        .send(makePatient({ fullName: 'Boundary Case', ...overrides }))
        .expect(201);
      expect(res.body).toMatchObject(overrides);
    });

    const iv = (weekday: unknown, start: unknown, end: unknown) => ({ weekday, start, end });
    it.each<[string, Record<string, unknown>, string]>([
      ['a birth date tomorrow', { dateOfBirth: '2026-11-26' }, 'dateOfBirth'],
      ['a birth date years ahead', { dateOfBirth: '2030-01-01' }, 'dateOfBirth'],
      ['a birth date before 1900', { dateOfBirth: '1899-12-31' }, 'dateOfBirth'],
      ['2026-02-30', { dateOfBirth: '2026-02-30' }, 'dateOfBirth'],
      ['1985-02-29 (not a leap year)', { dateOfBirth: '1985-02-29' }, 'dateOfBirth'],
      ['month 13', { dateOfBirth: '1985-13-01' }, 'dateOfBirth'],
      ['a date without leading zeros', { dateOfBirth: '1985-3-14' }, 'dateOfBirth'],
      ['a day-first date', { dateOfBirth: '14/03/1985' }, 'dateOfBirth'],
      ['a date-time', { dateOfBirth: '1985-03-14T00:00:00Z' }, 'dateOfBirth'],
      ['a numeric date', { dateOfBirth: 19850314 }, 'dateOfBirth'],
      ['a missing date of birth', { dateOfBirth: undefined }, 'dateOfBirth'],
      ['weight 0', { weightKg: 0 }, 'weightKg'],
      ['a negative weight', { weightKg: -70 }, 'weightKg'],
      ['weight 1000', { weightKg: 1000 }, 'weightKg'],
      ['weight as a string "70"', { weightKg: '70' }, 'weightKg'],
      ['weight with two decimals', { weightKg: 70.25 }, 'weightKg'],
      ['a malformed email', { email: 'not-an-email' }, 'email'],
      ['an email without a domain', { email: 'jordan@' }, 'email'],
      ['a numeric email', { email: 12345 }, 'email'],
      ['a phone with letters', { phone: 'call me maybe' }, 'phone'],
      ['a numeric name', { fullName: 123 }, 'fullName'],
      ['an empty name', { fullName: '' }, 'fullName'],
      ['a null name', { fullName: null }, 'fullName'],
      ['a name over 200 characters', { fullName: 'n'.repeat(201) }, 'fullName'],
      ['a missing name', { fullName: undefined }, 'fullName'],
      ['numeric notes', { notes: 42 }, 'notes'],
      [
        'overlapping unavailable intervals',
        { unavailable: [iv(2, '08:00', '12:00'), iv(2, '11:00', '15:00')] },
        'unavailable',
      ],
      ['unavailable ending before it starts', { unavailable: [iv(2, '12:00', '08:00')] }, 'unavailable.0.end'],
      ['unavailable on weekday 0', { unavailable: [iv(0, '08:00', '12:00')] }, 'unavailable.0.weekday'],
      ['unavailable: null', { unavailable: null }, 'unavailable'],
      [
        'overlapping preferred times',
        { preferredTimes: [iv(4, '09:00', '11:00'), iv(4, '10:00', '12:00')] },
        'preferredTimes',
      ],
      ['preferred time at 25:00', { preferredTimes: [iv(4, '09:00', '25:00')] }, 'preferredTimes.0.end'],
      ['an impossible unavailable date', { unavailableDates: ['2026-12-24', '2026-02-30'] }, 'unavailableDates'],
      ['a word as an unavailable date', { unavailableDates: ['tomorrow'] }, 'unavailableDates'],
      ['unavailable dates as a string', { unavailableDates: '2026-12-24' }, 'unavailableDates'],
      ['unavailableDates: null', { unavailableDates: null }, 'unavailableDates'],
      ['a malformed clinicId', { clinicId: 'clinic-a' }, 'clinicId'],
      ['an unknown field', { ssn: '123-45-6789' }, 'ssn'],
      ['a client-chosen id', { id: randomUUID() }, 'id'],
      ['a client-chosen version', { version: 9 }, 'version'],
    ])('refuses %s with 400 naming the field, and writes nothing', async (_label, overrides, field) => {
      const before = await counts();
      const res = await request(t.http)
        .post('/v1/patients')
        .set(bearer(a.frontDesk))
        .send({ ...makePatient({ fullName: 'Invalid Person' }), ...overrides });
      expectProblem(res, 400, 'VALIDATION_FAILED', field);
      expect(await counts()).toEqual(before);
    });

    it('refuses a body that is not JSON with 400', async () => {
      const res = await request(t.http)
        .post('/v1/patients')
        .set(bearer(a.frontDesk))
        .set('Content-Type', 'application/json')
        .send('{"fullName":');
      expectProblem(res, 400, 'MALFORMED_REQUEST');
    });

    it('refuses a NUL character in the name with 400 (not 500) and writes nothing', async () => {
      const before = await counts();
      const res = await request(t.http)
        .post('/v1/patients')
        .set(bearer(a.frontDesk))
        .send(makePatient({ fullName: 'Nul\u0000Person' }));
      // Checked first: whatever the status, the failed write must leave no patient and no audit row.
      expect(await counts()).toEqual(before);
      expectProblem(res, 400, 'VALIDATION_FAILED');
    });

    describe('clinic of the patient', () => {
      it('a clinic key may name its own clinic', async () => {
        const p = await create(a.admin, makePatient({ clinicId: a.clinicId }));
        expect(p.clinicId).toBe(a.clinicId);
      });

      it('a clinic key naming another clinic gets 404 (no leaking) and writes nothing', async () => {
        const before = await counts();
        const res = await request(t.http)
          .post('/v1/patients')
          .set(bearer(a.admin))
          .send(makePatient({ clinicId: b.clinicId }));
        expectProblem(res, 404, 'CLINIC_NOT_FOUND');
        const unknown = await request(t.http)
          .post('/v1/patients')
          .set(bearer(a.admin))
          .send(makePatient({ clinicId: randomUUID() }));
        expectProblem(unknown, 404, 'CLINIC_NOT_FOUND');
        expect(res.body.detail).toBe(unknown.body.detail);
        expect(await counts()).toEqual(before);
      });

      it('an operator key must name the clinic: 400 naming clinicId, and nothing written', async () => {
        const before = await counts();
        const res = await request(t.http).post('/v1/patients').set(bearer(operator)).send(makePatient());
        expectProblem(res, 400, 'VALIDATION_FAILED', 'clinicId');
        expect(await counts()).toEqual(before);
      });

      it('an operator key naming an unknown clinic gets 404, and nothing is written', async () => {
        const before = await counts();
        const res = await request(t.http)
          .post('/v1/patients')
          .set(bearer(operator))
          .send(makePatient({ clinicId: randomUUID() }));
        expectProblem(res, 404, 'CLINIC_NOT_FOUND');
        expect(await counts()).toEqual(before);
      });

      it('an operator key registers a patient in the clinic it names and can read and patch it', async () => {
        const p = await create(operator, makePatient({ clinicId: b.clinicId, fullName: 'Operator Made' }));
        expect(p.clinicId).toBe(b.clinicId);
        await request(t.http).get(`/v1/patients/${p.id}`).set(bearer(operator)).expect(200);
        const patched = await request(t.http)
          .patch(`/v1/patients/${p.id}`)
          .set(bearer(operator))
          .send({ notes: 'seen by operator' })
          .expect(200);
        expect(patched.body).toMatchObject({ clinicId: b.clinicId, notes: 'seen by operator', version: 2 });
        // Clinic B sees it; clinic A does not.
        await request(t.http).get(`/v1/patients/${p.id}`).set(bearer(b.frontDesk)).expect(200);
        expectProblem(
          await request(t.http).get(`/v1/patients/${p.id}`).set(bearer(a.frontDesk)),
          404,
          'PATIENT_NOT_FOUND',
        );
      });
    });
  });

  describe('GET /v1/patients/{id}', () => {
    it('is 404 for an unknown id and 400 naming patientId for a malformed one', async () => {
      expectProblem(
        await request(t.http).get(`/v1/patients/${randomUUID()}`).set(bearer(a.frontDesk)),
        404,
        'PATIENT_NOT_FOUND',
      );
      expectProblem(
        await request(t.http).get('/v1/patients/not-a-uuid').set(bearer(a.frontDesk)),
        400,
        'VALIDATION_FAILED',
        'patientId',
      );
      expectProblem(
        await request(t.http).patch('/v1/patients/1234').set(bearer(a.frontDesk)).send({ notes: 'x' }),
        400,
        'VALIDATION_FAILED',
        'patientId',
      );
    });

    it("answers a clinic key asking for another clinic's patient exactly as for an unknown one, and audits no read", async () => {
      const unknown = await request(t.http).get(`/v1/patients/${randomUUID()}`).set(bearer(a.admin));
      for (const key of [a.admin, a.clinician, a.frontDesk]) {
        const res = await request(t.http).get(`/v1/patients/${patientB.id}`).set(bearer(key));
        expectProblem(res, 404, 'PATIENT_NOT_FOUND');
        expect(res.body.detail).toBe(unknown.body.detail);
      }
      expect(await auditFor(patientB.id, 'patient.read')).toEqual([]);
    });

    it("refuses a clinic key patching another clinic's patient with 404 and leaves it unchanged", async () => {
      const before = (await request(t.http).get(`/v1/patients/${patientB.id}`).set(bearer(b.admin)).expect(200)).body;
      const res = await request(t.http)
        .patch(`/v1/patients/${patientB.id}`)
        .set(bearer(a.admin))
        .send({ fullName: 'Hijacked' });
      expectProblem(res, 404, 'PATIENT_NOT_FOUND');
      const after = (await request(t.http).get(`/v1/patients/${patientB.id}`).set(bearer(b.admin)).expect(200)).body;
      expect(after).toEqual(before);
      expect(await auditFor(patientB.id, 'patient.update')).toEqual([]);
    });
  });

  describe('PATCH /v1/patients/{id}', () => {
    it('changes the given fields, keeps the others, and raises version', async () => {
      const p = await create(
        a.clinician,
        makePatient({ fullName: 'Patch Me', email: 'patch@example.org', phone: '555-0100', notes: 'n', weightKg: 80 }),
      );
      const res = await request(t.http)
        .patch(`/v1/patients/${p.id}`)
        .set(bearer(a.clinician))
        .send({ weightKg: 81.5, unavailableDates: ['2027-01-04'] })
        .expect(200);
      expect(res.body).toEqual({
        ...p,
        weightKg: 81.5,
        unavailableDates: ['2027-01-04'],
        version: 2,
        updatedAt: expect.any(String),
      });
      const res2 = await request(t.http)
        .patch(`/v1/patients/${p.id}`)
        .set(bearer(a.frontDesk))
        .send({ fullName: 'Patched Name' })
        .expect(200);
      expect(res2.body).toMatchObject({ fullName: 'Patched Name', weightKg: 81.5, version: 3 });
      const got = await request(t.http).get(`/v1/patients/${p.id}`).set(bearer(a.admin)).expect(200);
      expect(got.body).toEqual(res2.body);
    });

    it('clears optional fields sent as null', async () => {
      const p = await create(
        a.clinician,
        makePatient({
          fullName: 'Clear Me',
          email: 'clear@example.org',
          phone: '555-0101',
          notes: 'note',
          weightKg: 70,
        }),
      );
      const res = await request(t.http)
        .patch(`/v1/patients/${p.id}`)
        .set(bearer(a.frontDesk))
        .send({ email: null })
        .expect(200);
      expect(res.body).toMatchObject({ email: null, phone: '555-0101', notes: 'note', weightKg: 70, version: 2 });
      // The weight is a clinician's to clear (the front desk's null only withdraws a pending weight).
      const res2 = await request(t.http)
        .patch(`/v1/patients/${p.id}`)
        .set(bearer(a.clinician))
        .send({ phone: null, notes: null, weightKg: null })
        .expect(200);
      expect(res2.body).toMatchObject({
        email: null,
        phone: null,
        notes: null,
        weightKg: null,
        fullName: 'Clear Me',
        version: 3,
      });
      const got = await request(t.http).get(`/v1/patients/${p.id}`).set(bearer(a.frontDesk)).expect(200);
      expect(got.body).toMatchObject({ email: null, phone: null, notes: null, weightKg: null });
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['fullName: null', { fullName: null }, 'fullName'],
      ['dateOfBirth: null', { dateOfBirth: null }, 'dateOfBirth'],
      ['unavailable: null', { unavailable: null }, 'unavailable'],
      ['unavailableDates: null', { unavailableDates: null }, 'unavailableDates'],
      ['preferredTimes: null', { preferredTimes: null }, 'preferredTimes'],
      ['an empty name', { fullName: '' }, 'fullName'],
      ['a birth date in the future', { dateOfBirth: '2026-12-01' }, 'dateOfBirth'],
      ['a non-existent birth date', { dateOfBirth: '1990-02-30' }, 'dateOfBirth'],
      ['weight 0', { weightKg: 0 }, 'weightKg'],
      ['weight "70"', { weightKg: '70' }, 'weightKg'],
      ['a bad email', { email: 'nope' }, 'email'],
      [
        'overlapping unavailable intervals',
        {
          unavailable: [
            { weekday: 5, start: '08:00', end: '10:00' },
            { weekday: 5, start: '09:59', end: '11:00' },
          ],
        },
        'unavailable',
      ],
      ['a bad unavailable date', { unavailableDates: ['2027-13-01'] }, 'unavailableDates'],
      ['moving the patient to another clinic', { clinicId: randomUUID() }, 'clinicId'],
      ['a client-chosen version', { version: 1 }, 'version'],
    ])('refuses %s with 400 (not 500), changes nothing, and audits no update', async (_label, body, field) => {
      const p = await create(a.admin, makePatient({ fullName: `Guarded ${_label}`, email: 'g@example.org' }));
      const before = await counts();
      const res = await request(t.http).patch(`/v1/patients/${p.id}`).set(bearer(a.admin)).send(body);
      expectProblem(res, 400, 'VALIDATION_FAILED', field);
      expect(await counts()).toEqual(before);
      const [row] = await t.dataSource.query(
        'SELECT full_name, date_of_birth::text AS dob, email, version FROM patients WHERE id = $1',
        [p.id],
      );
      expect(row).toEqual({ full_name: p.fullName, dob: '1985-03-14', email: 'g@example.org', version: 1 });
      expect(await auditFor(p.id, 'patient.update')).toEqual([]);
    });

    it('serialises concurrent patches: every one is applied and version counts them all', async () => {
      const p = await create(a.admin, makePatient({ fullName: 'Concurrent Patch' }));
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          request(t.http)
            .patch(`/v1/patients/${p.id}`)
            .set(bearer(a.admin))
            .send({ notes: `note ${i}` }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
      expect(results.map((r) => r.body.version).sort((x: number, y: number) => x - y)).toEqual([
        2, 3, 4, 5, 6, 7, 8, 9,
      ]);
      const got = await request(t.http).get(`/v1/patients/${p.id}`).set(bearer(a.admin)).expect(200);
      expect(got.body.version).toBe(9);
      expect(await auditFor(p.id, 'patient.update')).toHaveLength(8);
    });

    it('is 404 for an unknown patient', async () => {
      expectProblem(
        await request(t.http).patch(`/v1/patients/${randomUUID()}`).set(bearer(a.admin)).send({ notes: 'x' }),
        404,
        'PATIENT_NOT_FOUND',
      );
    });
  });

  describe('GET /v1/patients (search)', () => {
    let s: ClinicKeys;
    const names = [
      'Anna Smith',
      'JOHN SMITHERS',
      'smithy Jones',
      'Bob Jones',
      '100% Real',
      'Under_score',
      'Underscore',
      'Back\\slash',
      'Plain Name',
    ];
    const byName: Record<string, string> = {};
    beforeAll(async () => {
      s = await persistClinicWithKeys(t.app, { name: 'Search Clinic' });
      for (const fullName of names) byName[fullName] = (await create(s.frontDesk, makePatient({ fullName }))).id;
      // Same name in another clinic: must never show up in clinic S's results.
      await create(b.frontDesk, makePatient({ fullName: 'Anna Smith' }));
    });
    const search = async (query: Record<string, string | number>, key = s.frontDesk) => {
      const res = await request(t.http).get('/v1/patients').query(query).set(bearer(key));
      expect({ status: res.status, body: res.body }).toMatchObject({ status: 200 });
      return res.body as { items: { id: string; fullName: string; clinicId: string }[]; nextCursor: string | null };
    };

    it.each([
      ['smith', ['Anna Smith', 'JOHN SMITHERS', 'smithy Jones']],
      ['SMITH', ['Anna Smith', 'JOHN SMITHERS', 'smithy Jones']],
      ['sMiTh', ['Anna Smith', 'JOHN SMITHERS', 'smithy Jones']],
      ['ithe', ['JOHN SMITHERS']],
      ['jones', ['Bob Jones', 'smithy Jones']],
      ['%', ['100% Real']],
      ['0%', ['100% Real']],
      ['_', ['Under_score']],
      ['r_s', ['Under_score']],
      ['\\', ['Back\\slash']],
      ['nobody', []],
    ])('q=%s finds exactly %j, in name order (case-insensitive substring; %% and _ literal)', async (q, expected) => {
      const page = await search({ q });
      expect(page.items.map((p) => p.fullName)).toEqual(expected);
      expect(page.items.every((p) => p.clinicId === s.clinicId)).toBe(true);
      expect(page.nextCursor).toBeNull();
    });

    it('without q lists every patient of the clinic (and only those) in case-insensitive name order', async () => {
      const page = await search({ limit: 200 });
      expect(page.items.map((p) => p.fullName).sort()).toEqual([...names].sort());
      const ordered: { id: string }[] = await t.dataSource.query(
        'SELECT id FROM patients WHERE clinic_id = $1 ORDER BY lower(full_name), id',
        [s.clinicId],
      );
      expect(page.items.map((p) => p.id)).toEqual(ordered.map((r) => r.id));
      const smithIdx = ['Anna Smith', 'JOHN SMITHERS', 'smithy Jones'].map((n) =>
        page.items.findIndex((p) => p.fullName === n),
      );
      expect(smithIdx).toEqual([...smithIdx].sort((x, y) => x - y));
    });

    it('pages with limit and cursor through every match exactly once, ties on the name broken by id', async () => {
      const c = await persistClinicWithKeys(t.app, { name: 'Paging Clinic' });
      const made: string[] = [];
      for (const fullName of [
        'Page 05',
        'page 01',
        'PAGE 03',
        'Page 02',
        'Page 04',
        'Page Same',
        'page same',
        'PAGE SAME',
        'Not Listed',
      ]) {
        const p = await create(c.frontDesk, makePatient({ fullName }));
        if (fullName !== 'Not Listed') made.push(p.id);
      }
      const expected: { id: string }[] = await t.dataSource.query(
        "SELECT id FROM patients WHERE clinic_id = $1 AND lower(full_name) LIKE 'page%' ORDER BY lower(full_name), id",
        [c.clinicId],
      );
      expect(expected.map((r) => r.id).sort()).toEqual([...made].sort());
      for (const limit of [1, 2, 3]) {
        const seen: string[] = [];
        let cursor: string | null = null;
        for (let i = 0; i < 50; i++) {
          const page = await search(cursor ? { q: 'PAGE', limit, cursor } : { q: 'PAGE', limit }, c.clinician);
          expect(page.items.length).toBeLessThanOrEqual(limit);
          seen.push(...page.items.map((p) => p.id));
          cursor = page.nextCursor;
          if (cursor === null) break;
        }
        expect(cursor).toBeNull();
        expect(seen).toEqual(expected.map((r) => r.id));
      }
    });

    it('finds names with accented capitals case-insensitively (q=Émile, q=émile, q=ÉMILE)', async () => {
      const c = await persistClinicWithKeys(t.app, { name: 'Accent Clinic' });
      const emile = await create(c.frontDesk, makePatient({ fullName: 'Émile Durand' }));
      for (const q of ['Émile', 'émile', 'ÉMILE']) {
        const page = await search({ q }, c.frontDesk);
        expect({ q, ids: page.items.map((p) => p.id) }).toEqual({ q, ids: [emile.id] });
      }
    });

    it('pages through names with accented capitals without skipping anyone', async () => {
      const c = await persistClinicWithKeys(t.app, { name: 'Accent Paging Clinic' });
      const ids: string[] = [];
      for (const fullName of ['Émile Durand', 'Éva Martin', 'Zoë Adams', 'Ana Ñúñez', 'Ülla Berg'])
        ids.push((await create(c.frontDesk, makePatient({ fullName }))).id);
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < 20; i++) {
        const page = await search(cursor ? { limit: 1, cursor } : { limit: 1 }, c.frontDesk);
        seen.push(...page.items.map((p) => p.id));
        cursor = page.nextCursor;
        if (cursor === null) break;
      }
      expect([...seen].sort()).toEqual([...ids].sort());
      expect(new Set(seen).size).toBe(seen.length);
    });

    it("never shows another clinic's patients to a clinic key, even when it asks for that clinic", async () => {
      expect((await search({ q: 'Betaonly' }, a.admin)).items).toEqual([]);
      expect((await search({ q: 'Betaonly', clinicId: b.clinicId }, a.admin)).items).toEqual([]);
      expect((await search({ clinicId: b.clinicId, limit: 200 }, a.admin)).items).toEqual([]);
      const anna = await search({ q: 'anna smith' });
      expect(anna.items.map((p) => p.id)).toEqual([byName['Anna Smith']]);
    });

    it('lets an operator key search one clinic by clinicId', async () => {
      const page = await search({ q: 'anna smith', clinicId: s.clinicId }, operator);
      expect(page.items.map((p) => p.id)).toEqual([byName['Anna Smith']]);
      const inB = await search({ q: 'anna smith', clinicId: b.clinicId }, operator);
      expect(inB.items).toHaveLength(1);
      expect(inB.items[0].clinicId).toBe(b.clinicId);
    });

    it.each<[string, Record<string, string>, string]>([
      ['a garbage cursor', { cursor: 'garbage' }, 'cursor'],
      ['a cursor of the wrong shape', { cursor: b64(['only one']) }, 'cursor'],
      ['a cursor with numbers', { cursor: b64([1, 2]) }, 'cursor'],
      ['a cursor with a tampered id', { cursor: b64(['anna smith', 'not-a-uuid']) }, 'cursor'],
      ['limit 0', { limit: '0' }, 'limit'],
      ['limit 201', { limit: '201' }, 'limit'],
      ['limit abc', { limit: 'abc' }, 'limit'],
      ['limit 1.5', { limit: '1.5' }, 'limit'],
      ['an empty q', { q: '' }, 'q'],
      ['a q over 100 characters', { q: 'q'.repeat(101) }, 'q'],
      ['a malformed clinicId', { clinicId: 'abc' }, 'clinicId'],
      ['an unknown parameter', { name: 'anna' }, 'name'],
    ])('refuses %s with 400 naming the parameter', async (_label, query, field) => {
      const res = await request(t.http).get('/v1/patients').query(query).set(bearer(s.frontDesk));
      expectProblem(res, 400, 'VALIDATION_FAILED', field);
    });

    it('refuses q given twice with 400, not 500', async () => {
      const res = await request(t.http).get('/v1/patients?q=anna&q=bob').set(bearer(s.frontDesk));
      expectProblem(res, 400, 'VALIDATION_FAILED', 'q');
    });
  });

  describe('audit trail', () => {
    it('GET /v1/patients/{id} leaves one patient.read row with the patient and the key that read it', async () => {
      const p = await create(a.admin, makePatient({ fullName: 'Audited Read' }));
      expect(await auditFor(p.id, 'patient.read')).toEqual([]);
      await request(t.http).get(`/v1/patients/${p.id}`).set(bearer(a.frontDesk)).expect(200);
      expect(await auditFor(p.id, 'patient.read')).toEqual([
        {
          clinic_id: a.clinicId,
          actor_key_id: await keyId(a.frontDesk),
          actor_role: 'front_desk',
          action: 'patient.read',
          entity_type: 'patient',
          entity_id: p.id,
          patient_id: p.id,
        },
      ]);
      await request(t.http).get(`/v1/patients/${p.id}`).set(bearer(operator)).expect(200);
      const reads = await auditFor(p.id, 'patient.read');
      expect(reads).toHaveLength(2);
      expect(reads[1]).toMatchObject({
        actor_key_id: await keyId(operator),
        actor_role: 'admin',
        clinic_id: a.clinicId,
      });
    });

    it('creating and patching leave patient.create and patient.update rows', async () => {
      const p = await create(a.clinician, makePatient({ fullName: 'Audited Write' }));
      expect(await auditFor(p.id)).toEqual([
        {
          clinic_id: a.clinicId,
          actor_key_id: await keyId(a.clinician),
          actor_role: 'clinician',
          action: 'patient.create',
          entity_type: 'patient',
          entity_id: p.id,
          patient_id: p.id,
        },
      ]);
      await request(t.http).patch(`/v1/patients/${p.id}`).set(bearer(a.admin)).send({ notes: 'updated' }).expect(200);
      const rows = await auditFor(p.id);
      expect(rows.map((r) => r.action)).toEqual(['patient.create', 'patient.update']);
      expect(rows[1]).toMatchObject({
        actor_key_id: await keyId(a.admin),
        actor_role: 'admin',
        patient_id: p.id,
        clinic_id: a.clinicId,
      });
    });

    it('a search leaves one patient.list row per patient returned, and none for patients not returned', async () => {
      const c = await persistClinicWithKeys(t.app, { name: 'Audit Search Clinic' });
      const listed = [
        await create(c.frontDesk, makePatient({ fullName: 'Listed One' })),
        await create(c.frontDesk, makePatient({ fullName: 'Listed Two' })),
      ];
      const beyond = await create(c.frontDesk, makePatient({ fullName: 'Listed Three' }));
      const other = await create(c.frontDesk, makePatient({ fullName: 'Unrelated' }));
      const page = await request(t.http)
        .get('/v1/patients')
        .query({ q: 'listed', limit: 2 })
        .set(bearer(c.clinician))
        .expect(200);
      // "listed one", "listed three", "listed two" in name order: the first two are returned.
      const returned = page.body.items.map((p: { id: string }) => p.id) as string[];
      expect(returned).toEqual([listed[0].id, beyond.id]);
      const rows: AuditRow[] = await t.dataSource.query(
        "SELECT clinic_id, actor_key_id, actor_role, action, entity_type, entity_id, patient_id FROM audit_events WHERE action = 'patient.list' AND clinic_id = $1 ORDER BY patient_id",
        [c.clinicId],
      );
      const clinicianId = await keyId(c.clinician);
      expect(rows).toEqual(
        [...returned].sort().map((id) => ({
          clinic_id: c.clinicId,
          actor_key_id: clinicianId,
          actor_role: 'clinician',
          action: 'patient.list',
          entity_type: 'patient',
          entity_id: id,
          patient_id: id,
        })),
      );
      expect(await auditFor(listed[1].id, 'patient.list')).toEqual([]);
      expect(await auditFor(other.id, 'patient.list')).toEqual([]);
    });

    it('an empty search result leaves no audit rows', async () => {
      const before = await counts();
      await request(t.http).get('/v1/patients').query({ q: 'zzz-no-such-name' }).set(bearer(a.frontDesk)).expect(200);
      expect(await counts()).toEqual(before);
    });
  });
});
