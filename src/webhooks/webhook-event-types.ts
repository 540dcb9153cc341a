/** The events the outbox triggers write (migration CalendarSync) and endpoints may subscribe to. */
export const WEBHOOK_EVENT_TYPES = [
  'session.created',
  'session.updated',
  'session.cancelled',
  'plan.booked',
  'plan.adjusted',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const WEBHOOK_ENDPOINT_STATUSES = ['active', 'disabled', 'deleted'] as const;
export type WebhookEndpointStatus = (typeof WEBHOOK_ENDPOINT_STATUSES)[number];

export const WEBHOOK_MESSAGE_STATUSES = ['pending', 'delivered', 'failed', 'cancelled'] as const;
export type WebhookMessageStatus = (typeof WEBHOOK_MESSAGE_STATUSES)[number];

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MSG_RE = /^msg_([0-9a-f]{32})$/i;

/** The public id of a message, also its `webhook-id` header: `msg_` + the uuid's 32 hex digits. */
export function messagePublicId(uuid: string): string {
  return `msg_${uuid.replace(/-/g, '').toLowerCase()}`;
}

/** The uuid of `msg_<hex>` (or of a plain uuid); undefined for anything else. */
export function parseMessageId(id: string): string | undefined {
  if (UUID_RE.test(id)) return id.toLowerCase();
  const hex = MSG_RE.exec(id)?.[1]?.toLowerCase();
  return hex && `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
