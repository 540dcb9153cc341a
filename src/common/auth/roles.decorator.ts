import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { ApiRole } from './api-role.js';
import { ProblemDto } from '../http/problem.dto.js';

export const ROLES_KEY = 'chairside:roles';
export const PUBLIC_KEY = 'chairside:public';

/** The roles allowed on a route (or every route of a controller). Routes without it are closed. */
export function Roles(...roles: ApiRole[]) {
  return applyDecorators(
    SetMetadata(ROLES_KEY, roles),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({ description: 'No API key, or an unknown or revoked one', type: ProblemDto }),
    ApiForbiddenResponse({ description: `Role not allowed (allowed: ${roles.join(', ')})`, type: ProblemDto }),
  );
}

/** A route that needs no key (health, docs, calendar feeds). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

export const ALL_ROLES: ApiRole[] = ['front_desk', 'clinician', 'admin'];
