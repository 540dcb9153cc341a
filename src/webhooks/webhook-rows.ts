import type { WebhookEndpointStatus, WebhookEventType, WebhookMessageStatus } from './webhook-event-types.js';

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
