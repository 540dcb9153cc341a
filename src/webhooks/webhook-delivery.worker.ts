import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { SyncService } from '../sync/sync.service.js';
import { decideOutcome } from './delivery-policy.js';
import { messagePublicId } from './webhook-event-types.js';
import { WebhookSender } from './webhook-sender.js';
import { WebhookOutboxRepository } from './webhook-outbox.repository.js';
import type { ClaimedMessage, MessageSettlement } from './webhook-rows.js';

/** Messages claimed per round; a full round is followed at once by another. */
export const DELIVERY_BATCH = 20;
/** The lease outlasts the send timeout by this much, so a live worker always settles first. */
const LEASE_MARGIN_SECONDS = 30;
const HOUSEKEEPING_EVERY_MS = 3_600_000;
/** Delivered and cancelled messages are kept this long for the messages API, then deleted. */
export const MESSAGE_RETENTION_DAYS = 30;

/**
 * The outbox relay. Triggers write `webhook_messages` in the transaction of each change; this
 * worker, in every instance with `webhooks.pollMs > 0`, claims due messages (SKIP LOCKED, with a
 * lease), POSTs them signed, records each attempt and settles the message: delivered on 2xx,
 * retried on the configured schedule, failed when out of attempts, endpoint disabled on 410.
 *
 * Delivery is at least once: if an instance dies between the send and the settle, the lease runs
 * out and the message is sent again, with the same `webhook-id` (receivers deduplicate on it) and
 * a fresh timestamp and signature.
 */
@Injectable()
export class WebhookDeliveryWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('WebhookDelivery');
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly inFlight = new Set<Promise<unknown>>();
  private lastHousekeeping = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repo: WebhookOutboxRepository,
    private readonly sender: WebhookSender,
    private readonly sync: SyncService,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.webhooks.pollMs > 0) this.schedule(0);
  }

  /** Stops polling and waits for the sends under way to be settled. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /**
   * One round: claims up to `limit` due messages, sends them concurrently and settles each.
   * Resolves to the number of messages claimed.
   */
  runOnce(limit = DELIVERY_BATCH): Promise<number> {
    return this.track(this.round(limit));
  }

  /**
   * Deletes delivered and cancelled messages older than the retention period (resolves to how
   * many), and forgets the previous secrets of rotations whose overlap is over.
   */
  housekeeping(): Promise<number> {
    this.lastHousekeeping = Date.now();
    return this.track(
      (async () => {
        const removed = await this.repo.deleteSettledOlderThan(MESSAGE_RETENTION_DAYS);
        await this.repo.dropExpiredPreviousSecrets();
        return removed;
      })(),
    );
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    const forget = () => this.inFlight.delete(p);
    p.then(forget, forget);
    return p;
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => void this.tick(), delayMs);
  }

  private async tick(): Promise<void> {
    let claimed = 0;
    try {
      claimed = await this.runOnce();
      if (!this.stopping && Date.now() - this.lastHousekeeping >= HOUSEKEEPING_EVERY_MS) {
        const removed = await this.housekeeping();
        if (removed > 0) this.logger.log(`housekeeping removed ${removed} old webhook messages`);
        // The sync change log ages out on the same round (31 days, longer than a sync token lives).
        const pruned = await this.track(this.sync.pruneChanges());
        if (pruned > 0) this.logger.log(`housekeeping removed ${pruned} old session changes`);
      }
    } catch (err) {
      // The database may be briefly away; the next round tries again.
      this.logger.warn(`webhook delivery round failed: ${(err as Error).message}`);
    }
    this.schedule(claimed >= DELIVERY_BATCH ? 0 : this.config.webhooks.pollMs);
  }

  private async round(limit: number): Promise<number> {
    const leaseSeconds = Math.ceil(this.config.webhooks.timeoutMs / 1000) + LEASE_MARGIN_SECONDS;
    const claimed = await this.repo.claimDue(limit, leaseSeconds);
    await Promise.all(claimed.map((msg) => this.deliver(msg)));
    return claimed.length;
  }

  private async deliver(msg: ClaimedMessage): Promise<void> {
    const msgId = messagePublicId(msg.id);
    try {
      if (msg.endpointStatus !== 'active') {
        await this.repo.settleInactive(msg);
        return;
      }
      const result = await this.sender.send({
        url: msg.url,
        msgId,
        payload: msg.payload,
        secret: msg.secret,
        previousSecret: msg.previousSecret,
      });
      const outcome = decideOutcome({
        statusCode: result.statusCode,
        attempts: msg.attempts,
        retryDelaysSeconds: this.config.webhooks.retryDelaysSeconds,
        retryAfterSeconds: result.retryAfterSeconds,
      });
      const settlement: MessageSettlement =
        outcome.kind === 'dead'
          ? { kind: 'failed' }
          : outcome.kind === 'disable'
            ? { kind: 'disable', reason: `the receiver answered 410 Gone (message ${msgId})` }
            : outcome;
      await this.repo.settle(
        msg,
        {
          attempt: msg.attempts,
          startedAt: result.startedAt,
          durationMs: result.durationMs,
          statusCode: result.statusCode,
          error: result.error,
        },
        settlement,
      );
      // Ids and statuses only: never the URL (it may carry a token), the secret or the payload.
      if (outcome.kind !== 'delivered') {
        const why = result.statusCode !== null ? `status ${result.statusCode}` : (result.error ?? 'no response');
        this.logger.warn(
          `webhook ${msgId} to endpoint ${msg.endpointId}, attempt ${msg.attempts}: ${why}; ${outcome.kind}`,
        );
      }
    } catch (err) {
      // Not settled: the lease runs out and the message is tried again.
      this.logger.error(`webhook ${msgId}: could not record the attempt: ${(err as Error).message}`);
    }
  }
}
