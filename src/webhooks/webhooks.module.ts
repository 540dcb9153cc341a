import { Module } from '@nestjs/common';
import { SyncModule } from '../sync/sync.module.js';
import { WebhookDeliveryWorker } from './webhook-delivery.worker.js';
import { WebhookOutboxRepository } from './webhook-outbox.repository.js';
import { WebhookSender } from './webhook-sender.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksRepository } from './webhooks.repository.js';
import { WebhooksService } from './webhooks.service.js';

/** Webhook endpoints API and the outbox delivery worker (on when `webhooks.pollMs > 0`). */
@Module({
  imports: [SyncModule],
  controllers: [WebhooksController],
  providers: [WebhooksRepository, WebhookOutboxRepository, WebhooksService, WebhookSender, WebhookDeliveryWorker],
  exports: [WebhooksService],
})
export class WebhooksModule {}
