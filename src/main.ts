import 'reflect-metadata';
import { createApp } from './app.setup.js';
import { ConfigError, loadConfig } from './config/app-config.js';
import { openDatabase, roleStanding, runMigrations } from './database/database-bootstrap.js';
import { redactPassword } from './database/embedded-postgres.js';
import { seedDemo } from './seed/demo-seed.js';

function fail(message: string): never {
  process.stderr.write(`chairside: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }

  const db = await openDatabase(config).catch((err: Error) =>
    fail(`could not start the embedded PostgreSQL: ${err.message}`),
  );
  let stopping = false;
  const stopDb = async () => {
    await db.stop().catch(() => undefined);
  };
  try {
    const applied = await runMigrations(db.migrationUrl);
    if (applied.length) process.stdout.write(`chairside: applied migrations ${applied.join(', ')}\n`);
  } catch (err) {
    await stopDb();
    fail(`could not migrate the database: ${(err as Error).message}`);
  }

  // The audit trail's triggers hold against the service only if its role cannot switch them off.
  const standing = await roleStanding(db.url).catch(() => undefined);
  const roleWarning =
    standing && (standing.superuser || standing.ownedTables > 0)
      ? `  warning:  the service connects as "${standing.role}", which ${standing.superuser ? 'is a superuser' : 'owns the tables'}: it could rewrite the audit trail. ` +
        'Connect as a role in chairside_runtime and migrate as the owner with MIGRATION_DATABASE_URL (README, "Your own PostgreSQL").'
      : undefined;

  const app = await createApp({ config, databaseUrl: db.url });
  // Ordered shutdown: stop taking requests, close the pool, then stop the embedded server.
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`chairside: ${signal} received, shutting down\n`);
    await app.close().catch(() => undefined);
    await stopDb();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  const demo = config.seedDemo ? await seedDemo(app, config.dataDir) : undefined;
  try {
    await app.listen(config.port, config.host);
  } catch (err) {
    await app.close().catch(() => undefined);
    await stopDb();
    fail(`could not listen on ${config.host}:${config.port}: ${(err as Error).message}`);
  }
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`;
  const lines = [
    '',
    `Chairside is running at ${url}`,
    `  web app:  ${url}/   (sign in with an API key below)`,
    `  health:   ${url}/health`,
    `  API docs: ${url}/docs   (OpenAPI: ${url}/openapi.json)`,
    db.embedded
      ? `  database: ${db.migrationUrl}   (embedded, data in ${config.dataDir}/postgres; npm run db:url prints it; the service itself connects as ${new URL(db.url).username})`
      : `  database: ${redactPassword(db.url)}`,
  ];
  if (roleWarning) lines.push(roleWarning);
  if (demo) lines.push(...demo.banner);
  process.stdout.write(lines.join('\n') + '\n\n');
}

main().catch((err: Error) => fail(err.message));
