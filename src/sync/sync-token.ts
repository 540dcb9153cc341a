import { createHmac, timingSafeEqual } from 'node:crypto';
import { DateTime } from 'luxon';

/**
 * Sync and page tokens: `base64url(JSON payload) + '.' + base64url(HMAC-SHA256(secret, payload))`,
 * where the MAC covers the encoded payload exactly as sent. Opaque to clients; tied to one clinic.
 *
 * Watermarks (`w`, `hi`) are PostgreSQL snapshots (`pg_snapshot` text, `xmin:xmax:xip,…`): which
 * transactions had committed when the watermark was taken. A change is sent once it is visible
 * in the reader's snapshot and was not in the watermark's.
 */
export interface SyncTokenPayload {
  v: 1;
  k: 'sync';
  /** The clinic. */
  c: string;
  /** Changes from this watermark on are still to be sent. */
  w: string;
  /** When the watermark was taken (the injected clock). */
  iat: string;
}

export interface PageTokenPayload {
  v: 1;
  k: 'page';
  c: string;
  /** full: the watermark the final sync token will carry; delta: the lower bound of the window. */
  w: string;
  /** delta only: the upper bound (exclusive) of the window, and the final sync token's watermark. */
  hi?: string;
  /** The last session id already returned. */
  after: string;
  mode: 'full' | 'delta';
  /** When this chain's first page took its watermark. */
  iat: string;
  /** delta only: when the sync token this chain started from was issued (retention of `w`). */
  since?: string;
}

export type TokenPayload = SyncTokenPayload | PageTokenPayload;

/** How long a token stays good; the change log is kept a day longer (see SyncService.pruneChanges). */
export const TOKEN_MAX_AGE_DAYS = 30;
export const CHANGE_RETENTION_DAYS = 31;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const XID = '(0|[1-9]\\d{0,19})';
const SNAPSHOT_RE = new RegExp(`^${XID}:${XID}:(${XID}(,${XID})*)?$`);
const B64URL_RE = /^[A-Za-z0-9_-]+$/;

const mac = (secret: Buffer, encodedPayload: string) =>
  createHmac('sha256', secret).update(encodedPayload, 'ascii').digest();

export function signToken(secret: Buffer, payload: TokenPayload): string {
  const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  return `${body}.${mac(secret, body).toString('base64url')}`;
}

const isIso = (v: unknown): v is string =>
  typeof v === 'string' && v.length <= 40 && DateTime.fromISO(v, { setZone: true }).isValid;
/** `xmin:xmax:xip,…` with xmin ≤ every xip < xmax, all below 2^64. */
export function isSnapshot(v: unknown): v is string {
  if (typeof v !== 'string' || v.length > 4000 || !SNAPSHOT_RE.test(v)) return false;
  const [xmin, xmax, list] = v.split(':');
  const lo = BigInt(xmin);
  const hi = BigInt(xmax);
  if (hi >= 2n ** 64n || lo > hi) return false;
  return list === '' || list.split(',').every((x) => BigInt(x) >= lo && BigInt(x) < hi);
}

function wellFormed(p: Record<string, unknown>): p is Record<string, unknown> & TokenPayload {
  if (p.v !== 1 || typeof p.c !== 'string' || !UUID_RE.test(p.c) || !isSnapshot(p.w) || !isIso(p.iat)) return false;
  if (p.k === 'sync') return Object.keys(p).length === 5;
  if (p.k !== 'page' || typeof p.after !== 'string' || !UUID_RE.test(p.after)) return false;
  if (p.mode === 'full') return p.hi === undefined && p.since === undefined;
  return p.mode === 'delta' && isSnapshot(p.hi) && isIso(p.since);
}

/**
 * The payload of a token this service signed with `secret`, or null for anything else (garbage,
 * a bad or missing signature, a non-canonical encoding, an unknown shape). Does not check kind,
 * clinic or age: see `tokenProblem`.
 */
export function readToken(secret: Buffer, token: string): TokenPayload | null {
  const parts = token.split('.');
  if (parts.length !== 2) return null;
  const [body, sig] = parts;
  if (!B64URL_RE.test(body) || !B64URL_RE.test(sig) || body.length > 12_000) return null;
  const given = Buffer.from(sig, 'base64url');
  const expected = mac(secret, body);
  // Canonical encodings only, so that no two strings carry the same signature.
  if (given.length !== expected.length || given.toString('base64url') !== sig || !timingSafeEqual(given, expected))
    return null;
  try {
    const json = Buffer.from(body, 'base64url');
    if (json.toString('base64url') !== body) return null;
    const parsed: unknown = JSON.parse(json.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
    return wellFormed(parsed as Record<string, unknown>) ? (parsed as TokenPayload) : null;
  } catch {
    return null;
  }
}

/**
 * Why a signed token cannot be used here (null when it can): the wrong kind (a page token passed
 * as syncToken or the reverse), another clinic's, or older than the change log's retention. For a
 * delta page token, the age that counts is that of the sync token its chain started from.
 */
export function tokenProblem(
  p: TokenPayload,
  expected: { kind: 'sync' | 'page'; clinicId: string; now: DateTime },
): string | null {
  if (p.k !== expected.kind)
    return p.k === 'page' ? 'a page token was given as syncToken' : 'a sync token was given as pageToken';
  if (p.c !== expected.clinicId) return 'the token belongs to another clinic';
  const issued = [p.iat, ...(p.k === 'page' && p.since ? [p.since] : [])].map((t) =>
    DateTime.fromISO(t, { setZone: true }).toMillis(),
  );
  const oldest = Math.min(...issued);
  if (expected.now.toMillis() - oldest > TOKEN_MAX_AGE_DAYS * 86_400_000)
    return `the token is older than ${TOKEN_MAX_AGE_DAYS} days`;
  return null;
}
