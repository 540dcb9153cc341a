/**
 * The service under test, started as it is deployed (`node dist/src/main.js`) in its own process,
 * on the bench's database, listening on a free loopback port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/database/embedded-postgres.js';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface RunningService {
  base: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startService(databaseUrl: string, timeoutSeconds = 60): Promise<RunningService> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    HOST: '127.0.0.1',
    PORT: String(port),
    SEED_DEMO: 'false',
    // Request logging off: the figures are the service's, not its log sink's.
    LOG_LEVEL: 'warn',
    // The per-key budget would turn a load test into a test of the limiter.
    RATE_LIMIT_PER_MINUTE: '0',
    DB_POOL_SIZE: '10',
    // Where each planning answer's time went, read by bench:fill.
    SERVER_TIMING: 'true',
  };
  delete env.PUBLIC_URL;
  // BENCH_SERVICE_NODE_ARGS: extra flags for the service's node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, path.join(PROJECT_ROOT, 'dist', 'src', 'main.js')],
    {
      cwd: PROJECT_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 50) output.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited: number | null | undefined;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exited = code;
      resolve();
    }),
  );

  const base = `http://127.0.0.1:${port}`;
  const deadline = performance.now() + timeoutSeconds * 1000;
  for (;;) {
    if (exited !== undefined) throw new Error(`the service exited (${exited}) before answering:\n${output.join('')}`);
    try {
      const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the service did not answer /health within ${timeoutSeconds} s:\n${output.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    base,
    pid: child.pid!,
    async stop() {
      if (exited !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}
