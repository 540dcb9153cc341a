import { Body, Controller, Get, Headers, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPreconditionFailedResponse,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import type { Actor } from '../common/auth/actor.js';
import { CurrentActor } from '../common/auth/current-actor.decorator.js';
import { ALL_ROLES, Roles } from '../common/auth/roles.decorator.js';
import { ValidationFailedError } from '../common/errors/common.errors.js';
import { ProblemDto } from '../common/http/problem.dto.js';
import { UuidParam } from '../common/validation/validation.js';
import {
  CreateProtocolDto,
  DraftDto,
  ProtocolDto,
  ProtocolPageDto,
  ProtocolQueryDto,
  ProtocolVersionDto,
} from './dto/protocol.dto.js';
import { ProtocolsService, type WithEtag } from './protocols.service.js';

const ETAG_HEADER = {
  ETag: { description: 'Entity tag of the draft ("d<revision>") or version ("v<n>")', schema: { type: 'string' } },
};
/**
 * The version number from the path, checked on its text (the global pipe would read "0x1" or
 * "1e2" as numbers): 1 to 999,999,999.
 */
const VersionParam = () =>
  Param('version', {
    transform: (value: string) => {
      if (!/^[1-9][0-9]{0,8}$/.test(value)) {
        throw new ValidationFailedError(
          [{ field: 'version', message: 'version must be a positive integer' }],
          'A path parameter is invalid.',
        );
      }
      return value;
    },
  });

function withEtag<T>(res: Response, r: WithEtag<T>): T {
  res.setHeader('ETag', r.etag);
  return r.body;
}

@ApiTags('protocols')
@ApiBadRequestResponse({ description: 'Invalid input; `errors` names each field', type: ProblemDto })
@Controller('protocols')
export class ProtocolsController {
  constructor(private readonly service: ProtocolsService) {}

  @Post()
  @Roles('clinician', 'admin')
  @ApiOperation({ summary: 'Create a protocol with its first draft' })
  @ApiCreatedResponse({ type: ProtocolDto, headers: ETAG_HEADER })
  @ApiNotFoundResponse({ description: 'Unknown clinic', type: ProblemDto })
  async create(
    @CurrentActor() actor: Actor,
    @Body() dto: CreateProtocolDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ProtocolDto> {
    return withEtag(res, await this.service.create(actor, dto));
  }

  @Get()
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'List protocols with their drafts and versions' })
  @ApiOkResponse({ type: ProtocolPageDto })
  list(@CurrentActor() actor: Actor, @Query() q: ProtocolQueryDto): Promise<ProtocolPageDto> {
    return this.service.list(actor, q);
  }

  @Get(':protocolId')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: "Get a protocol; the ETag is the draft's, for If-Match on PUT …/draft" })
  @ApiOkResponse({ type: ProtocolDto, headers: ETAG_HEADER })
  @ApiNotFoundResponse({ type: ProblemDto })
  async get(
    @CurrentActor() actor: Actor,
    @UuidParam('protocolId') id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ProtocolDto> {
    return withEtag(res, await this.service.get(actor, id));
  }

  @Put(':protocolId/draft')
  @Roles('clinician', 'admin')
  @ApiOperation({ summary: 'Replace the draft (name, indication, description, steps)' })
  @ApiHeader({ name: 'If-Match', required: true, description: 'The ETag of the draft being replaced' })
  @ApiOkResponse({ type: ProtocolDto, headers: ETAG_HEADER })
  @ApiNotFoundResponse({ type: ProblemDto })
  @ApiPreconditionFailedResponse({ description: 'The draft changed since that ETag', type: ProblemDto })
  @ApiResponse({ status: 428, description: 'If-Match missing', type: ProblemDto })
  async replaceDraft(
    @CurrentActor() actor: Actor,
    @UuidParam('protocolId') id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Body() dto: DraftDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ProtocolDto> {
    return withEtag(res, await this.service.replaceDraft(actor, id, ifMatch, dto));
  }

  @Post(':protocolId/publish')
  @Roles('clinician', 'admin')
  @ApiOperation({ summary: 'Freeze the draft into the next numbered, immutable version' })
  @ApiHeader({ name: 'If-Match', required: false, description: 'Publish only if the draft is still at this ETag' })
  @ApiCreatedResponse({ type: ProtocolVersionDto, headers: ETAG_HEADER })
  @ApiNotFoundResponse({ type: ProblemDto })
  @ApiConflictResponse({ description: 'The draft equals the latest version', type: ProblemDto })
  @ApiPreconditionFailedResponse({ description: 'The draft changed since that ETag', type: ProblemDto })
  async publish(
    @CurrentActor() actor: Actor,
    @UuidParam('protocolId') id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ProtocolVersionDto> {
    return withEtag(res, await this.service.publish(actor, id, ifMatch));
  }

  @Get(':protocolId/versions/:version')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'Get a published version (immutable; 304 on If-None-Match)' })
  @ApiParam({ name: 'version', type: Number })
  @ApiOkResponse({ type: ProtocolVersionDto, headers: ETAG_HEADER })
  @ApiNotFoundResponse({ type: ProblemDto })
  async getVersion(
    @CurrentActor() actor: Actor,
    @UuidParam('protocolId') id: string,
    @VersionParam() version: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ProtocolVersionDto> {
    return withEtag(res, await this.service.getVersion(actor, id, Number(version)));
  }

  @Post(':protocolId/versions/:version/retire')
  @Roles('clinician', 'admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Retire a version: no new plans from it; existing plans keep it' })
  @ApiParam({ name: 'version', type: Number })
  @ApiOkResponse({ type: ProtocolVersionDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  async retire(
    @CurrentActor() actor: Actor,
    @UuidParam('protocolId') id: string,
    @VersionParam() version: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ProtocolVersionDto> {
    return withEtag(res, await this.service.retire(actor, id, Number(version)));
  }
}
