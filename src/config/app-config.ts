import { plainToInstance } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, validateSync } from 'class-validator';
import { Transform } from 'class-transformer';
import path from 'node:path';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const toBool = ({ value }: { value: unknown }) =>
  value === undefined
    ? undefined
    : value === 'true' || value === '1'
      ? true
      : value === 'false' || value === '0'
        ? false
        : value;
const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : /^-?\d+$/.test(String(value)) ? Number(value) : value;

/** The environment variables Chairside reads, validated once at start. */
class EnvironmentVariables {
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'PORT must be an integer' })
  @Min(0)
  @Max(65535)
  PORT?: number;

  @IsOptional()
  @IsString()
  HOST?: string;

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/.+/, {
    message: 'DATABASE_URL must look like postgres://user:password@host:5432/database',
  })
  DATABASE_URL?: string;

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/.+/, {
    message: 'MIGRATION_DATABASE_URL must look like postgres://owner:password@host:5432/database',
  })
  MIGRATION_DATABASE_URL?: string;

  @IsOptional()
  @IsString()
  NODE_ENV?: string;

  @IsOptional()
  @IsIn(LOG_LEVELS, { message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL?: LogLevel;

  @IsOptional()
  @IsString()
  CHAIRSIDE_DATA_DIR?: string;

  @IsOptional()
  @Transform(toBool)
  @IsBoolean({ message: 'SEED_DEMO must be true or false' })
  SEED_DEMO?: boolean;

  @IsOptional()
  @Transform(toBool)
  @IsBoolean({ message: 'SERVER_TIMING must be true or false' })
  SERVER_TIMING?: boolean;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'DB_POOL_SIZE must be an integer' })
  @Min(1)
  @Max(200)
  DB_POOL_SIZE?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'RATE_LIMIT_PER_MINUTE must be an integer' })
  @Min(0)
  @Max(1_000_000)
  RATE_LIMIT_PER_MINUTE?: number;

  @IsOptional()
  @Matches(/^(true|false|\d{1,2}|[a-z0-9.:/, -]{1,500})$/i, {
    message: 'TRUST_PROXY must be true, false, a hop count or a list of addresses/subnets (e.g. loopback, 10.0.0.0/8)',
  })
  TRUST_PROXY?: string;

  @IsOptional()
  @Matches(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, {
    message: 'PUBLIC_URL must be an http(s) URL such as https://chairside.example.org',
  })
  PUBLIC_URL?: string;

  @IsOptional()
  @Matches(/^[a-z0-9.:[\]-]{1,253}(\s*,\s*[a-z0-9.:[\]-]{1,253}){0,49}$/i, {
    message:
      'ALLOWED_HOSTS must be a comma-separated list of host names or addresses, e.g. chairside.internal,10.0.0.5',
  })
  ALLOWED_HOSTS?: string;

  @IsOptional()
  @Transform(toBool)
  @IsBoolean({ message: 'WEBHOOK_ALLOW_PRIVATE_NETWORKS must be true or false' })
  WEBHOOK_ALLOW_PRIVATE_NETWORKS?: boolean;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'WEBHOOK_POLL_MS must be an integer' })
  @Min(0)
  @Max(3_600_000)
  WEBHOOK_POLL_MS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'WEBHOOK_TIMEOUT_MS must be an integer' })
  @Min(100)
  @Max(60_000)
  WEBHOOK_TIMEOUT_MS?: number;

  @IsOptional()
  @Matches(/^\d+(\.\d+)?(,\d+(\.\d+)?){0,19}$/, {
    message: 'WEBHOOK_RETRY_DELAYS must be comma-separated seconds, e.g. 5,300,1800',
  })
  WEBHOOK_RETRY_DELAYS?: string;
}

/** Standard Webhooks' example schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h. */
export const DEFAULT_WEBHOOK_RETRY_DELAYS = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400];

export interface AppConfig {
  port: number;
  host: string;
  /** External PostgreSQL; when absent an embedded server is started. */
  databaseUrl?: string;
  /**
   * The same database as the owner of its tables, for migrations (MIGRATION_DATABASE_URL); the
   * service itself then connects as DATABASE_URL's role, which may only use them. Without it,
   * migrations run as DATABASE_URL's role.
   */
  migrationDatabaseUrl?: string;
  logLevel: LogLevel;
  /** Where the embedded PostgreSQL keeps its data and where demo keys are written. */
  dataDir: string;
  /**
   * Create the demo clinic on an empty database. By default only with the embedded database and
   * outside production (`SEED_DEMO` decides either way when set).
   */
  seedDemo: boolean;
  /** A `Server-Timing` header on planning answers (database reads, engine, audit); off by default. */
  serverTiming: boolean;
  dbPoolSize: number;
  /** Requests per minute per API key (per client address without a key); 0 turns the limit off. */
  rateLimitPerMinute: number;
  /**
   * Express's `trust proxy`: which proxies' X-Forwarded-For/-Proto to believe (client addresses for
   * rate limits, the scheme and host of feed URLs). Off by default.
   */
  trustProxy: boolean | number | string;
  /**
   * The service's public base URL, used in feed links; required when NODE_ENV=production. Without
   * it (development) the base is taken from the request, whose host must be one of `allowedHosts`.
   */
  publicUrl?: string;
  /** Host names (lower case, IPv6 without brackets) a request may name when feed URLs come from it. */
  allowedHosts: string[];
  webhooks: {
    /** Deliver to loopback and private addresses too (off by default: SSRF). */
    allowPrivateNetworks: boolean;
    /** How often the outbox is polled; 0 turns delivery off in this instance. */
    pollMs: number;
    timeoutMs: number;
    /** Seconds to wait before each retry; one attempt more than there are delays. */
    retryDelaysSeconds: number[];
  };
}

