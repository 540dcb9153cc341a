import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { embeddedDatabaseUrl } from './db-url.js';

// Issue 14, item 2: the embedded database's address, for psql, a migration tool or a second
// instance, without digging it out of the source and postmaster.pid (`npm run db:url`).
describe('npm run db:url', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'chairside-dburl-'));
    mkdirSync(path.join(dir, 'postgres'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const pidFile = (pid: number, port: number) =>
    writeFileSync(
      path.join(dir, 'postgres', 'postmaster.pid'),
      `${pid}\n${dir}/postgres\n1796300000\n${port}\n/tmp\n127.0.0.1\n`,
    );

  it("names the running server's port, the owner's fixed password and the chairside database", () => {
    pidFile(process.pid, 45678); // a live process
    expect(embeddedDatabaseUrl(dir)).toBe('postgres://postgres:chairside-embedded@127.0.0.1:45678/chairside');
  });

  it('says so when no server is running', () => {
    expect(() => embeddedDatabaseUrl(dir)).toThrow(/not running/);
    pidFile(2 ** 22 + 12345, 45678); // above Linux's pid_max: no such process
    expect(() => embeddedDatabaseUrl(dir)).toThrow(/not running.*npm start/);
  });
});
