import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Actor } from '../common/auth/actor.js';
import { CurrentActor } from '../common/auth/current-actor.decorator.js';
import { ALL_ROLES, Roles } from '../common/auth/roles.decorator.js';
import { ProblemDto } from '../common/http/problem.dto.js';
import { UuidParam } from '../common/validation/validation.js';
import { SessionViewDto } from '../plans/dto/plan.dto.js';
import { CancelSessionDto, CompleteSessionDto, NoShowDto, SessionPageDto, SessionQueryDto } from './dto/session.dto.js';
import { SessionsService } from './sessions.service.js';

const WRONG_STATUS = { description: 'Not allowed from the current status (`currentStatus`)', type: ProblemDto };

@ApiTags('sessions')
@ApiBadRequestResponse({ description: 'Invalid input; `errors` names each field', type: ProblemDto })
@ApiNotFoundResponse({ type: ProblemDto })
@Controller('sessions')
export class SessionsController {
  constructor(private readonly service: SessionsService) {}

  @Get()
  @Roles(...ALL_ROLES)
  @ApiOperation({
    summary:
      'The day sheet: sessions in a window (local dates or instants, up to 31 days), by chair, staff, patient or status',
  })
  @ApiOkResponse({ type: SessionPageDto })
  list(@CurrentActor() actor: Actor, @Query() q: SessionQueryDto): Promise<SessionPageDto> {
    return this.service.list(actor, q);
  }

  @Get(':sessionId')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'One session' })
  @ApiOkResponse({ type: SessionViewDto })
  get(@CurrentActor() actor: Actor, @UuidParam('sessionId') id: string): Promise<SessionViewDto> {
    return this.service.get(actor, id);
  }

  @Post(':sessionId/check-in')
  @HttpCode(200)
  @Roles(...ALL_ROLES)
  @ApiOperation({
    summary: 'The patient has arrived (scheduled → checked_in)',
    description:
      "Only on the session's local day, or from `checkInOpensDaysBefore` days earlier (a clinic setting); otherwise 409 CHECK_IN_NOT_OPEN with `checkInOpensAt`/`checkInClosesAt`.",
  })
  @ApiOkResponse({ type: SessionViewDto })
  @ApiConflictResponse({
    description:
      "Not allowed from the current status (`currentStatus`), or not on the session's day (CHECK_IN_NOT_OPEN)",
    type: ProblemDto,
  })
  checkIn(@CurrentActor() actor: Actor, @UuidParam('sessionId') id: string): Promise<SessionViewDto> {
    return this.service.checkIn(actor, id);
  }

  @Post(':sessionId/complete')
  @HttpCode(200)
  @Roles('clinician', 'admin')
  @ApiOperation({
    summary: 'Treated, with the dose actually given (checked_in → completed)',
    description:
      'Once the session has begun, or with an `actualStart` in the past (an earlier start); otherwise 409 SESSION_NOT_STARTED. An `actualStart` in the future is 400.',
  })
  @ApiOkResponse({ type: SessionViewDto })
  @ApiConflictResponse({
    description:
      'Not allowed from the current status (`currentStatus`), or the session has not begun (SESSION_NOT_STARTED, `startsAt`)',
    type: ProblemDto,
  })
  complete(
    @CurrentActor() actor: Actor,
    @UuidParam('sessionId') id: string,
    @Body() dto: CompleteSessionDto,
  ): Promise<SessionViewDto> {
    return this.service.complete(actor, id, dto);
  }

  @Post(':sessionId/no-show')
  @HttpCode(200)
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'The patient did not come (scheduled → no_show)' })
  @ApiOkResponse({ type: SessionViewDto })
  @ApiConflictResponse(WRONG_STATUS)
  noShow(
    @CurrentActor() actor: Actor,
    @UuidParam('sessionId') id: string,
    @Body() dto: NoShowDto,
  ): Promise<SessionViewDto> {
    return this.service.noShow(actor, id, dto);
  }

  @Post(':sessionId/cancel')
  @HttpCode(200)
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'Call the session off, with a reason; frees its chair and staff time' })
  @ApiOkResponse({ type: SessionViewDto })
  @ApiConflictResponse(WRONG_STATUS)
  cancel(
    @CurrentActor() actor: Actor,
    @UuidParam('sessionId') id: string,
    @Body() dto: CancelSessionDto,
  ): Promise<SessionViewDto> {
    return this.service.cancel(actor, id, dto);
  }
}
