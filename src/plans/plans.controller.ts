import { Body, Controller, Get, Headers, HttpCode, Post, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import type { Actor } from '../common/auth/actor.js';
import { CurrentActor } from '../common/auth/current-actor.decorator.js';
import { ALL_ROLES, Roles } from '../common/auth/roles.decorator.js';
import { ProblemDto } from '../common/http/problem.dto.js';
import { parseIdempotencyKey } from '../common/idempotency/idempotency.service.js';
import { UuidParam } from '../common/validation/validation.js';
import { PlanDto, PlanListDto, PlanPreviewDto, PlanRequestDto } from './dto/plan.dto.js';
import { AvailabilityService } from './availability.service.js';
import { AvailabilityDto, AvailabilityQueryDto } from './dto/availability.dto.js';
import { LoadDto, LoadQueryDto } from './dto/load.dto.js';
import { LoadService } from './load.service.js';
import { planEtag } from './plan-etag.js';
import { PlansService } from './plans.service.js';

const INFEASIBLE = {
  description:
    'Nothing fits: `binding` names the constraint that stops the plan, `earliestStart` the first date from which one would work (or null)',
  type: ProblemDto,
};

@ApiTags('plans')
@Roles(...ALL_ROLES)
@ApiBadRequestResponse({
  description: 'Invalid input, or tailoring outside the template; `errors` names each field',
  type: ProblemDto,
})
@ApiNotFoundResponse({ description: 'Unknown patient, protocol or version', type: ProblemDto })
@Controller()
export class PlansController {
  constructor(
    private readonly service: PlansService,
    private readonly availabilityService: AvailabilityService,
    private readonly loadService: LoadService,
  ) {}

  @Post('plans/preview')
  @HttpCode(200)
  @ApiOperation({ summary: 'Propose a plan for a patient without booking anything' })
  @ApiOkResponse({ type: PlanPreviewDto })
  @ApiUnprocessableEntityResponse(INFEASIBLE)
  preview(@CurrentActor() actor: Actor, @Body() dto: PlanRequestDto): Promise<PlanPreviewDto> {
    return this.service.preview(actor, dto);
  }

  @Post('plans')
  @ApiOperation({ summary: 'Book a whole series in one transaction (all or nothing)' })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'A retry with the same key and body returns the first response; one sent while the first is still in flight waits for it (up to 5 s)',
  })
  @ApiCreatedResponse({
    type: PlanDto,
    headers: {
      'Idempotent-Replayed': {
        description: 'true when this is the stored response of an earlier request with the same key',
        schema: { type: 'string' },
      },
      'Chairside-Replanned': {
        description: 'true when another booking took a needed slot first and the series was planned again',
        schema: { type: 'string' },
      },
      ETag: {
        description: 'The booked plan\'s version ("p<version>"): the If-Match for adjustments',
        schema: { type: 'string' },
      },
    },
  })
  @ApiConflictResponse({
    description:
      'Another booking took a needed slot (conflictingSessionId), or a request with the same Idempotency-Key has been in flight for over 5 s (a shorter one is waited for and its answer replayed)',
    type: ProblemDto,
  })
  @ApiUnprocessableEntityResponse({
    ...INFEASIBLE,
    description: `${INFEASIBLE.description}; or the Idempotency-Key was used with a different body`,
  })
  async book(
    @CurrentActor() actor: Actor,
    @Body() dto: PlanRequestDto,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<PlanDto> {
    const result = await this.service.book(actor, dto, parseIdempotencyKey(key));
    res.status(result.status);
    // The booked version's ETag (a replay: the version it was booked at), the If-Match for adjustments.
    res.setHeader('ETag', planEtag(result.body.version));
    if (result.replayed) res.setHeader('Idempotent-Replayed', 'true');
    if (result.replanned) res.setHeader('Chairside-Replanned', 'true');
    return result.body;
  }

  @Get('clinics/:clinicId/availability')
  @ApiOperation({ summary: "Bookable start times for one session shape, in the clinic's local time (up to 28 days)" })
  @ApiOkResponse({ type: AvailabilityDto })
  availability(
    @CurrentActor() actor: Actor,
    @UuidParam('clinicId') clinicId: string,
    @Query() q: AvailabilityQueryDto,
  ): Promise<AvailabilityDto> {
    return this.availabilityService.slots(actor, clinicId, q);
  }

  @Get('clinics/:clinicId/load')
  @ApiOperation({
    summary:
      "Chairs occupied and infusion starts per local day and hour (up to 31 days): the clinic's load, no patient data",
  })
  @ApiOkResponse({ type: LoadDto })
  load(
    @CurrentActor() actor: Actor,
    @UuidParam('clinicId') clinicId: string,
    @Query() q: LoadQueryDto,
  ): Promise<LoadDto> {
    return this.loadService.load(actor, clinicId, q);
  }

  @Get('plans/:planId')
  @ApiOperation({ summary: 'A plan with its sessions; the ETag ("p<version>") is the If-Match for adjustments' })
  @ApiOkResponse({ type: PlanDto, headers: { ETag: { description: 'The plan version', schema: { type: 'string' } } } })
  async get(
    @CurrentActor() actor: Actor,
    @UuidParam('planId') id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<PlanDto> {
    const plan = await this.service.get(actor, id);
    res.setHeader('ETag', planEtag(plan.version)); // If-Match for adjustments
    return plan;
  }

  @Get('patients/:patientId/plans')
  @ApiOperation({
    summary:
      "A patient's plans, newest first; no ETag header: each plan carries its own `etag` (the If-Match for its adjustments)",
  })
  @ApiOkResponse({ type: PlanListDto })
  list(@CurrentActor() actor: Actor, @UuidParam('patientId') id: string): Promise<PlanListDto> {
    return this.service.listForPatient(actor, id);
  }
}
