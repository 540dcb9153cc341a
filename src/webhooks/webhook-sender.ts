import { Inject, Injectable } from '@nestjs/common';
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { parseRetryAfter } from './delivery-policy.js';
import { bareHost, isPrivateAddress } from './network-policy.js';

/** One signed POST of a stored message. */
export interface DeliveryRequest {
  url: string;
  /** `msg_<hex>`: the webhook-id header, the same on every attempt. */
  msgId: string;
  /** The stored payload text, sent and signed byte for byte. */
  payload: string;
  secret: string;
  /** During a rotation's overlap, the replaced secret: the attempt is signed with both. */
  previousSecret?: string | null;
}

export interface DeliveryResult {
  startedAt: Date;
  durationMs: number;
  /** The response status, or null when none came (network error, timeout, refused address). */
  statusCode: number | null;
  /** What went wrong without a status; never the payload, the secret or the response body. */
  error: string | null;
  retryAfterSeconds: number | null;
}

export class BlockedAddressError extends Error {
  readonly code = 'EBLOCKED';
}

type Resolve = (
  hostname: string,
  options: LookupOptions & { all: true },
  cb: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const defaultResolve: Resolve = (hostname, options, cb) => dnsLookup(hostname, options, cb);

/**
 * A `lookup` for http.request that refuses names resolving to a private address. The check is on
 * the very addresses the socket then connects to, so a name that changes its answer between a
 * check and the connection (DNS rebinding) cannot slip through.
 */
export function guardedLookup(resolve: Resolve = defaultResolve): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      const blocked = addresses.find((a) => isPrivateAddress(a.address));
      if (blocked || addresses.length === 0) {
        return callback(new BlockedAddressError(`${hostname} resolves to a private address`), '');
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      callback(null, first.address, first.family);
    });
  };
}

const MAX_ERROR_LENGTH = 500;

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const text = e instanceof BlockedAddressError ? e.message : e?.message || String(err);
  return text.slice(0, MAX_ERROR_LENGTH);
}

/**
 * Sends webhook messages: Standard Webhooks headers signed afresh on every attempt, no redirects
 * followed, a hard deadline, and (unless private networks are allowed) no private addresses.
 */
@Injectable()
export class WebhookSender {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  send(req: DeliveryRequest): Promise<DeliveryResult> {
    // The receiver compares webhook-timestamp with its own clock (±5 min), so this is the real
    // wall clock, not the injectable Clock; and it is taken now, for this attempt.
    const startedAt = new Date();
    const t0 = performance.now();
    const { timeoutMs, allowPrivateNetworks } = this.config.webhooks;
    const done = (r: Pick<DeliveryResult, 'statusCode' | 'error' | 'retryAfterSeconds'>): DeliveryResult => ({
      startedAt,
      durationMs: Math.round(performance.now() - t0),
      ...r,
    });

    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return Promise.resolve(done({ statusCode: null, error: 'invalid url', retryAfterSeconds: null }));
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return Promise.resolve(done({ statusCode: null, error: 'url must use http or https', retryAfterSeconds: null }));
    }
    // IP literals never reach `lookup`, so they are judged here.
    const host = bareHost(url);
    if (!allowPrivateNetworks && isIP(host) !== 0 && isPrivateAddress(host)) {
      return Promise.resolve(
        done({ statusCode: null, error: `${host} is a private address`, retryAfterSeconds: null }),
      );
    }

    // Standard Webhooks: several signatures, space-separated, any one of which may match. The new
    // secret's comes first; the previous one's lets receivers not yet switched keep verifying.
    const signature = [req.secret, ...(req.previousSecret ? [req.previousSecret] : [])]
      .map((secret) => new Webhook(secret).sign(req.msgId, startedAt, req.payload))
      .join(' ');
    const headers = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(req.payload)),
      'user-agent': 'Chairside-Webhooks/1',
      'webhook-id': req.msgId,
      'webhook-timestamp': String(Math.floor(startedAt.getTime() / 1000)),
      'webhook-signature': signature,
    };

    return new Promise<DeliveryResult>((resolve) => {
      let settled = false;
      const finish = (r: Pick<DeliveryResult, 'statusCode' | 'error' | 'retryAfterSeconds'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        resolve(done(r));
      };
      const client = url.protocol === 'https:' ? https : http;
      const request = client.request(url, {
        method: 'POST',
        headers,
        agent: false, // one connection per attempt: every connection goes through the lookup check
        ...(allowPrivateNetworks ? {} : { lookup: guardedLookup() }),
      });
      const deadline = setTimeout(() => {
        request.destroy();
        finish({ statusCode: null, error: `timeout after ${timeoutMs} ms`, retryAfterSeconds: null });
      }, timeoutMs);
      request.on('response', (res) => {
        // Only the status counts; the body is drained and dropped (it could hold anything).
        res.resume();
        const drain = setTimeout(() => res.destroy(), timeoutMs);
        drain.unref();
        res.once('close', () => clearTimeout(drain));
        res.on('error', () => undefined);
        finish({
          statusCode: res.statusCode ?? null,
          error: null,
          retryAfterSeconds: parseRetryAfter(res.headers['retry-after'], Date.now()),
        });
      });
      request.on('error', (err) => finish({ statusCode: null, error: describe(err), retryAfterSeconds: null }));
      request.end(req.payload);
    });
  }
}
