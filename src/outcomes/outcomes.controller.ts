import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import type { Actor } from '../common/auth/actor.js';
import { CurrentActor } from '../common/auth/current-actor.decorator.js';
import { Roles } from '../common/auth/roles.decorator.js';
import { ProblemDto } from '../common/http/problem.dto.js';
import { UuidParam } from '../common/validation/validation.js';
import { OperationsQueryDto, OutcomesQueryDto } from './dto/outcomes.dto.js';
import { OutcomesService, reportFormat, type Rendered } from './outcomes.service.js';

function send(res: Response, r: Rendered): unknown {
  res.setHeader('Content-Type', r.contentType);
  res.setHeader('Vary', 'Accept');
  return r.body;
}

/** Aggregate reports: figures by protocol version, never a patient's data (cells under 5 patients are suppressed). */
@ApiTags('outcomes')
@Roles('clinician', 'admin')
@ApiBadRequestResponse({ description: 'Invalid query; `errors` names each field', type: ProblemDto })
@ApiNotFoundResponse({ type: ProblemDto })
@Controller()
export class OutcomesController {
  constructor(private readonly service: OutcomesService) {}

  @Get('protocols/:protocolId/outcomes')
  @ApiOperation({
    summary:
      'Outcomes by protocol version over the plans that started in the period (JSON; CSV with Accept: text/csv; FHIR R4 MeasureReports with Accept: application/fhir+json)',
    description: 'See docs/outcomes.md for every figure, its n, the quantile method and the suppression rules.',
  })
  @ApiProduces('application/json', 'text/csv', 'application/fhir+json')
  @ApiOkResponse({ description: 'The report' })
  async outcomes(
    @CurrentActor() actor: Actor,
    @UuidParam('protocolId') id: string,
    @Query() q: OutcomesQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    return send(res, await this.service.outcomes(actor, id, q, reportFormat(accept)));
  }

  @Get('outcomes/operations')
  @ApiOperation({
    summary:
      "The clinic's operations by protocol version and month: no-show rate, chair-hours per completed series, days from booking to first session (JSON or CSV)",
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ description: 'The report' })
  async operations(
    @CurrentActor() actor: Actor,
    @Query() q: OperationsQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const format = reportFormat(accept);
    return send(res, await this.service.operations(actor, q, format === 'fhir' ? 'json' : format));
  }
}
