import pg from 'pg';
import request from 'supertest';
import { APPEND_ONLY_TABLES } from '../../migrations/1764806400000-RuntimeRole.js';
import { persistClinicWithKeys, makePatient } from '../factories/clinic.factory.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

// The audit trail and published protocol versions are protected by the database itself.
describe('append-only tables', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    const keys = await persistClinicWithKeys(t.app);
    await request(t.http).post('/v1/patients').set(bearer(keys.frontDesk)).send(makePatient()).expect(201);
  });
  afterAll(() => t.close());

  // Even the owner of the tables (what migrations run as) meets the triggers.
  it.each([
    ['UPDATE audit_events SET action = $1', ['nothing.happened']],
    ['DELETE FROM audit_events', []],
    ['TRUNCATE audit_events', []],
    ['TRUNCATE protocol_versions CASCADE', []],
  ])('refuses %s, also to the owner', async (sql, params) => {
    await withClient(t.ownerUrl, async (c) => {
      await expect(c.query(sql, params)).rejects.toThrow(/append-only|cannot be deleted|immutable/);
    });
    const [{ n }] = await t.dataSource.query('SELECT count(*)::int AS n FROM audit_events');
    expect(n).toBeGreaterThan(0);
  });

  // -------------------------------------------------------------------------------------------
  // Issue 14, item 13: the owner can switch triggers off (ALTER TABLE … DISABLE TRIGGER, or
  // session_replication_role as a superuser); the service's own role cannot, because it is neither:
  // it may only INSERT and SELECT on the append-only tables. Every route, as the role the running
  // service uses (t.dataSource), ends with the audit row unchanged.
  // -------------------------------------------------------------------------------------------
  describe("as the service's own database role", () => {
    it('is no superuser and owns no table', async () => {
      const [me] = await t.dataSource.query(
        `SELECT current_user AS role, r.rolsuper AS superuser, r.rolcreaterole AS createrole, r.rolbypassrls AS bypassrls,
                (SELECT count(*)::int FROM pg_tables t WHERE t.schemaname = 'public' AND pg_has_role(current_user, t.tableowner, 'USAGE')) AS owned
           FROM pg_roles r WHERE r.rolname = current_user`,
      );
      expect(me).toEqual({ role: expect.any(String), superuser: false, createrole: false, bypassrls: false, owned: 0 });
    });

    it.each([
      ['SET session_replication_role = replica; UPDATE audit_events SET action = $$rewritten$$'],
      ['ALTER TABLE audit_events DISABLE TRIGGER ALL; UPDATE audit_events SET action = $$rewritten$$'],
      [
        'ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change; UPDATE audit_events SET action = $$rewritten$$',
      ],
      ['DROP TRIGGER audit_events_no_change ON audit_events; UPDATE audit_events SET action = $$rewritten$$'],
      [
        'CREATE OR REPLACE FUNCTION refuse_append_only_change() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN RETURN NEW; END $f$; UPDATE audit_events SET action = $$rewritten$$',
      ],
      ['ALTER TABLE audit_events OWNER TO CURRENT_USER'],
      ['UPDATE audit_events SET action = $$rewritten$$'],
      ['DELETE FROM audit_events'],
      ['TRUNCATE audit_events'],
      ['DROP TABLE audit_events'],
      ['ALTER TABLE audit_events RENAME TO audit_events_old'],
      ['SET ROLE postgres'],
      ['GRANT UPDATE ON audit_events TO CURRENT_USER; UPDATE audit_events SET action = $$rewritten$$'],
    ])('cannot rewrite the audit trail: %s', async (sql) => {
      const before = await t.dataSource.query('SELECT id::text, action, occurred_at FROM audit_events ORDER BY id');
      expect(before.length).toBeGreaterThan(0);
      await withClient(t.databaseUrl, async (c) => {
        await expect(c.query(`BEGIN; ${sql}; COMMIT`)).rejects.toThrow(
          /permission denied|must be owner|must be superuser|append-only/,
        );
        await c.query('ROLLBACK');
      });
      expect(await t.dataSource.query('SELECT id::text, action, occurred_at FROM audit_events ORDER BY id')).toEqual(
        before,
      );
    });

    it.each(APPEND_ONLY_TABLES)('may only INSERT and SELECT on %s (protocol versions: also retire)', async (table) => {
      const [grants] = await t.dataSource.query(
        `SELECT has_table_privilege($1, 'SELECT') AS "select", has_table_privilege($1, 'INSERT') AS "insert",
                has_table_privilege($1, 'UPDATE') AS "update", has_table_privilege($1, 'DELETE') AS "delete",
                has_table_privilege($1, 'TRUNCATE') AS "truncate", has_table_privilege($1, 'TRIGGER') AS "trigger",
                has_table_privilege($1, 'REFERENCES') AS "references"`,
        [table],
      );
      expect(grants).toEqual({
        select: true,
        insert: true,
        update: false,
        delete: false,
        truncate: false,
        trigger: false,
        references: false,
      });
      const [{ columns }] = await t.dataSource.query(
        `SELECT coalesce(array_agg(column_name::text ORDER BY column_name), '{}') AS columns FROM information_schema.columns
          WHERE table_schema = 'public' AND table_name = $1 AND has_column_privilege($1, column_name, 'UPDATE')`,
        [table],
      );
      expect(columns).toEqual(table === 'protocol_versions' ? ['retired_at'] : []);
    });

    it('may use every other table (the service works: the whole suite runs as this role) but not write the migrations table', async () => {
      const rows: { table: string; ok: boolean }[] = await t.dataSource.query(
        `SELECT tablename AS table, (SELECT bool_and(has_table_privilege(format('public.%I', tablename), p)) FROM unnest('{SELECT,INSERT,UPDATE,DELETE}'::text[]) p) AS ok
           FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`,
      );
      const expected = rows.map(({ table }) => ({
        table,
        // The migrations table is the owner's; the outcome facts are written by their triggers only.
        ok: !APPEND_ONLY_TABLES.includes(table) && table !== 'migrations' && table !== 'plan_outcome_facts',
      }));
      expect(rows).toEqual(expected);
    });
  });
});
