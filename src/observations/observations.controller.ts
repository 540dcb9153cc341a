import { Body, Controller, Get, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Actor } from '../common/auth/actor.js';
import { CurrentActor } from '../common/auth/current-actor.decorator.js';
import { Roles } from '../common/auth/roles.decorator.js';
import { ProblemDto } from '../common/http/problem.dto.js';
import { UuidParam } from '../common/validation/validation.js';
import { CreateObservationDto, ObservationDto, ObservationListDto } from './dto/observation.dto.js';
import { ObservationsService } from './observations.service.js';

/** Clinical data: recorded and read by clinicians (and admins), not the front desk. */
@ApiTags('observations')
@Roles('clinician', 'admin')
@ApiNotFoundResponse({ type: ProblemDto })
@ApiBadRequestResponse({ description: 'Invalid input; `errors` names each field', type: ProblemDto })
@Controller()
export class ObservationsController {
  constructor(private readonly service: ObservationsService) {}

  @Post('sessions/:sessionId/observations')
  @ApiOperation({ summary: 'Record scores, vitals, adverse events or a note for a session' })
  @ApiCreatedResponse({ type: ObservationDto })
  @ApiConflictResponse({ description: 'The session was cancelled or missed', type: ProblemDto })
  record(
    @CurrentActor() actor: Actor,
    @UuidParam('sessionId') id: string,
    @Body() dto: CreateObservationDto,
  ): Promise<ObservationDto> {
    return this.service.record(actor, id, dto);
  }

  @Get('sessions/:sessionId/observations')
  @ApiOperation({ summary: "A session's observations" })
  @ApiOkResponse({ type: ObservationListDto })
  forSession(@CurrentActor() actor: Actor, @UuidParam('sessionId') id: string): Promise<ObservationListDto> {
    return this.service.forSession(actor, id);
  }

  @Get('plans/:planId/observations')
  @ApiOperation({ summary: "The plan's timeline of observations, oldest first" })
  @ApiOkResponse({ type: ObservationListDto })
  forPlan(@CurrentActor() actor: Actor, @UuidParam('planId') id: string): Promise<ObservationListDto> {
    return this.service.forPlan(actor, id);
  }
}
