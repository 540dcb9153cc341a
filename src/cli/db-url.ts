import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '../config/app-config.js';
import { EMBEDDED_DATABASE_NAME } from '../database/database-bootstrap.js';
import { PASSWORD, USER } from '../database/embedded-postgres.js';

/**
 * `npm run -s db:url`: the connection URL of the running embedded database (its owner, for psql, a
 * migration tool or a second instance), read from its `postmaster.pid`; DATABASE_URL when set.
 * `psql "$(npm run -s db:url)"`.
 */
export function embeddedDatabaseUrl(dataDir: string): string {
  const pidFile = path.join(dataDir, 'postgres', 'postmaster.pid');
  const lines = existsSync(pidFile) ? readFileSync(pidFile, 'utf8').split('\n') : [];
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  let running = Number.isInteger(pid) && pid > 0 && Number.isInteger(port) && port > 0;
  if (running) {
    try {
      process.kill(pid, 0);
    } catch (err) {
      running = (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  if (!running)
    throw new ConfigError(
      `the embedded database is not running (no live server in ${path.dirname(pidFile)}): start the service with npm start`,
    );
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${EMBEDDED_DATABASE_NAME}`;
}

function main(): void {
  const config = loadConfig();
  process.stdout.write(`${config.databaseUrl ?? embeddedDatabaseUrl(config.dataDir)}\n`);
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`chairside: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
