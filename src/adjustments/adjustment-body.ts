import { Injectable, type CanActivate, type ExecutionContext, type PipeTransform } from '@nestjs/common';
import type { Request } from 'express';
import { ForbiddenError, ValidationFailedError } from '../common/errors/common.errors.js';
import { createValidationPipe } from '../common/validation/validation.js';
import {
  ADJUSTMENT_DTOS,
  ADJUSTMENT_TYPES,
  CLINICAL_TYPES,
  isAdjustmentType,
  type AdjustPlanDto,
} from './dto/adjust-request.dto.js';

const typeOf = (body: unknown): unknown =>
  typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as { type?: unknown }).type : undefined;

/**
 * The body of an adjustment, validated as the DTO its `type` names (class-transformer's
 * discriminator covers nested objects only): an unknown `type` is a 400 on `type`; otherwise the
 * app's own validation pipe (whitelist, unknown fields refused, field errors) runs with that class.
 */
@Injectable()
export class AdjustmentBodyPipe implements PipeTransform<unknown, Promise<AdjustPlanDto>> {
  private readonly pipe = createValidationPipe();

  async transform(body: unknown): Promise<AdjustPlanDto> {
    const type = typeOf(body);
    if (!isAdjustmentType(type)) {
      throw new ValidationFailedError([
        { field: 'type', message: `type must be one of the following values: ${ADJUSTMENT_TYPES.join(', ')}` },
      ]);
    }
    return (await this.pipe.transform(body, { type: 'body', metatype: ADJUSTMENT_DTOS[type] })) as AdjustPlanDto;
  }
}

/**
 * Clinical adjustments (dose, skip, end early, add) are for clinicians and admins: refused (403)
 * before the body is validated, as a role the route refuses outright would be.
 */
@Injectable()
export class ClinicalAdjustmentGuard implements CanActivate {
  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<Request>();
    const type = typeOf(req.body);
    if (req.actor?.role === 'front_desk' && isAdjustmentType(type) && CLINICAL_TYPES.includes(type)) {
      throw new ForbiddenError(`Only clinicians and admins may ${type.replace('_', ' ')}.`);
    }
    return true;
  }
}
