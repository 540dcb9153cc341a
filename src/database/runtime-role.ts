import pg from 'pg';

/** The group role the migrations grant the service's rights to (migrations/…-RuntimeRole.ts). */
export const RUNTIME_GROUP = 'chairside_runtime';

/** The login role the service uses on the embedded database and the test servers. */
export const RUNTIME_LOGIN = 'chairside_app';

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * Creates (when missing) the group role and a login role `login` in it, on the server that
 * `adminUrl` reaches as a role with CREATEROLE. The login role owns nothing and is no superuser:
 * it has exactly the rights the migrations grant the group. Several callers may race (test
 * workers, instances): a role created meanwhile is not an error.
 */
export async function ensureRuntimeLogin(adminUrl: string, login: string, password: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (const sql of [
      `CREATE ROLE ${ident(RUNTIME_GROUP)} NOLOGIN`,
      `CREATE ROLE ${ident(login)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${literal(password)}`,
    ]) {
      const name = sql.split('"')[1];
      const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
      if (rowCount) continue;
      await client.query(sql).catch((err: { code?: string }) => {
        // 42710 duplicate_object, 23505 unique_violation: another caller created it meanwhile.
        if (err.code !== '42710' && err.code !== '23505') throw err;
      });
    }
    const { rowCount } = await client.query(
      `SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE g.rolname = $1 AND u.rolname = $2`,
      [RUNTIME_GROUP, login],
    );
    if (!rowCount) await client.query(`GRANT ${ident(RUNTIME_GROUP)} TO ${ident(login)}`);
  } finally {
    await client.end();
  }
}

/** The same server and database as `url`, as another role. */
export function asRole(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  return u.toString();
}
