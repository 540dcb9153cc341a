import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres.js';

// ---------------------------------------------------------------------------------------------
// Issue 14, item 4: every `npm test` left an empty `chairside-test-*` folder in the system temp
// directory (the cluster's data went, its folder stayed). A small run of Jest itself, with a temp
// directory of its own, must leave no `chairside-*` entry there and end cleanly.
// And a Jest worker "failed to exit gracefully": the embedded-postgres package's exit hook
// (async-exit-hook) listened for IPC `message`s, which keeps a worker's channel open; our own
// start code leaves the process as it found it.
// ---------------------------------------------------------------------------------------------

const EVENTS = [
  'message',
  'beforeExit',
  'exit',
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'uncaughtException',
  'unhandledRejection',
] as const;

describe('a test run', () => {
  it('leaves nothing of its own in the temp directory', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'run-tmp-'));
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp };
      for (const k of Object.keys(env))
        if (k.startsWith('CHAIRSIDE_') || k.startsWith('JEST_') || k === 'DATABASE_URL') delete env[k];
      const child = spawn(
        process.execPath,
        [
          '--experimental-vm-modules',
          'node_modules/jest/bin/jest.js',
          '--ci',
          '--cacheDirectory',
          path.join(os.tmpdir(), 'jest-chairside-child'),
          'src/config/app-config.spec.ts',
        ],
        { cwd: process.cwd(), env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c));
      child.stderr.on('data', (c: Buffer) => (out += c));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect({ code, out: code === 0 ? '' : out }).toEqual({ code: 0, out: '' });
      expect(readdirSync(tmp).filter((name) => name.startsWith('chairside'))).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 120_000);

  it('starting and stopping an embedded database leaves no listener on the process', async () => {
    const count = () => Object.fromEntries(EVENTS.map((e) => [e, process.listenerCount(e)]));
    const before = count();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'chairside-listeners-'));
    try {
      const cluster = await startEmbeddedPostgres(path.join(dir, 'pg'), { persistent: false });
      await cluster.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(count()).toEqual(before);
  }, 120_000);
});
