import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { WebhookMessageStatus } from './webhook-event-types.js';
import { queryRows } from '../common/database/query-rows.js';
import type { WebhookAttemptRow, WebhookEndpointRow, WebhookMessageRow } from './webhook-rows.js';

const ENDPOINT_COLUMNS = `clinic_id AS "clinicId", id, url, description, event_types AS "eventTypes", status,
  status_reason AS "statusReason", created_at AS "createdAt", updated_at AS "updatedAt"`;
const MESSAGE_COLUMNS = `clinic_id AS "clinicId", id, endpoint_id AS "endpointId", event_type AS "eventType", status, attempts,
  next_attempt_at AS "nextAttemptAt", delivered_at AS "deliveredAt", last_status AS "lastStatus", last_error AS "lastError",
  created_at AS "createdAt"`;
// Cursors carry JavaScript's millisecond times, so order and compare at that precision.
const CREATED_MS = "date_trunc('milliseconds', created_at)";

/** SQL for the webhooks API: endpoints, and the outbox messages and attempts as the API shows them. */
@Injectable()
export class WebhooksRepository {
  constructor(private readonly dataSource: DataSource) {}

  private m(m?: EntityManager): EntityManager {
    return m ?? this.dataSource.manager;
  }

  private rows<T>(m: EntityManager | undefined, sql: string, params: unknown[]): Promise<T[]> {
    return queryRows<T>(this.m(m), sql, params);
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
}
