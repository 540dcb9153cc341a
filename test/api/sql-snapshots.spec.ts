import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { BookingsCache } from '../../src/plans/bookings-cache.js';
import { newPatient, setupClinic, type ClinicSetup } from '../factories/series.factory.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

/**
 * The SQL of the hot paths, kept as files in test/sql/ (as Immich keeps its generated queries), so
 * that a change to a statement shows up in review as a change to a file. A run compares; after an
 * intended change, `SQL_SNAPSHOTS=update npm test -- test/api/sql-snapshots.spec.ts` rewrites them.
 * Each file holds the distinct statements a request sends, whitespace collapsed, sorted (reads run
 * side by side, so their order is not fixed); parameters are not part of it.
 */
const DIR = path.join(process.cwd(), 'test', 'sql');
const UPDATE = process.env.SQL_SNAPSHOTS === 'update';

describe('SQL of the hot paths, as reviewed', () => {
  let t: TestApp;
  let A: ClinicSetup;
  let seen: string[] | undefined;

  beforeAll(async () => {
    t = await startTestApp();
    A = await setupClinic(t.app, t.http, 'Sql');
    // The client class TypeORM's pool makes its connections with.
    const driver = t.dataSource.driver as unknown as { postgres: { Client: { prototype: { query: unknown } } } };
    const proto = driver.postgres.Client.prototype as { query: (...args: unknown[]) => unknown };
    const original = proto.query;
    proto.query = function (this: unknown, ...args: unknown[]) {
      const q = args[0];
      const text = typeof q === 'string' ? q : (q as { text?: string })?.text;
      if (seen && text) seen.push(text.replace(/\s+/g, ' ').trim());
      return original.apply(this, args);
    };
  }, 60_000);
  afterAll(() => t.close());

  /** The statements `work` sends. */
  const during = async (work: () => Promise<unknown>) => {
    seen = [];
    await work();
    const out = [...new Set(seen)].sort();
    seen = undefined;
    return out;
  };

  const check = (name: string, statements: string[]) => {
    const file = path.join(DIR, `${name}.sql`);
    const text = `-- ${name}: ${statements.length} distinct statements (test/api/sql-snapshots.spec.ts)\n\n${statements.join(';\n\n')};\n`;
    if (UPDATE) writeFileSync(file, text);
    expect(text).toEqual(readFileSync(file, 'utf8'));
  };

  it("a preview (loading the clinic's copy, then bringing it up to date) and a booking (with and without a key)", async () => {
    const patientId = await newPatient(t.http, A);
    const body = { patientId, protocolId: A.protocolId, earliestStart: '2026-12-07' };
    t.app.get(BookingsCache).clear();
    check(
      'preview-first',
      await during(() =>
        request(t.http).post('/v1/plans/preview').set(bearer(A.keys.frontDesk)).send(body).expect(200),
      ),
    );
    check(
      'book',
      await during(() => request(t.http).post('/v1/plans').set(bearer(A.keys.frontDesk)).send(body).expect(201)),
    );
    const other = await newPatient(t.http, A);
    check(
      'preview',
      await during(() =>
        request(t.http)
          .post('/v1/plans/preview')
          .set(bearer(A.keys.frontDesk))
          .send({ ...body, patientId: other })
          .expect(200),
      ),
    );
    check(
      'book-with-idempotency-key',
      await during(() =>
        request(t.http)
          .post('/v1/plans')
          .set(bearer(A.keys.frontDesk))
          .set('Idempotency-Key', 'sql-snapshot-1')
          .send({ ...body, patientId: other })
          .expect(201),
      ),
    );
  });

  it("a clinic's load and a filtered page of the audit trail (statements moved into repositories)", async () => {
    check(
      'clinic-load',
      await during(() =>
        request(t.http)
          .get(`/v1/clinics/${A.keys.clinicId}/load`)
          .query({ from: '2026-12-07', to: '2026-12-13' })
          .set(bearer(A.keys.frontDesk))
          .expect(200),
      ),
    );
    const patientId = await newPatient(t.http, A);
    check(
      'audit-page',
      await during(() =>
        request(t.http)
          .get('/v1/audit')
          .query({ patientId, entityType: 'patient', limit: 2 })
          .set(bearer(A.keys.admin))
          .expect(200),
      ),
    );
  });
});
