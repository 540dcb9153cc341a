import type { NestExpressApplication } from '@nestjs/platform-express';
import { DateTime } from 'luxon';
import type { Server } from 'node:http';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app.setup.js';
import { FixedClock } from '../../src/common/clock/clock.js';
import { loadConfig, type AppConfig } from '../../src/config/app-config.js';
import { createTestDatabase } from './test-database.js';

export interface TestApp {
  app: NestExpressApplication;
  http: Server;
  dataSource: DataSource;
  clock: FixedClock;
  /** What the service connects as: its runtime role, not the tables' owner. */
  databaseUrl: string;
  /** The same database as the owner of its tables (what migrations run as), for tests that must be. */
  ownerUrl: string;
  /** One statement as the owner of the tables (its own connection): for tests that must get past the service's role. */
  asOwner<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/** The real application on its own fresh database, with a fixed clock. */
export async function startTestApp(
  opts: {
    now?: string;
    databaseUrl?: string;
    /** With databaseUrl: the same database as its owner. */
    ownerUrl?: string;
    logLevel?: 'info' | 'silent';
    logDestination?: NodeJS.WritableStream;
    /** Off unless a test turns it on (tests fire bursts from one key). */
    rateLimitPerMinute?: number;
    trustProxy?: AppConfig['trustProxy'];
    /** Webhook delivery is off unless a test turns it on. */
    webhooks?: Partial<AppConfig['webhooks']>;
    /** Feed URLs: PUBLIC_URL, and the hosts a request may name without it. */
    publicUrl?: string;
    allowedHosts?: string[];
    /** A Server-Timing header on planning answers (off, as by default). */
    serverTiming?: boolean;
  } = {},
): Promise<TestApp> {
  const db = opts.databaseUrl
    ? { url: opts.databaseUrl, ownerUrl: opts.ownerUrl ?? opts.databaseUrl, drop: async () => undefined }
    : await createTestDatabase();
  const clock = new FixedClock(DateTime.fromISO(opts.now ?? '2026-11-25T15:00:00Z', { zone: 'utc' }));
  const base = loadConfig({ LOG_LEVEL: opts.logLevel ?? 'silent' });
  const config: AppConfig = {
    ...base,
    databaseUrl: db.url,
    dbPoolSize: 5,
    rateLimitPerMinute: opts.rateLimitPerMinute ?? 0,
    trustProxy: opts.trustProxy ?? base.trustProxy,
    webhooks: { ...base.webhooks, pollMs: 0, allowPrivateNetworks: true, ...opts.webhooks },
    publicUrl: opts.publicUrl ?? base.publicUrl,
    allowedHosts: opts.allowedHosts ?? base.allowedHosts,
    serverTiming: opts.serverTiming ?? false,
  };
  const app = await createApp({ config, databaseUrl: db.url, clock, logDestination: opts.logDestination });
  await app.init();
  return {
    app,
    http: app.getHttpServer() as Server,
    dataSource: app.get(DataSource),
    clock,
    databaseUrl: db.url,
    ownerUrl: db.ownerUrl,
    async asOwner<T>(sql: string, params?: unknown[]) {
      const c = new pg.Client({ connectionString: db.ownerUrl });
      await c.connect();
      try {
        return (await c.query(sql, params)).rows as T[];
      } finally {
        await c.end();
      }
    },
    async close() {
      await app.close();
      await db.drop();
    },
  };
}

export const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });
