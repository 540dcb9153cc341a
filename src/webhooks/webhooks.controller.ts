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
  RotatedWebhookSecretDto,
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
    summary:
      'Register an endpoint for signed event notifications (Standard Webhooks); the signing secret is returned once',
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

  @Post(':webhookId/secret')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Rotate the signing secret: a new one is returned once; the old one keeps signing alongside it for 24 hours',
    description:
      'Answers 200 (the endpoint is the same resource) with the endpoint, its new `secret` (`whsec_…`, shown only here) and ' +
      '`previousSecretExpiresAt`. Until then every attempt carries both signatures, the new one first ' +
      '(`webhook-signature: v1,<new> v1,<old>`), so receivers holding either secret verify while they switch; afterwards ' +
      'only the new one. Rotating again within the 24 hours drops the secret before the current one (one previous secret at a time).',
  })
  @ApiOkResponse({ type: RotatedWebhookSecretDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  rotateSecret(@CurrentActor() actor: Actor, @UuidParam('webhookId') id: string): Promise<RotatedWebhookSecretDto> {
    return this.service.rotateSecret(actor, id);
  }

  @Post(':webhookId/enable')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Turn an endpoint disabled by a 410 back on',
    description:
      'Events are queued for it again from now on. Messages that failed when it was disabled stay failed: replay them with ' +
      '`POST …/messages/{messageId}/retry`. Enabling an active endpoint changes nothing (200).',
  })
  @ApiOkResponse({ type: WebhookDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  enable(@CurrentActor() actor: Actor, @UuidParam('webhookId') id: string): Promise<WebhookDto> {
    return this.service.enable(actor, id);
  }

  @Get(':webhookId/messages')
  @ApiOperation({ summary: "An endpoint's messages, newest first, with every delivery attempt" })
  @ApiOkResponse({ type: WebhookMessagePageDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  messages(
    @CurrentActor() actor: Actor,
    @UuidParam('webhookId') id: string,
    @Query() q: WebhookMessageQueryDto,
  ): Promise<WebhookMessagePageDto> {
    return this.service.messages(actor, id, q);
  }

  @Post(':webhookId/messages/:messageId/retry')
  @HttpCode(202)
  @ApiOperation({ summary: 'Replay a failed message: it is queued again, due now, with the same webhook-id' })
  @ApiParam({ name: 'messageId', example: 'msg_3f0c2b6e8d3a4f0f9d8e7c6b5a493827' })
  @ApiAcceptedResponse({ type: WebhookMessageDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  @ApiConflictResponse({ description: 'The message is not failed, or the endpoint is disabled', type: ProblemDto })
  retry(
    @CurrentActor() actor: Actor,
    @UuidParam('webhookId') id: string,
    @Param('messageId') messageId: string,
  ): Promise<WebhookMessageDto> {
    return this.service.retry(actor, id, messageId);
  }
}
