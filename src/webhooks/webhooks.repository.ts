import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService, type AuditActor } from '../audit/audit.service.js';
import type { WebhookEndpointStatus, WebhookEventType, WebhookMessageStatus } from './webhook-event-types.js';

/** Changes the worker makes on its own, with no caller. */
const SYSTEM: AuditActor = { keyId: null, role: 'system' };

export interface WebhookEndpointRow {
  clinicId: string;
  id: string;
  url: string;
  description: string | null;
  eventTypes: WebhookEventType[];
  status: WebhookEndpointStatus;
  statusReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface WebhookAttemptRow {
  attempt: number;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
}

export interface WebhookMessageRow {
  clinicId: string;
  id: string;
  endpointId: string;
  eventType: string;
  status: WebhookMessageStatus;
  attempts: number;
  nextAttemptAt: Date;
  deliveredAt: Date | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: Date;
}

/** A message claimed for delivery, with what is needed to send it. */
export interface ClaimedMessage {
  clinicId: string;
  id: string;
  endpointId: string;
  payload: string;
  /** Including the attempt about to be made. */
  attempts: number;
  url: string;
  secret: string;
  /** The secret the last rotation replaced, while its overlap lasts (database time at the claim); else null. */
  previousSecret: string | null;
  endpointStatus: WebhookEndpointStatus;
}

/** How one attempt ends for its message. */
export type MessageSettlement =
  | { kind: 'delivered' }
  | { kind: 'retry'; delaySeconds: number }
  | { kind: 'failed' }
  /** 410: the endpoint is disabled with this reason, the message and its endpoint's pending ones fail. */
  | { kind: 'disable'; reason: string };

const ENDPOINT_COLUMNS = `clinic_id AS "clinicId", id, url, description, event_types AS "eventTypes", status,
  status_reason AS "statusReason", created_at AS "createdAt", updated_at AS "updatedAt"`;
const MESSAGE_COLUMNS = `clinic_id AS "clinicId", id, endpoint_id AS "endpointId", event_type AS "eventType", status, attempts,
  next_attempt_at AS "nextAttemptAt", delivered_at AS "deliveredAt", last_status AS "lastStatus", last_error AS "lastError",
  created_at AS "createdAt"`;
// Cursors carry JavaScript's millisecond times, so order and compare at that precision.
const CREATED_MS = "date_trunc('milliseconds', created_at)";

/** SQL for webhook endpoints, the outbox messages and their attempts. */
@Injectable()
export class WebhooksRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  private m(m?: EntityManager): EntityManager {
    return m ?? this.dataSource.manager;
  }

  /** TypeORM answers UPDATE and DELETE with [rows, affected], anything else with rows. */
  private async rows<T>(m: EntityManager | undefined, sql: string, params: unknown[]): Promise<T[]> {
    const raw: unknown = await this.m(m).query(sql, params);
    if (Array.isArray(raw) && raw.length === 2 && Array.isArray(raw[0]) && typeof raw[1] === 'number')
      return raw[0] as T[];
    return raw as T[];
  }

  // ---- endpoints ----

  async insertEndpoint(
    m: EntityManager,
    row: {
      clinicId: string;
      url: string;
      description: string | null;
      eventTypes: string[];
      secret: string;
      createdByKeyId: string;
    },
  ): Promise<WebhookEndpointRow> {
    const [saved] = await this.rows<WebhookEndpointRow>(
      m,
      `INSERT INTO webhook_endpoints (clinic_id, url, description, event_types, secret, created_by_key_id)
       VALUES ($1, $2, $3, $4::text[], $5, $6) RETURNING ${ENDPOINT_COLUMNS}`,
      [row.clinicId, row.url, row.description, row.eventTypes, row.secret, row.createdByKeyId],
    );
    return saved;
  }

  /** A live (not deleted) endpoint by id, within one clinic or, for `clinicId` null, any. */
  async findEndpoint(
    id: string,
    clinicId: string | null,
    m?: EntityManager,
    lock = false,
  ): Promise<WebhookEndpointRow | undefined> {
    const [row] = await this.rows<WebhookEndpointRow>(
      m,
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints
        WHERE id = $1 AND status <> 'deleted' AND ($2::uuid IS NULL OR clinic_id = $2::uuid)${lock ? ' FOR NO KEY UPDATE' : ''}`,
      [id, clinicId],
    );
    return row;
  }

  /** Live endpoints of one clinic, or of all (`clinicId` undefined), newest first. */
  async listEndpoints(
    clinicId: string | undefined,
    limit: number,
    after?: [string, string],
  ): Promise<WebhookEndpointRow[]> {
    const params: unknown[] = [clinicId ?? null, limit];
    let keyset = '';
    if (after) {
      params.push(after[0], after[1]);
      keyset = `AND (${CREATED_MS}, id) < ($3::timestamptz, $4::uuid)`;
    }
    return this.rows<WebhookEndpointRow>(
      undefined,
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints
        WHERE status <> 'deleted' AND ($1::uuid IS NULL OR clinic_id = $1::uuid) ${keyset}
        ORDER BY ${CREATED_MS} DESC, id DESC LIMIT $2`,
      params,
    );
  }

