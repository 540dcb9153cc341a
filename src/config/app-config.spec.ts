import path from 'node:path';
import { ConfigError, loadConfig } from './app-config.js';

describe('loadConfig', () => {
  it('has defaults that start the embedded database on localhost:3000', () => {
    const c = loadConfig({}, '/srv/chairside');
    expect(c).toEqual({
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      migrationDatabaseUrl: undefined,
      logLevel: 'info',
      dataDir: path.resolve('/srv/chairside', '.data'),
      seedDemo: true,
      serverTiming: false,
      dbPoolSize: 10,
      rateLimitPerMinute: 600,
      trustProxy: false,
      publicUrl: undefined,
      allowedHosts: ['localhost', '127.0.0.1', '::1'],
      webhooks: {
        allowPrivateNetworks: false,
        pollMs: 1000,
        timeoutMs: 15_000,
        retryDelaysSeconds: [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400],
      },
    });
  });

  it('reads every variable', () => {
    const c = loadConfig(
      {
        PORT: '8080',
        HOST: '0.0.0.0',
        DATABASE_URL: 'postgres://u:p@db:5432/chairside',
        MIGRATION_DATABASE_URL: 'postgres://owner:p@db:5432/chairside',
        LOG_LEVEL: 'debug',
        CHAIRSIDE_DATA_DIR: '/var/lib/cs',
        SEED_DEMO: 'false',
        SERVER_TIMING: 'true',
        DB_POOL_SIZE: '20',
        RATE_LIMIT_PER_MINUTE: '0',
        TRUST_PROXY: 'loopback, 10.0.0.0/8',
        PUBLIC_URL: 'https://chairside.example.org/',
        ALLOWED_HOSTS: 'Chairside.internal, [::1],10.0.0.5',
        WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
        WEBHOOK_POLL_MS: '250',
        WEBHOOK_TIMEOUT_MS: '5000',
        WEBHOOK_RETRY_DELAYS: '1,10,60.5',
      },
      '/x',
    );
    expect(c).toEqual({
      port: 8080,
      host: '0.0.0.0',
      databaseUrl: 'postgres://u:p@db:5432/chairside',
      migrationDatabaseUrl: 'postgres://owner:p@db:5432/chairside',
      logLevel: 'debug',
      dataDir: '/var/lib/cs',
      seedDemo: false,
      serverTiming: true,
      dbPoolSize: 20,
      rateLimitPerMinute: 0,
      trustProxy: 'loopback, 10.0.0.0/8',
      publicUrl: 'https://chairside.example.org',
      allowedHosts: ['chairside.internal', '::1', '10.0.0.5'],
      webhooks: { allowPrivateNetworks: true, pollMs: 250, timeoutMs: 5000, retryDelaysSeconds: [1, 10, 60.5] },
    });
  });

  it.each([
    [{}, true],
    [{ NODE_ENV: 'development' }, true],
    [{ NODE_ENV: 'production', PUBLIC_URL: 'https://chairside.example.org' }, false],
    [{ DATABASE_URL: 'postgres://u:p@db:5432/chairside' }, false],
    [{ NODE_ENV: 'production', PUBLIC_URL: 'https://chairside.example.org', SEED_DEMO: 'true' }, true],
    [{ DATABASE_URL: 'postgres://u:p@db:5432/chairside', SEED_DEMO: 'true' }, true],
    [{ SEED_DEMO: 'false' }, false],
  ])('seeds the demo clinic only for the local embedded database unless told: %j → %s', (env, seeds) => {
    expect(loadConfig(env, '/x').seedDemo).toBe(seeds);
  });

  it('refuses MIGRATION_DATABASE_URL without DATABASE_URL, and never echoes either', () => {
    expect(() => loadConfig({ MIGRATION_DATABASE_URL: 'postgres://owner:secret@h/db' })).toThrow(
      /MIGRATION_DATABASE_URL is for an external database/,
    );
    expect(() =>
      loadConfig({ DATABASE_URL: 'postgres://u:p@h/db', MIGRATION_DATABASE_URL: 'mysql://owner:secret@h/db' }),
    ).toThrow(/^(?!.*secret).*MIGRATION_DATABASE_URL must look like/);
  });

  it.each([
    [{ PORT: 'abc' }, /PORT must be an integer \(got "abc"\)/],
    [{ PORT: '70000' }, /PORT must not be greater than 65535/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent \(got "loud"\)/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must look like postgres:\/\//],
    [{ SEED_DEMO: 'maybe' }, /SEED_DEMO must be true or false/],
    [{ DB_POOL_SIZE: '0' }, /DB_POOL_SIZE must not be less than 1/],
    [{ RATE_LIMIT_PER_MINUTE: '-1' }, /RATE_LIMIT_PER_MINUTE must not be less than 0/],
    [{ TRUST_PROXY: 'yes please!' }, /TRUST_PROXY must be true, false, a hop count/],
    [{ PUBLIC_URL: 'chairside.example.org' }, /PUBLIC_URL must be an http\(s\) URL/],
    [{ WEBHOOK_RETRY_DELAYS: '5,,10' }, /WEBHOOK_RETRY_DELAYS must be comma-separated seconds/],
    [{ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'yes' }, /WEBHOOK_ALLOW_PRIVATE_NETWORKS must be true or false/],
    [{ ALLOWED_HOSTS: 'evil.example/x?' }, /ALLOWED_HOSTS must be a comma-separated list of host names/],
    [{ NODE_ENV: 'production' }, /^invalid configuration: PUBLIC_URL is required when NODE_ENV=production/],
  ])('refuses %j with one clear line', (env, message) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('never echoes a DATABASE_URL, which may hold a password', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://user:secret@h/db' })).toThrow(/^(?!.*secret).*$/);
  });

  it.each([
    ['true', true],
    ['false', false],
    ['2', 2],
    ['loopback', 'loopback'],
  ])('reads TRUST_PROXY=%s', (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).trustProxy).toEqual(expected);
  });

  it('starts in production with a PUBLIC_URL; without NODE_ENV=production the request host is checked against the allowed hosts', () => {
    expect(loadConfig({ NODE_ENV: 'production', PUBLIC_URL: 'https://chairside.example.org' }).publicUrl).toBe(
      'https://chairside.example.org',
    );
    expect(loadConfig({ NODE_ENV: 'development' }).publicUrl).toBeUndefined();
    // The listen address is allowed too, unless it is a wildcard.
    expect(loadConfig({ HOST: '192.168.1.20' }).allowedHosts).toEqual([
      'localhost',
      '127.0.0.1',
      '::1',
      '192.168.1.20',
    ]);
    expect(loadConfig({ HOST: '0.0.0.0' }).allowedHosts).toEqual(['localhost', '127.0.0.1', '::1']);
  });

  it('names every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'x', LOG_LEVEL: 'y' })).toThrow(/PORT.*; LOG_LEVEL/);
  });
});
