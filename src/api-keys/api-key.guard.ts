import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ApiKeysService, CLINIC_HEADER } from './api-keys.service.js';
import type { ApiRole } from './entities/api-key.entity.js';
import { CommonErrorCode, ForbiddenError } from '../common/errors/common.errors.js';
import { DomainError } from '../common/errors/domain-error.js';
import { RateLimits } from '../common/http/rate-limit.guard.js';
import { PUBLIC_KEY, ROLES_KEY } from '../common/auth/roles.decorator.js';
import { timed } from '../common/http/server-timing.js';
import { routeOf } from '../common/http/route-of.js';

/**
 * The global guard: every route needs a valid `Authorization: Bearer <key>` and must declare its
 * roles with @Roles; a route that declares neither @Roles nor @Public is closed to everyone.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeysService,
    private readonly limits: RateLimits,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;

    const req = context.switchToHttp().getRequest<Request>();
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match)
      throw new DomainError(CommonErrorCode.UNAUTHENTICATED, 'An API key is required: Authorization: Bearer <key>.');
    const actor = await timed('auth', () => this.keys.authenticate(match[1]));
    if (!actor) {
      await this.limits.failedAuth(req);
      throw new DomainError(CommonErrorCode.UNAUTHENTICATED, 'The API key is unknown or revoked.');
    }
    this.limits.authenticated(req);
    actor.requestId = req.id === undefined ? undefined : String(req.id);
    actor.clientRequestId = req.clientRequestId;
    actor.route = routeOf(req);
    req.actor = actor;

    const roles = this.reflector.getAllAndOverride<ApiRole[] | undefined>(ROLES_KEY, targets);
    if (!roles || !roles.includes(actor.role)) {
      throw new ForbiddenError(`The ${actor.role} role may not do this.`);
    }
    // A key that may act in several clinics (or an operator key) picks one for this request.
    const picked = req.headers[CLINIC_HEADER];
    if (typeof picked === 'string') actor.clinicId = await this.keys.selectClinic(actor, picked.trim());
    return true;
  }
}