  /**
   * Gives the endpoint a new signing secret. The current one becomes the previous secret, accepted
   * (signed alongside) until `overlapSeconds` from now, database time; a previous secret still in
   * its overlap is dropped (one at a time). Returns when that overlap ends.
   */
  async rotateSecret(
    m: EntityManager,
    clinicId: string,
    id: string,
    secret: string,
    overlapSeconds: number,
  ): Promise<{ previousSecretExpiresAt: Date }> {
    const [row] = await this.rows<{ previousSecretExpiresAt: Date }>(
      m,
      `UPDATE webhook_endpoints
          SET previous_secret = secret, previous_secret_expires_at = now() + make_interval(secs => $4),
              secret = $3, updated_at = now()
        WHERE clinic_id = $1 AND id = $2
      RETURNING previous_secret_expires_at AS "previousSecretExpiresAt"`,
      [clinicId, id, secret, overlapSeconds],
    );
    return row;
  }

  /** Forgets previous secrets whose overlap is over (they are no longer used to sign); returns how many. */
  async dropExpiredPreviousSecrets(): Promise<number> {
    const [, count] = (await this.dataSource.query(
      `UPDATE webhook_endpoints SET previous_secret = NULL, previous_secret_expires_at = NULL
        WHERE previous_secret_expires_at <= now()`,
    )) as [unknown[], number];
    return count;
  }

  /** Turns a disabled endpoint back on: events are queued for it again. Its failed messages stay failed. */
  async enableEndpoint(m: EntityManager, clinicId: string, id: string): Promise<WebhookEndpointRow> {
    const [row] = await this.rows<WebhookEndpointRow>(
      m,
      `UPDATE webhook_endpoints SET status = 'active', status_reason = NULL, updated_at = now()
        WHERE clinic_id = $1 AND id = $2 AND status = 'disabled' RETURNING ${ENDPOINT_COLUMNS}`,
      [clinicId, id],
    );
    return row;
  }

  /** Marks the endpoint deleted and cancels its pending messages. */
  async deleteEndpoint(m: EntityManager, clinicId: string, id: string): Promise<void> {
    await m.query(
      `UPDATE webhook_endpoints SET status = 'deleted', updated_at = now() WHERE clinic_id = $1 AND id = $2`,
      [clinicId, id],
    );
    await m.query(
      `UPDATE webhook_messages SET status = 'cancelled', leased_until = NULL
        WHERE clinic_id = $1 AND endpoint_id = $2 AND status = 'pending'`,
      [clinicId, id],
    );
  }

  // ---- messages (API) ----

  /** An endpoint's messages, newest first, each with its attempts. */
  async listMessages(
    clinicId: string,
    endpointId: string,
    status: WebhookMessageStatus | undefined,
    limit: number,
    after?: [string, string],
  ): Promise<{ messages: WebhookMessageRow[]; attempts: Map<string, WebhookAttemptRow[]> }> {
    const params: unknown[] = [clinicId, endpointId, status ?? null, limit];
    let keyset = '';
    if (after) {
      params.push(after[0], after[1]);
      keyset = `AND (${CREATED_MS}, id) < ($5::timestamptz, $6::uuid)`;
    }
    const messages = await this.rows<WebhookMessageRow>(
      undefined,
      `SELECT ${MESSAGE_COLUMNS} FROM webhook_messages
        WHERE clinic_id = $1 AND endpoint_id = $2 AND ($3::text IS NULL OR status = $3) ${keyset}
        ORDER BY ${CREATED_MS} DESC, id DESC LIMIT $4`,
      params,
    );
    return {
      messages,
      attempts: await this.attemptsOf(
        clinicId,
        messages.map((r) => r.id),
      ),
    };
  }

  async attemptsOf(clinicId: string, messageIds: string[]): Promise<Map<string, WebhookAttemptRow[]>> {
    const out = new Map<string, WebhookAttemptRow[]>();
    if (messageIds.length === 0) return out;
    const rows = await this.rows<WebhookAttemptRow & { messageId: string }>(
      undefined,
      `SELECT message_id AS "messageId", attempt, started_at AS "startedAt", duration_ms AS "durationMs",
              status_code AS "statusCode", error
         FROM webhook_attempts WHERE clinic_id = $1 AND message_id = ANY ($2::uuid[])
        ORDER BY attempt, id`,
      [clinicId, messageIds],
    );
    for (const { messageId, ...a } of rows) out.set(messageId, [...(out.get(messageId) ?? []), a]);
    return out;
  }

  async findMessage(
    clinicId: string,
    endpointId: string,
    id: string,
    m?: EntityManager,
    lock = false,
  ): Promise<WebhookMessageRow | undefined> {
    const [row] = await this.rows<WebhookMessageRow>(
      m,
      `SELECT ${MESSAGE_COLUMNS} FROM webhook_messages WHERE clinic_id = $1 AND endpoint_id = $2 AND id = $3${lock ? ' FOR UPDATE' : ''}`,
      [clinicId, endpointId, id],
    );
    return row;
  }

  /** Puts a failed message back in the queue, due now (database time). */
  async requeue(m: EntityManager, clinicId: string, id: string): Promise<WebhookMessageRow> {
    const [row] = await this.rows<WebhookMessageRow>(
      m,
      `UPDATE webhook_messages SET status = 'pending', next_attempt_at = now(), leased_until = NULL
        WHERE clinic_id = $1 AND id = $2 RETURNING ${MESSAGE_COLUMNS}`,
      [clinicId, id],
    );
    return row;
  }

  // ---- delivery ----

  /**
   * Claims up to `limit` due messages for `leaseSeconds` and counts the attempt. One short
   * statement; SKIP LOCKED lets several workers (in several instances) claim disjoint batches,
   * and the lease keeps a claimed message from being claimed again while it is being sent. Every
   * time is the database's, which all instances share.
   */
  async claimDue(limit: number, leaseSeconds: number): Promise<ClaimedMessage[]> {
    return this.rows<ClaimedMessage>(
      undefined,
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
}
