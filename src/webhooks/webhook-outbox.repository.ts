import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService, type AuditActor } from '../audit/audit.service.js';
import { queryRows } from '../common/database/query-rows.js';
import type { ClaimedMessage, MessageSettlement, WebhookAttemptRow } from './webhook-rows.js';

/** Changes the worker makes on its own, with no caller. */
const SYSTEM: AuditActor = { keyId: null, role: 'system' };

/** SQL for the delivery worker: claiming due messages, settling attempts, housekeeping. */
@Injectable()
export class WebhookOutboxRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  /**
   * Claims up to `limit` due messages for `leaseSeconds` and counts the attempt. One short
   * statement; SKIP LOCKED lets several workers (in several instances) claim disjoint batches,
   * and the lease keeps a claimed message from being claimed again while it is being sent. Every
   * time is the database's, which all instances share.
   */
  async claimDue(limit: number, leaseSeconds: number): Promise<ClaimedMessage[]> {
    return queryRows<ClaimedMessage>(
      this.dataSource.manager,
      `UPDATE webhook_messages m
          SET leased_until = now() + make_interval(secs => $2), attempts = m.attempts + 1
         FROM webhook_endpoints e
        WHERE (m.clinic_id, m.id) IN (
                SELECT q.clinic_id, q.id FROM webhook_messages q
                 WHERE q.status = 'pending' AND q.next_attempt_at <= now()
                   AND (q.leased_until IS NULL OR q.leased_until < now())
                 ORDER BY q.next_attempt_at
                 LIMIT $1
                 FOR UPDATE SKIP LOCKED)
          AND e.clinic_id = m.clinic_id AND e.id = m.endpoint_id
      RETURNING m.clinic_id AS "clinicId", m.id, m.endpoint_id AS "endpointId", m.payload, m.attempts,
                e.url, e.secret, e.status AS "endpointStatus",
                CASE WHEN e.previous_secret_expires_at > now() THEN e.previous_secret END AS "previousSecret"`,
      [limit, leaseSeconds],
    );
  }

  /**
   * Records the attempt and settles the message, in one transaction. The message is only changed
   * while it is still pending under this claim (`attempts` unchanged): a message cancelled
   * meanwhile stays cancelled.
   */
  async settle(msg: ClaimedMessage, attempt: WebhookAttemptRow, settlement: MessageSettlement): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      await m.query(
        `INSERT INTO webhook_attempts (clinic_id, message_id, attempt, started_at, duration_ms, status_code, error)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          msg.clinicId,
          msg.id,
          attempt.attempt,
          attempt.startedAt,
          attempt.durationMs,
          attempt.statusCode,
          attempt.error,
        ],
      );
      const base = [msg.clinicId, msg.id, msg.attempts, attempt.statusCode, attempt.error];
      const guard = `WHERE clinic_id = $1 AND id = $2 AND attempts = $3 AND status = 'pending'`;
      const last = `last_status = $4, last_error = $5, leased_until = NULL`;
      switch (settlement.kind) {
        case 'delivered':
          await m.query(
            `UPDATE webhook_messages SET status = 'delivered', delivered_at = now(), ${last} ${guard}`,
            base,
          );
          break;
        case 'retry':
          await m.query(
            `UPDATE webhook_messages SET next_attempt_at = now() + make_interval(secs => $6), ${last} ${guard}`,
            [...base, settlement.delaySeconds],
          );
          break;
        case 'failed':
          await m.query(`UPDATE webhook_messages SET status = 'failed', ${last} ${guard}`, base);
          break;
        case 'disable':
          await m.query(`UPDATE webhook_messages SET status = 'failed', ${last} ${guard}`, base);
          await this.disableEndpoint(m, msg.clinicId, msg.endpointId, settlement.reason);
          break;
      }
    });
  }

  /** Disables an endpoint; its pending messages fail (they can be replayed once it is replaced). */
  async disableEndpoint(m: EntityManager, clinicId: string, endpointId: string, reason: string): Promise<void> {
    const disabled: unknown[] = await m.query(
      `UPDATE webhook_endpoints SET status = 'disabled', status_reason = $3, updated_at = now()
        WHERE clinic_id = $1 AND id = $2 AND status = 'active' RETURNING id`,
      [clinicId, endpointId, reason],
    );
    // A write without a caller: audited as the system's.
    if (disabled.length > 0) {
      await this.audit.record(m, SYSTEM, {
        clinicId,
        action: 'webhook.disable',
        entityType: 'webhook_endpoint',
        entityId: endpointId,
        before: { status: 'active' },
        after: { status: 'disabled', statusReason: reason },
      });
    }
    await m.query(
      `UPDATE webhook_messages SET status = 'failed', last_error = 'endpoint disabled', leased_until = NULL
        WHERE clinic_id = $1 AND endpoint_id = $2 AND status = 'pending'`,
      [clinicId, endpointId],
    );
  }

  /** Settles, without sending, a claimed message whose endpoint went away meanwhile. */
  async settleInactive(msg: ClaimedMessage): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhook_messages
          SET status = CASE WHEN $3::text = 'deleted' THEN 'cancelled' ELSE 'failed' END,
              last_error = 'endpoint ' || $3::text, leased_until = NULL
        WHERE clinic_id = $1 AND id = $2 AND status = 'pending'`,
      [msg.clinicId, msg.id, msg.endpointStatus],
    );
  }

  /** Deletes delivered and cancelled messages (and their attempts) older than `days`; returns how many. */
  async deleteSettledOlderThan(days: number, batch = 5000): Promise<number> {
    const [, count] = (await this.dataSource.query(
      `WITH old AS (
         SELECT clinic_id, id FROM webhook_messages
          WHERE status IN ('delivered', 'cancelled') AND created_at < now() - make_interval(days => $1)
          LIMIT $2),
       gone_attempts AS (
         DELETE FROM webhook_attempts a USING old WHERE a.clinic_id = old.clinic_id AND a.message_id = old.id)
       DELETE FROM webhook_messages w USING old WHERE w.clinic_id = old.clinic_id AND w.id = old.id`,
      [days, batch],
    )) as [unknown[], number];
    return count;
  }

  /** Forgets previous secrets whose overlap is over (they are no longer used to sign); returns how many. */
  async dropExpiredPreviousSecrets(): Promise<number> {
    const [, count] = (await this.dataSource.query(
      `UPDATE webhook_endpoints SET previous_secret = NULL, previous_secret_expires_at = NULL
        WHERE previous_secret_expires_at <= now()`,
    )) as [unknown[], number];
    return count;
  }
}
