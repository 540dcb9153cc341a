import { Controller, Get } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { Actor } from '../common/auth/actor.js';
import { CurrentActor } from '../common/auth/current-actor.decorator.js';
import { ALL_ROLES, Roles } from '../common/auth/roles.decorator.js';
import { ProblemDto } from '../common/http/problem.dto.js';
import { UuidParam } from '../common/validation/validation.js';
import { AdjustmentsService } from './adjustments.service.js';

export class AdjustmentDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'The plan version this change produced' }) planVersion: number;
  @ApiProperty({ example: 'check_in' }) type: string;
  @ApiProperty({ nullable: true, type: String }) reason: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) actorKeyId: string | null;
  @ApiProperty({ nullable: true, type: String }) actorRole: string | null;
  @ApiProperty({ format: 'date-time' }) occurredAt: string;
  @ApiProperty({ description: 'Per affected session: sessionId, ref, before, after', type: [Object] }) changes: unknown[];
}

export class AdjustmentListDto {
  @ApiProperty({ type: [AdjustmentDto] }) items: AdjustmentDto[];
}

@ApiTags('adjustments')
@Controller('plans')
export class AdjustmentsController {
  constructor(private readonly service: AdjustmentsService) {}

  @Get(':planId/adjustments')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: "The plan's append-only change log, oldest first" })
  @ApiOkResponse({ type: AdjustmentListDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  list(@CurrentActor() actor: Actor, @UuidParam('planId') id: string): Promise<AdjustmentListDto> {
    return this.service.list(actor, id);
  }
}
