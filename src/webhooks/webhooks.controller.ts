import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { Actor } from '../common/auth/actor.js';
import { CurrentActor } from '../common/auth/current-actor.decorator.js';
import { Roles } from '../common/auth/roles.decorator.js';
import { ProblemDto } from '../common/http/problem.dto.js';
import { UuidParam } from '../common/validation/validation.js';
import {
  CreatedWebhookDto,
  CreateWebhookDto,
  WebhookDto,
  WebhookMessageDto,
  WebhookMessagePageDto,
  WebhookMessageQueryDto,
  WebhookPageDto,
  WebhookQueryDto,
} from './dto/webhook.dto.js';
import { WebhooksService } from './webhooks.service.js';

@ApiTags('webhooks')
@Roles('admin')
@ApiBadRequestResponse({ description: 'Invalid input; `errors` names each field', type: ProblemDto })
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly service: WebhooksService) {}

  @Post()
  @ApiOperation({
    summary: 'Register an endpoint for signed event notifications (Standard Webhooks); the signing secret is returned once',
    description:
      'Each event is POSTed as JSON `{type, timestamp, data: {id, revision, …}}` (no patient data) with the headers `webhook-id` ' +
      '(the same on every retry: deduplicate on it), `webhook-timestamp` and `webhook-signature`. Delivery is at least once and ' +
      'events may arrive out of order: compare `revision`, or call the sync API. Only 2xx counts as delivered; other answers ' +
      'are retried with backoff; 410 Gone disables the endpoint.',
  })
  @ApiCreatedResponse({ type: CreatedWebhookDto })
  @ApiNotFoundResponse({ description: 'Unknown clinic', type: ProblemDto })
  create(@CurrentActor() actor: Actor, @Body() dto: CreateWebhookDto): Promise<CreatedWebhookDto> {
    return this.service.create(actor, dto);
  }

  @Get()
  @ApiOperation({ summary: 'The endpoints (without secrets), newest first' })
  @ApiOkResponse({ type: WebhookPageDto })
  list(@CurrentActor() actor: Actor, @Query() q: WebhookQueryDto): Promise<WebhookPageDto> {
    return this.service.list(actor, q);
  }

  @Get(':webhookId')
  @ApiOperation({ summary: 'One endpoint (without its secret)' })
  @ApiOkResponse({ type: WebhookDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  get(@CurrentActor() actor: Actor, @UuidParam('webhookId') id: string): Promise<WebhookDto> {
    return this.service.get(actor, id);
  }

  @Delete(':webhookId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an endpoint: nothing more is sent to it and its pending messages are cancelled' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ type: ProblemDto })
  async delete(@CurrentActor() actor: Actor, @UuidParam('webhookId') id: string): Promise<void> {
    await this.service.delete(actor, id);
  }

  @Get(':webhookId/messages')
  @ApiOperation({ summary: "An endpoint's messages, newest first, with every delivery attempt" })
  @ApiOkResponse({ type: WebhookMessagePageDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  messages(@CurrentActor() actor: Actor, @UuidParam('webhookId') id: string, @Query() q: WebhookMessageQueryDto): Promise<WebhookMessagePageDto> {
    return this.service.messages(actor, id, q);
  }

  @Post(':webhookId/messages/:messageId/retry')
  @HttpCode(202)
  @ApiOperation({ summary: 'Replay a failed message: it is queued again, due now, with the same webhook-id' })
  @ApiParam({ name: 'messageId', example: 'msg_3f0c2b6e8d3a4f0f9d8e7c6b5a493827' })
  @ApiAcceptedResponse({ type: WebhookMessageDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  @ApiConflictResponse({ description: 'The message is not failed, or the endpoint is disabled', type: ProblemDto })
  retry(@CurrentActor() actor: Actor, @UuidParam('webhookId') id: string, @Param('messageId') messageId: string): Promise<WebhookMessageDto> {
    return this.service.retry(actor, id, messageId);
  }
}
