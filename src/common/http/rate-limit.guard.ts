import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { createHash } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { PUBLIC_KEY } from '../auth/roles.decorator.js';
import { CommonErrorCode } from '../errors/common.errors.js';
import { DomainError } from '../errors/domain-error.js';
import { problemBody, sendProblem } from './problem-details.filter.js';

/** Failed authentications allowed per client address and minute (at most the per-key budget). */
const FAILED_AUTH_PER_MINUTE = 30;

/** The budgets, shared by the rate-limit guard (which checks them) and the key guard (which reports failures). */
@Injectable()
export class RateLimits {
  readonly limit: number;
  readonly perKey: RateLimiterMemory | null;
  /** Unknown or revoked keys per client address: a flood of made-up keys, one per request, is stopped too. */
  readonly failures: RateLimiterMemory | null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.limit = config.rateLimitPerMinute;
    this.perKey = this.limit > 0 ? new RateLimiterMemory({ points: this.limit, duration: 60 }) : null;
    this.failures =
      this.limit > 0
        ? new RateLimiterMemory({ points: Math.min(this.limit, FAILED_AUTH_PER_MINUTE), duration: 60 })
        : null;
  }

  /** Keys that authenticated lately (by hash): they pass even when their address is flooding. */
  private readonly goodKeys = new Map<string, number>();

  /** Counts a failed authentication against the client's address. */
  async failedAuth(req: Request): Promise<void> {
    await this.failures?.penalty(`ip:${req.ip ?? 'unknown'}`).catch(() => undefined);
  }

  /** Remembers (for ten minutes) that this request's key authenticated. */
  authenticated(req: Request): void {
    if (!this.failures) return;
    const tracker = trackerOf(req);
    if (this.goodKeys.size >= 10_000) this.goodKeys.clear();
    this.goodKeys.set(tracker, Date.now() + 600_000);
  }

  knownGood(tracker: string): boolean {
    const until = this.goodKeys.get(tracker);
    return until !== undefined && until > Date.now();
  }
}

/**
 * One request budget per API key per minute, across every route (`RATE_LIMIT_PER_MINUTE`; 0 turns
 * it off). Key-less routes (`@Public`: feeds, health) are counted per client address whatever
 * the Authorization header says (a made-up key must not buy a fresh budget), and the failed-key
 * lockout does not apply to them (they take no key, so failed logins must not close them). The budget
 * lives in this instance's memory (rate-limiter-flexible): with several instances behind a load
 * balancer each keeps its own count.
 *
 * Registered before the API key guard; an address whose made-up keys keep failing is refused
 * before any look-up (`RateLimits.failures`, fed by the key guard).
 * (`@nestjs/throttler` is CommonJS requiring the ESM-only @nestjs/common 12, which jest cannot load
 * on Node 20; rate-limiter-flexible has no Nest dependency.)
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly limits: RateLimits,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const { perKey, failures } = this.limits;
    if (!perKey || !failures) return true;
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, [context.getHandler(), context.getClass()])) {
      return this.consume(res, `ip:${req.ip ?? 'unknown'}`);
    }
    // An address that keeps presenting unknown keys waits, before any key is looked up; keys that
    // authenticated lately still pass (a shared address need not lock out its honest clients).
    const tracker = trackerOf(req);
    const failed = await failures.get(`ip:${req.ip ?? 'unknown'}`);
    if (failed && failed.consumedPoints >= failures.points && !this.limits.knownGood(tracker))
      return this.refuse(res, failed, failures.points);
    return this.consume(res, tracker);
  }

  private async consume(res: Response, tracker: string): Promise<boolean> {
    try {
      this.headers(res, await this.limits.perKey!.consume(tracker));
      return true;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      return this.refuse(res, rejection, this.limits.limit);
    }
  }

  private refuse(res: Response, state: RateLimiterRes, limit: number): never {
    this.headers(res, state, limit);
    res.setHeader('Retry-After', String(Math.max(1, Math.ceil(state.msBeforeNext / 1000))));
    throw new DomainError(
      CommonErrorCode.RATE_LIMITED,
      'Too many requests; retry after the number of seconds in Retry-After.',
    );
  }

  private headers(res: Response, state: RateLimiterRes, limit = this.limits.limit): void {
    res.setHeader('RateLimit-Limit', String(limit));
    res.setHeader('RateLimit-Remaining', String(Math.max(0, limit - state.consumedPoints)));
    res.setHeader('RateLimit-Reset', String(Math.ceil(state.msBeforeNext / 1000)));
  }
}

/**
 * The per-address budget as an Express middleware, for key-less routes served outside Nest's
 * guards (the OpenAPI document and /docs, which SwaggerModule mounts on Express directly).
 */
export function addressRateLimit(
  limits: RateLimits,
): (req: Request, res: Response, next: (err?: unknown) => void) => void {
  return (req, res, next) => {
    const perKey = limits.perKey;
    if (!perKey) return next();
    perKey.consume(`ip:${req.ip ?? 'unknown'}`).then(
      (state) => {
        res.setHeader('RateLimit-Limit', String(limits.limit));
        res.setHeader('RateLimit-Remaining', String(Math.max(0, limits.limit - state.consumedPoints)));
        res.setHeader('RateLimit-Reset', String(Math.ceil(state.msBeforeNext / 1000)));
        next();
      },
      (rejection: unknown) => {
        if (!(rejection instanceof RateLimiterRes)) return next(rejection);
        res.setHeader('RateLimit-Limit', String(limits.limit));
        res.setHeader('RateLimit-Remaining', '0');
        res.setHeader('RateLimit-Reset', String(Math.ceil(rejection.msBeforeNext / 1000)));
        res.setHeader('Retry-After', String(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000))));
        sendProblem(
          res,
          problemBody(
            new DomainError(
              CommonErrorCode.RATE_LIMITED,
              'Too many requests; retry after the number of seconds in Retry-After.',
            ),
            req,
          ),
        );
      },
    );
  };
}

/** The key's hash (never the key itself), or the client address when there is no key. */
function trackerOf(req: Request): string {
  const match = /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '');
  return match ? `key:${createHash('sha256').update(match[1]).digest('base64url')}` : `ip:${req.ip ?? 'unknown'}`;
}
