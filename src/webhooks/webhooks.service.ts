import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import type { Actor } from '../common/auth/actor.js';
import { clinicFilter, resolveClinicForWrite } from '../clinics/clinic-scope.js';
import { CommonErrorCode, ValidationFailedError } from '../common/errors/common.errors.js';
import { DomainError } from '../common/errors/domain-error.js';
import { decodeCursor, encodeCursor, type Page } from '../common/paging/cursor.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type {
  CreatedWebhookDto,
  CreateWebhookDto,
  RotatedWebhookSecretDto,
  WebhookDto,
  WebhookMessageDto,
  WebhookMessageQueryDto,
  WebhookQueryDto,
} from './dto/webhook.dto.js';
import { privateHostReason } from './network-policy.js';
import { messagePublicId, parseMessageId, WEBHOOK_EVENT_TYPES } from './webhook-event-types.js';
import { WebhookError, WebhookErrorCode } from './webhooks.errors.js';
import type { WebhookAttemptRow, WebhookEndpointRow, WebhookMessageRow } from './webhook-rows.js';
import { WebhooksRepository } from './webhooks.repository.js';

function toDto(e: WebhookEndpointRow): WebhookDto {
  return {
    id: e.id,
    clinicId: e.clinicId,
    url: e.url,
    eventTypes: e.eventTypes,
    description: e.description,
    status: e.status,
    statusReason: e.statusReason,
    createdAt: e.createdAt.toISOString(),
  };
}

function toMessageDto(r: WebhookMessageRow, attempts: WebhookAttemptRow[]): WebhookMessageDto {
  return {
    id: messagePublicId(r.id),
    eventType: r.eventType,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.status === 'pending' ? r.nextAttemptAt.toISOString() : null,
    deliveredAt: r.deliveredAt?.toISOString() ?? null,
    lastStatus: r.lastStatus,
    lastError: r.lastError,
    createdAt: r.createdAt.toISOString(),
    deliveryAttempts: attempts.map((a) => ({
      attempt: a.attempt,
      startedAt: a.startedAt.toISOString(),
      durationMs: a.durationMs,
      statusCode: a.statusCode,
      error: a.error,
    })),
  };
}

/** How long a replaced signing secret keeps signing alongside the new one (database time). */
export const SECRET_ROTATION_OVERLAP_SECONDS = 24 * 3600;

/** `whsec_` + base64 of 32 random bytes; stored as is: the HMAC needs the key itself, so it cannot be hashed like an API key. */
const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

const notFound = () => new WebhookError(WebhookErrorCode.WEBHOOK_NOT_FOUND, 'No such webhook endpoint.');

