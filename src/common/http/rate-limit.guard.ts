import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request, Response } from 'express';
import { createHash } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CommonErrorCode } from '../errors/common.errors.js';
import { DomainError } from '../errors/domain-error.js';

/**
 * One request budget per API key per minute, across every route (`RATE_LIMIT_PER_MINUTE`; 0 turns
 * it off). Requests without a key (feeds, health) are counted per client address. The budget
 * lives in this instance's memory (rate-limiter-flexible): with several instances behind a load
 * balancer each keeps its own count.
 *
 * Registered before the API key guard, so that a flood of wrong keys is limited before any look-up.
 * (`@nestjs/throttler` is CommonJS requiring the ESM-only @nestjs/common 12, which jest cannot load
 * on Node 20; rate-limiter-flexible has no Nest dependency.)
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly limiter: RateLimiterMemory | null;
  private readonly limit: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.limit = config.rateLimitPerMinute;
    this.limiter = this.limit > 0 ? new RateLimiterMemory({ points: this.limit, duration: 60 }) : null;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.limiter) return true;
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    try {
      const state = await this.limiter.consume(trackerOf(req));
      this.headers(res, state);
      return true;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      this.headers(res, rejection);
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000))));
      throw new DomainError(CommonErrorCode.RATE_LIMITED, 'Too many requests for this API key; retry after the number of seconds in Retry-After.');
    }
  }

  private headers(res: Response, state: RateLimiterRes): void {
    res.setHeader('RateLimit-Limit', String(this.limit));
    res.setHeader('RateLimit-Remaining', String(Math.max(0, state.remainingPoints)));
    res.setHeader('RateLimit-Reset', String(Math.ceil(state.msBeforeNext / 1000)));
  }
}

/** The key's hash (never the key itself), or the client address when there is no key. */
function trackerOf(req: Request): string {
  const match = /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '');
  return match ? `key:${createHash('sha256').update(match[1]).digest('base64url')}` : `ip:${req.ip ?? 'unknown'}`;
}