const TYPE_RULES = ['isInt', 'isBoolean', 'isIn', 'matches', 'isString'];

export class ConfigError extends Error {}

/**
 * Parses and validates the environment once; the only place that reads process.env.
 * Throws a ConfigError whose message is one line naming every bad variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, projectRoot = process.cwd()): AppConfig {
  const raw = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const vars = plainToInstance(EnvironmentVariables, raw, { excludeExtraneousValues: false });
  const errors = validateSync(vars, { whitelist: true });
  if (errors.length > 0) {
    const messages = errors.map((e) => {
      // The type rule says most when several fail ("must be an integer" before "must not exceed").
      const constraints = e.constraints ?? {};
      const key = TYPE_RULES.find((k) => k in constraints) ?? Object.keys(constraints)[0];
      const first = (key && constraints[key]) || `${e.property} is invalid`;
      const shown = e.property.endsWith('DATABASE_URL') ? '' : ` (got "${String(raw[e.property])}")`;
      return `${first}${shown}`;
    });
    throw new ConfigError(`invalid configuration: ${messages.join('; ')}`);
  }
  if (vars.MIGRATION_DATABASE_URL && !vars.DATABASE_URL) {
    throw new ConfigError(
      'invalid configuration: MIGRATION_DATABASE_URL is for an external database: set DATABASE_URL too',
    );
  }
  if (vars.NODE_ENV === 'production' && !vars.PUBLIC_URL) {
    // Feed URLs would otherwise come from the request's Host header.
    throw new ConfigError(
      'invalid configuration: PUBLIC_URL is required when NODE_ENV=production (the base of calendar feed URLs, e.g. https://chairside.example.org)',
    );
  }
  const host = vars.HOST ?? '127.0.0.1';
  return {
    port: vars.PORT ?? 3000,
    host,
    databaseUrl: vars.DATABASE_URL,
    migrationDatabaseUrl: vars.MIGRATION_DATABASE_URL,
    logLevel: vars.LOG_LEVEL ?? 'info',
    dataDir: path.resolve(projectRoot, vars.CHAIRSIDE_DATA_DIR ?? '.data'),
    seedDemo: vars.SEED_DEMO ?? (vars.DATABASE_URL === undefined && vars.NODE_ENV !== 'production'),
    serverTiming: vars.SERVER_TIMING ?? false,
    dbPoolSize: vars.DB_POOL_SIZE ?? 10,
    rateLimitPerMinute: vars.RATE_LIMIT_PER_MINUTE ?? 600,
    trustProxy: parseTrustProxy(vars.TRUST_PROXY),
    publicUrl: vars.PUBLIC_URL?.replace(/\/$/, ''),
    allowedHosts: allowedHosts(vars.ALLOWED_HOSTS, host),
    webhooks: {
      allowPrivateNetworks: vars.WEBHOOK_ALLOW_PRIVATE_NETWORKS ?? false,
      pollMs: vars.WEBHOOK_POLL_MS ?? 1000,
      timeoutMs: vars.WEBHOOK_TIMEOUT_MS ?? 15_000,
      retryDelaysSeconds: vars.WEBHOOK_RETRY_DELAYS?.split(',').map(Number) ?? DEFAULT_WEBHOOK_RETRY_DELAYS,
    },
  };
}

/** ALLOWED_HOSTS, or else the loopback names and the listen address (unless it is a wildcard). */
function allowedHosts(value: string | undefined, host: string): string[] {
  const names =
    value === undefined
      ? ['localhost', '127.0.0.1', '::1', ...(['0.0.0.0', '::'].includes(host) ? [] : [host])]
      : value.split(',');
  return [
    ...new Set(
      names
        .map((n) =>
          n
            .trim()
            .toLowerCase()
            .replace(/^\[(.*)\]$/, '$1')
            .replace(/\.$/, ''),
        )
        .filter(Boolean),
    ),
  ];
}

function parseTrustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  return /^\d+$/.test(value) ? Number(value) : value;
}

export const APP_CONFIG = Symbol('APP_CONFIG');
