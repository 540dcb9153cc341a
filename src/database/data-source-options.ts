import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';
import { ENTITIES } from './entities.js';

/** TypeORM options for Chairside; `synchronize` stays off: the schema changes only through migrations. */
export function dataSourceOptions(url: string, poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    applicationName: 'chairside',
    extra: {
      max: poolSize,
      // A database that went away must surface as a quick 503, not a hung request.
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30000,
      statement_timeout: 15000,
      // A connection left in an open transaction (a crashed request, a stuck client) holds locks
      // and the sync watermark; the server ends it.
      idle_in_transaction_session_timeout: 15000,
      lock_timeout: 10000,
    },
  };
}
