import { Body, Controller, Get, Headers, HttpCode, Post, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPreconditionFailedResponse,
  ApiProperty,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import type { Actor } from '../common/auth/actor.js';
import { CurrentActor } from '../common/auth/current-actor.decorator.js';
import { ALL_ROLES, Roles } from '../common/auth/roles.decorator.js';
import { ProblemDto } from '../common/http/problem.dto.js';
import { UuidParam } from '../common/validation/validation.js';
import { AdjustmentsService } from './adjustments.service.js';
import { AdjustmentResultDto, AdjustPlanDto, AdjustQueryDto } from './dto/adjust.dto.js';

export class AdjustmentDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'The plan version this change produced' }) planVersion: number;
  @ApiProperty({ example: 'check_in' }) type: string;
  @ApiProperty({ nullable: true, type: String }) reason: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) actorKeyId: string | null;
  @ApiProperty({ nullable: true, type: String }) actorRole: string | null;
  @ApiProperty({ format: 'date-time' }) occurredAt: string;
  @ApiProperty({ description: 'Per affected session: sessionId, ref, before, after', type: [Object] })
  changes: unknown[];
}

export class AdjustmentListDto {
  @ApiProperty({ type: [AdjustmentDto] }) items: AdjustmentDto[];
}

@ApiTags('adjustments')
@Controller('plans')
export class AdjustmentsController {
  constructor(private readonly service: AdjustmentsService) {}

  @Post(':planId/adjustments')
  @HttpCode(200)
  @Roles(...ALL_ROLES)
  @ApiOperation({
    summary: 'Adjust a plan (change_dose, skip, cancel_remaining); ?preview=true shows the changes without writing',
    description:
      'Clinical changes need a reason and a clinician or admin. If-Match carries the plan ETag ("p<version>", from GET /v1/plans/{id}).',
  })
  @ApiHeader({ name: 'If-Match', required: true, description: 'The plan ETag' })
  @ApiOkResponse({ type: AdjustmentResultDto })
  @ApiBadRequestResponse({ description: 'Invalid input; `errors` names each field', type: ProblemDto })
  @ApiConflictResponse({
    description: 'A session is not in a status the change applies to (`currentStatus`)',
    type: ProblemDto,
  })
  @ApiPreconditionFailedResponse({ description: 'The plan changed since that ETag', type: ProblemDto })
  @ApiResponse({ status: 428, description: 'If-Match missing', type: ProblemDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  async adjust(
    @CurrentActor() actor: Actor,
    @UuidParam('planId') id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Query() q: AdjustQueryDto,
    @Body() dto: AdjustPlanDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AdjustmentResultDto> {
    const result = await this.service.adjust(actor, id, ifMatch, dto, q.preview ?? false);
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
