/** What to do with a message after one delivery attempt. */
export type DeliveryOutcome =
  | { kind: 'delivered' }
  /** 410 Gone: the receiver asks us to stop; the endpoint is disabled and the message fails. */
  | { kind: 'disable' }
  | { kind: 'retry'; delaySeconds: number }
  /** Out of attempts: the message is failed (dead) until someone replays it by hand. */
  | { kind: 'dead' };

/** A Retry-After longer than this is not believed (a day, the longest step of the schedule). */
export const MAX_RETRY_AFTER_SECONDS = 86_400;
/** Each retry delay moves by up to this fraction either way, so that failed bursts spread out. */
export const JITTER = 0.1;

/**
 * The outcome of an attempt. Only 2xx succeeds (3xx too is a failure: redirects are not followed).
 * `attempts` counts this one; there is one attempt more than there are delays, and the delay after
 * attempt n is `retryDelaysSeconds[n - 1]` ± 10 %, or the receiver's Retry-After when longer.
 */
export function decideOutcome(input: {
  statusCode: number | null;
  attempts: number;
  retryDelaysSeconds: readonly number[];
  retryAfterSeconds?: number | null;
  random?: () => number;
}): DeliveryOutcome {
  const { statusCode, attempts, retryDelaysSeconds } = input;
  if (statusCode !== null && statusCode >= 200 && statusCode <= 299) return { kind: 'delivered' };
  if (statusCode === 410) return { kind: 'disable' };
  if (attempts >= 1 + retryDelaysSeconds.length) return { kind: 'dead' };
  const base = retryDelaysSeconds[Math.max(0, attempts - 1)];
  const jittered = base * (1 + (2 * (input.random ?? Math.random)() - 1) * JITTER);
  const retryAfter = Math.min(input.retryAfterSeconds ?? 0, MAX_RETRY_AFTER_SECONDS);
  return { kind: 'retry', delaySeconds: Math.max(jittered, retryAfter, 0) };
}

/**
 * Seconds from a Retry-After header: delay-seconds, or an HTTP date relative to `nowMs`
 * (RFC 9110 §10.2.3); null when absent or unreadable.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | null {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return null;
  if (/^\d{1,10}$/.test(text)) return Number(text);
  const at = Date.parse(text);
  if (Number.isNaN(at) || !/[a-z]/i.test(text)) return null;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}
