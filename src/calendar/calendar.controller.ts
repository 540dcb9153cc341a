import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { Actor } from '../common/auth/actor.js';
import { routeOf } from '../common/http/route-of.js';
import { CurrentActor } from '../common/auth/current-actor.decorator.js';
import { ALL_ROLES, Public, Roles } from '../common/auth/roles.decorator.js';
import { ProblemDto } from '../common/http/problem.dto.js';
import { UuidParam } from '../common/validation/validation.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { CalendarService } from './calendar.service.js';
import {
  CalendarFeedPageDto,
  CalendarFeedQueryDto,
  CreateCalendarFeedDto,
  CreatedCalendarFeedDto,
} from './dto/calendar-feed.dto.js';
import { publicBaseUrl, sendFeed } from './feed-http.js';
import { CANCELLED_GRACE_DAYS, FEED_FUTURE_DAYS, FEED_PAST_DAYS } from './feed-render.js';

@ApiTags('calendar')
@Controller('calendar/feeds')
export class CalendarController {
  constructor(
    private readonly service: CalendarService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post()
  @Roles(...ALL_ROLES)
  @ApiOperation({
    summary:
      'Create an iCalendar subscription feed for the clinic, a chair, a staff member or a patient; returns its secret URL once',
    description:
      'The feed lives as long as the API key that creates it: revoking the key revokes the feed. The URL starts with PUBLIC_URL; ' +
      "without it (development only) with the request's scheme and host, which must be one this service answers to (ALLOWED_HOSTS; " +
      'by default localhost, 127.0.0.1, ::1 and the listen address), else 400.',
  })
  @ApiCreatedResponse({ type: CreatedCalendarFeedDto })
  @ApiBadRequestResponse({ description: 'Invalid input; `errors` names each field', type: ProblemDto })
  @ApiNotFoundResponse({
    description: 'Unknown clinic, or no such chair, staff member or patient in the clinic',
    type: ProblemDto,
  })
  create(
    @CurrentActor() actor: Actor,
    @Body() dto: CreateCalendarFeedDto,
    @Req() req: Request,
  ): Promise<CreatedCalendarFeedDto> {
    return this.service.create(actor, dto, publicBaseUrl(this.config, req));
  }

  @Get()
  @Roles(...ALL_ROLES)
  @ApiOperation({
    summary:
      "The clinic's active feeds, newest first, each with the API key that created it (tokens are never shown again)",
  })
  @ApiOkResponse({ type: CalendarFeedPageDto })
  @ApiBadRequestResponse({ type: ProblemDto })
  list(@CurrentActor() actor: Actor, @Query() q: CalendarFeedQueryDto): Promise<CalendarFeedPageDto> {
    return this.service.list(actor, q);
  }

  @Delete(':feedId')
  @HttpCode(204)
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'Revoke a feed: its URL answers 404 from now on (create a new feed to rotate the URL)' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiBadRequestResponse({ type: ProblemDto })
  @ApiNotFoundResponse({ description: 'No such active feed in your clinic (FEED_NOT_FOUND)', type: ProblemDto })
  revoke(@CurrentActor() actor: Actor, @UuidParam('feedId') id: string): Promise<void> {
    return this.service.revoke(actor, id);
  }

  @Get(':token.ics')
  @Public()
  @ApiOperation({
    summary: 'The feed itself (text/calendar; also HEAD). No API key: the token in the URL is the key',
    description:
      `Sessions starting from ${FEED_PAST_DAYS} days ago to ${FEED_FUTURE_DAYS} days ahead, one VEVENT each with a stable UID, ` +
      `SEQUENCE raised on every change (a rename of the chair or staff member too), times in UTC; cancelled sessions stay as STATUS:CANCELLED ` +
      `(SUMMARY "Cancelled: …") for ${CANCELLED_GRACE_DAYS} days. In a chair's feed each event lasts until the chair is free again (recovery included). ` +
      'The ETag is a hash of the body: send it back in If-None-Match to get 304 when nothing changed.',
  })
  @ApiParam({ name: 'token', description: 'The token returned when the feed was created' })
  @ApiHeader({ name: 'If-None-Match', required: false, description: 'The ETag of a copy already held' })
  @ApiProduces('text/calendar')
  @ApiOkResponse({
    description: 'The calendar',
    content: { 'text/calendar': { schema: { type: 'string' } } },
    headers: {
      ETag: { description: 'Strong; the hash of the body', schema: { type: 'string' } },
      'Last-Modified': { description: 'The latest change among what the feed shows', schema: { type: 'string' } },
      'Cache-Control': { description: 'private, max-age=300', schema: { type: 'string' } },
    },
  })
  @ApiResponse({ status: 304, description: 'Not modified (If-None-Match matched)' })
  @ApiNotFoundResponse({ description: 'Unknown or revoked token (FEED_NOT_FOUND)', type: ProblemDto })
  async feed(@Param('token') token: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    sendFeed(
      req,
      res,
      await this.service.render(token, {
        requestId: req.id === undefined ? undefined : String(req.id),
        clientRequestId: req.clientRequestId,
        route: routeOf(req),
      }),
    );
  }
}
