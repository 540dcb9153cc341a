import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../../src/database/embedded-postgres.js';
import { send, sleep } from './http-client.js';

// ---------------------------------------------------------------------------------------------
// The built service (dist/src/main.js, from `npm run build`) as a real child process, so that a
// test can kill it with SIGKILL. Jest runs TypeScript through ts-jest, but a child process cannot,
// hence the build.
// ---------------------------------------------------------------------------------------------

export interface ChildService {
  url: string;
  port: number;
  pid: number;
  /** What it printed (stdout and stderr), for failure messages. */
  output(): string;
  /** Resolves with the exit code or signal once the process is gone. */
  exited: Promise<string>;
  kill(signal: NodeJS.Signals): void;
}

const ROOT = process.cwd();
const running = new Set<ChildProcess>();
let snapshot: string | undefined;

/**
 * A private copy of dist/, taken once: a `nest build` elsewhere (it empties dist/ first) cannot pull
 * the code from under a process this test restarts. It lives under node_modules/ so that the
 * copy resolves the project's packages; its own package.json keeps it an ES module.
 */
function snapshotOfBuild(): string {
  if (snapshot) return snapshot;
  const main = path.join(ROOT, 'dist', 'src', 'main.js');
  if (!existsSync(main))
    throw new Error('dist/src/main.js is missing: run `npm run build` (npm run test:reliability does)');
  mkdirSync(path.join(ROOT, 'node_modules', '.cache'), { recursive: true });
  const dir = mkdtempSync(path.join(ROOT, 'node_modules', '.cache', 'chairside-reliability-'));
  cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  snapshot = dir;
  return dir;
}

/** Starts `node dist/src/main.js` on DATABASE_URL and waits (bounded) until /health answers 200. */
export async function startChildService(
  databaseUrl: string,
  opts: { port?: number; poolSize?: number } = {},
): Promise<ChildService> {
  const dir = snapshotOfBuild();
  const port = opts.port ?? (await freePort());
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'chairside-child-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'error',
    SEED_DEMO: 'false',
    WEBHOOK_POLL_MS: '0',
    RATE_LIMIT_PER_MINUTE: '0',
    DB_POOL_SIZE: String(opts.poolSize ?? 10),
    CHAIRSIDE_DATA_DIR: dataDir,
  };
  delete env.NODE_OPTIONS;
  const proc = spawn(process.execPath, [path.join(dir, 'dist', 'src', 'main.js')], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  let out = '';
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString('utf8')).slice(-20_000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<string>((resolve) =>
    proc.once('exit', (code, signal) => {
      running.delete(proc);
      rmSync(dataDir, { recursive: true, force: true });
      resolve(signal ?? `exit ${code}`);
    }),
  );
  let gone: string | undefined;
  void exited.then((how) => (gone = how));

  const url = `http://127.0.0.1:${port}`;
  // A loaded machine (CI runners, a shared box) may take half a minute to boot Nest: 60 s.
  const until = Date.now() + 60_000;
  for (;;) {
    if (gone) throw new Error(`the service exited (${gone}) before it was healthy:\n${out}`);
    const h = await send(url, 'GET', '/health', { timeoutMs: 2000 });
    if (h.kind === 'response' && h.status === 200) break;
    if (Date.now() > until) {
      proc.kill('SIGKILL');
      throw new Error(`the service was not healthy within 60 s:\n${out}`);
    }
    await sleep(100);
  }
  return { url, port, pid: proc.pid!, output: () => out, exited, kill: (signal) => void proc.kill(signal) };
}

/** Kills every child still running (afterAll, also after a failure) and removes the build copy. */
export async function stopAllChildServices(): Promise<void> {
  const waits = [...running].map(
    (p) =>
      new Promise<void>((resolve) => {
        if (p.exitCode !== null || p.signalCode !== null) return resolve();
        p.once('exit', () => resolve());
        p.kill('SIGKILL');
      }),
  );
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(waits), new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
  clearTimeout(timer);
  if (snapshot) rmSync(snapshot, { recursive: true, force: true });
  snapshot = undefined;
}
