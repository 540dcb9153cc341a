import 'reflect-metadata';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { ConfigError, loadConfig } from '../config/app-config.js';
import { dataSourceOptions } from '../database/data-source-options.js';
import { openDatabase, runMigrations } from '../database/database-bootstrap.js';

const NOT_MODELLED =
  /(DROP CONSTRAINT|ADD CONSTRAINT|DROP INDEX|CREATE (UNIQUE )?INDEX|FOREIGN KEY|(SET|DROP) DEFAULT)/;

/**
 * `npm run migration:run | migration:revert | migration:show | migration:generate -- <Name>`
 * against MIGRATION_DATABASE_URL (or DATABASE_URL), or the embedded database when it is not set.
 */
async function main(): Promise<void> {
  const [command, name] = process.argv.slice(2);
  const config = loadConfig();
  const db = await openDatabase(config);
  const ds = new DataSource(dataSourceOptions(db.migrationUrl, 2));
  try {
    switch (command) {
      case 'run': {
        const applied = await runMigrations(db.migrationUrl);
        console.log(applied.length ? `applied: ${applied.join(', ')}` : 'nothing to apply');
        break;
      }
      case 'revert':
        await ds.initialize();
        await ds.undoLastMigration({ transaction: 'each' });
        console.log('reverted the last migration');
        break;
      case 'show':
        await ds.initialize();
        console.log((await ds.showMigrations()) ? 'pending migrations exist' : 'up to date');
        break;
      case 'generate': {
        if (!name || !/^[A-Z][A-Za-z0-9]*$/.test(name))
          throw new ConfigError('usage: npm run migration:generate -- <PascalCaseName>');
        await runMigrations(db.migrationUrl);
        await ds.initialize();
        // The difference between the entities and the migrated schema, as TypeORM's own generator computes it.
        const sql = await ds.driver.createSchemaBuilder().log();
        // Constraints, indexes, foreign keys and defaults live in the hand-written SQL migrations,
        // not on the entities; TypeORM would propose dropping them. Keep only table/column changes.
        const up = sql.upQueries.map((q) => q.query).filter((q) => !NOT_MODELLED.test(q));
        const down = sql.downQueries.map((q) => q.query).filter((q) => !NOT_MODELLED.test(q));
        if (up.length === 0) {
          console.log('the entities match the schema: nothing to generate');
          break;
        }
        const stamp = Date.now();
        const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/`/g, '\\`');
        const body = [
          `import type { MigrationInterface, QueryRunner } from 'typeorm';`,
          ``,
          `/** Generated from the entities: review it, and add constraints and indexes by hand. */`,
          `export class ${name}${stamp} implements MigrationInterface {`,
          `  name = '${name}${stamp}';`,
          ``,
          `  async up(q: QueryRunner): Promise<void> {`,
          ...up.map((u) => `    await q.query(\`${esc(u)}\`);`),
          `  }`,
          ``,
          `  async down(q: QueryRunner): Promise<void> {`,
          ...down.reverse().map((d) => `    await q.query(\`${esc(d)}\`);`),
          `  }`,
          `}`,
          ``,
        ].join('\n');
        const file = path.resolve('migrations', `${stamp}-${name}.ts`);
        await fs.writeFile(file, body);
        console.log(`wrote ${file}: review it, then add ${name}${stamp} to migrations/index.ts`);
        break;
      }
      default:
        throw new ConfigError('usage: migrate run | revert | show | generate <Name>');
    }
  } finally {
    if (ds.isInitialized) await ds.destroy();
    await db.stop();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`chairside: ${err.message}\n`);
  process.exit(1);
});
