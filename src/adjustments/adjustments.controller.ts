import { Body, Controller, Get, Headers, HttpCode, Post, Query, Res, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiExtraModels,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPreconditionFailedResponse,
  ApiResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Response } from 'express';
import type { Actor } from '../common/auth/actor.js';
import { CurrentActor } from '../common/auth/current-actor.decorator.js';
import { ALL_ROLES, Roles } from '../common/auth/roles.decorator.js';
import { ProblemDto } from '../common/http/problem.dto.js';
import { UuidParam } from '../common/validation/validation.js';
import { AdjustmentBodyPipe, ClinicalAdjustmentGuard } from './adjustment-body.js';
import { AdjustmentsService } from './adjustments.service.js';
import { ADJUSTMENT_DTOS, AdjustQueryDto, type AdjustPlanDto } from './dto/adjust-request.dto.js';
import { AdjustmentListDto, AdjustmentResultDto } from './dto/adjust-result.dto.js';

const REQUEST_TYPES = Object.entries(ADJUSTMENT_DTOS);

@ApiTags('adjustments')
@Controller('plans')
export class AdjustmentsController {
  constructor(private readonly service: AdjustmentsService) {}

  @Post(':planId/adjustments')
  @HttpCode(200)
  @Roles(...ALL_ROLES)
  @UseGuards(ClinicalAdjustmentGuard)
  @ApiOperation({
    summary:
      'Adjust a plan (reschedule, change_dose, skip, add, cancel_remaining, change_chair, change_staff); ?preview=true shows the changes without writing',
    description:
      'The body is one of the request types, told apart by `type`; a field of another type is refused. ' +
      'Clinical changes (change_dose, skip, add, cancel_remaining) need a reason and a clinician or admin. ' +
      'If-Match carries the plan ETag ("p<version>", from GET /v1/plans/{id}).',
  })
  @ApiExtraModels(...REQUEST_TYPES.map(([, dto]) => dto))
  @ApiBody({
    schema: {
      oneOf: REQUEST_TYPES.map(([, dto]) => ({ $ref: getSchemaPath(dto) })),
      discriminator: {
        propertyName: 'type',
        mapping: Object.fromEntries(REQUEST_TYPES.map(([type, dto]) => [type, getSchemaPath(dto)])),
      },
    },
  })
  @ApiHeader({ name: 'If-Match', required: true, description: 'The plan ETag' })
  @ApiOkResponse({ type: AdjustmentResultDto })
  @ApiBadRequestResponse({ description: 'Invalid input; `errors` names each field', type: ProblemDto })
  @ApiConflictResponse({
    description:
      'SESSION_NOT_ADJUSTABLE: a session is not in a status the change applies to (`currentStatus`); ' +
      'NOTHING_TO_ADJUST: nothing is left to change; PLAN_ENDED: the plan ended early (add); ' +
      'PLAN_TEMPLATE_MISMATCH: the plan no longer matches its template (reschedule, skip with shift); ' +
      'SLOT_TAKEN: the chair or staff member is not free',
    type: ProblemDto,
  })
  @ApiPreconditionFailedResponse({ description: 'The plan changed since that ETag', type: ProblemDto })
  @ApiResponse({ status: 422, description: 'PLAN_INFEASIBLE: the change does not fit (`binding`)', type: ProblemDto })
  @ApiResponse({ status: 428, description: 'If-Match missing', type: ProblemDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  async adjust(
    @CurrentActor() actor: Actor,
    @UuidParam('planId') id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Query() q: AdjustQueryDto,
    @Body(AdjustmentBodyPipe) req: AdjustPlanDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AdjustmentResultDto> {
    const result = await this.service.adjust(actor, id, ifMatch, req, q.preview ?? false);
    res.setHeader('ETag', result.etag);
    return result.body;
  }

  @Get(':planId/adjustments')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: "The plan's append-only change log, oldest first" })
  @ApiOkResponse({ type: AdjustmentListDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  list(@CurrentActor() actor: Actor, @UuidParam('planId') id: string): Promise<AdjustmentListDto> {
    return this.service.list(actor, id);
  }
}