/**
 * Webhook endpoints (admin only) and their messages. The messages themselves are written by
 * database triggers in the transaction of each change (the outbox) and sent by
 * WebhookDeliveryWorker; this service shows them and replays failed ones.
 */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: WebhooksRepository,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Registers an endpoint; the answer carries its signing secret, which is never shown again. */
  async create(actor: Actor, dto: CreateWebhookDto): Promise<CreatedWebhookDto> {
    if (!this.config.webhooks.allowPrivateNetworks) {
      // Names are checked again at every delivery, against the addresses actually connected to.
      const why = privateHostReason(new URL(dto.url));
      if (why) throw new ValidationFailedError([{ field: 'url', message: why }]);
    }
    const secret = newSecret();
    const eventTypes = WEBHOOK_EVENT_TYPES.filter((t) => dto.eventTypes.includes(t));
    return this.dataSource.transaction(async (m) => {
      const clinicId = await resolveClinicForWrite(m, actor, dto.clinicId);
      const row = await this.repo.insertEndpoint(m, {
        clinicId,
        url: dto.url,
        description: dto.description ?? null,
        eventTypes,
        secret,
        createdByKeyId: actor.keyId,
      });
      await this.audit.record(m, actor, {
        clinicId,
        action: 'webhook.create',
        entityType: 'webhook_endpoint',
        entityId: row.id,
      });
      return { ...toDto(row), secret };
    });
  }

  async list(actor: Actor, q: WebhookQueryDto): Promise<Page<WebhookDto>> {
    const clinicId = clinicFilter(actor, q.clinicId);
    if (clinicId === null) return { items: [], nextCursor: null };
    const limit = q.limit ?? 50;
    const rows = await this.repo.listEndpoints(clinicId, limit + 1, decodeCursor(q.cursor, ['timestamp', 'uuid']));
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toDto),
      nextCursor: rows.length > limit && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null,
    };
  }

  async get(actor: Actor, id: string): Promise<WebhookDto> {
    return toDto(await this.endpoint(actor, id));
  }

  /** Deletes the endpoint: nothing more is sent to it, and its pending messages are cancelled. */
  async delete(actor: Actor, id: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const endpoint = await this.repo.findEndpoint(id, actor.clinicId, m, true);
      if (!endpoint) throw notFound();
      await this.repo.deleteEndpoint(m, endpoint.clinicId, id);
      await this.audit.record(m, actor, {
        clinicId: endpoint.clinicId,
        action: 'webhook.delete',
        entityType: 'webhook_endpoint',
        entityId: id,
      });
    });
  }

  /**
   * Gives the endpoint a new signing secret, returned once. The replaced secret keeps signing
   * alongside it for SECRET_ROTATION_OVERLAP_SECONDS; a rotation within that overlap drops the
   * secret before (only one previous secret at a time).
   */
  async rotateSecret(actor: Actor, id: string): Promise<RotatedWebhookSecretDto> {
    const secret = newSecret();
    return this.dataSource.transaction(async (m) => {
      const endpoint = await this.repo.findEndpoint(id, actor.clinicId, m, true);
      if (!endpoint) throw notFound();
      const { previousSecretExpiresAt } = await this.repo.rotateSecret(
        m,
        endpoint.clinicId,
        id,
        secret,
        SECRET_ROTATION_OVERLAP_SECONDS,
      );
      await this.audit.record(m, actor, {
        clinicId: endpoint.clinicId,
        action: 'webhook.rotate_secret',
        entityType: 'webhook_endpoint',
        entityId: id,
      });
      return { ...toDto(endpoint), secret, previousSecretExpiresAt: previousSecretExpiresAt.toISOString() };
    });
  }

  /**
   * Turns an endpoint disabled by a 410 back on: events are queued for it again from now on. The
   * messages that failed with the disable stay failed (replay them with `retry`). An active
   * endpoint is left as it is.
   */
  async enable(actor: Actor, id: string): Promise<WebhookDto> {
    return this.dataSource.transaction(async (m) => {
      const endpoint = await this.repo.findEndpoint(id, actor.clinicId, m, true);
      if (!endpoint) throw notFound();
      if (endpoint.status === 'active') return toDto(endpoint);
      const enabled = await this.repo.enableEndpoint(m, endpoint.clinicId, id);
      await this.audit.record(m, actor, {
        clinicId: endpoint.clinicId,
        action: 'webhook.enable',
        entityType: 'webhook_endpoint',
        entityId: id,
        before: { status: endpoint.status, statusReason: endpoint.statusReason },
        after: { status: enabled.status, statusReason: enabled.statusReason },
      });
      return toDto(enabled);
    });
  }

  /** An endpoint's messages, newest first, each with its delivery attempts. */
  async messages(actor: Actor, id: string, q: WebhookMessageQueryDto): Promise<Page<WebhookMessageDto>> {
    const endpoint = await this.endpoint(actor, id);
    const limit = q.limit ?? 50;
    const after = decodeCursor(q.cursor, ['timestamp', 'uuid']);
    const { messages, attempts } = await this.repo.listMessages(endpoint.clinicId, id, q.status, limit + 1, after);
    const items = messages.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map((r) => toMessageDto(r, attempts.get(r.id) ?? [])),
      nextCursor: messages.length > limit && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null,
    };
  }

  /** Manual replay: a failed message goes back in the queue, due now, with the same webhook-id. */
  async retry(actor: Actor, id: string, messageId: string): Promise<WebhookMessageDto> {
    const uuid = parseMessageId(messageId);
    if (!uuid)
      throw new ValidationFailedError(
        [{ field: 'messageId', message: 'messageId must be a message id (msg_…)' }],
        'A path parameter is invalid.',
      );
    const row = await this.dataSource.transaction(async (m) => {
      // Locked, so that a concurrent delete either comes first (404) or sees the message pending (cancels it).
      const endpoint = await this.repo.findEndpoint(id, actor.clinicId, m, true);
      if (!endpoint) throw notFound();
      const message = await this.repo.findMessage(endpoint.clinicId, id, uuid, m, true);
      if (!message)
        throw new WebhookError(WebhookErrorCode.WEBHOOK_MESSAGE_NOT_FOUND, 'No such message for this endpoint.');
      if (message.status !== 'failed') {
        throw new DomainError(
          CommonErrorCode.CONFLICT,
          `Only failed messages can be retried; this one is ${message.status}.`,
          [],
          { currentStatus: message.status },
        );
      }
      if (endpoint.status !== 'active') {
        throw new DomainError(
          CommonErrorCode.CONFLICT,
          'The endpoint is disabled (its receiver answered 410 Gone); enable it first (POST /v1/webhooks/{webhookId}/enable).',
        );
      }
      const requeued = await this.repo.requeue(m, endpoint.clinicId, uuid);
      await this.audit.record(m, actor, {
        clinicId: endpoint.clinicId,
        action: 'webhook.retry',
        entityType: 'webhook_message',
        entityId: uuid,
      });
      return requeued;
    });
    const attempts = await this.repo.attemptsOf(row.clinicId, [row.id]);
    return toMessageDto(row, attempts.get(row.id) ?? []);
  }

  private async endpoint(actor: Actor, id: string): Promise<WebhookEndpointRow> {
    const endpoint = await this.repo.findEndpoint(id, actor.clinicId);
    if (!endpoint) throw notFound();
    return endpoint;
  }
}
