import type { Request, Response } from 'express';
import { isIPv6 } from 'node:net';
import { ValidationFailedError } from '../common/errors/common.errors.js';
import type { AppConfig } from '../config/app-config.js';
import type { FeedResponse } from './calendar.service.js';

/** Clients may keep a copy for a while; never a shared cache (the URL is a secret). */
export const FEED_CACHE_CONTROL = 'private, max-age=300';

/**
 * Whether `If-None-Match` matches the current ETag: RFC 9110 §13.1.2 compares weakly (`W/"x"`
 * matches `"x"`), and `*` matches any current representation. Lists are allowed.
 */
export function ifNoneMatchMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const opaque = (tag: string) => tag.replace(/^W\//, '');
  return (header.match(/\*|(?:W\/)?"[^"]*"/g) ?? []).some((tag) => tag === '*' || opaque(tag) === opaque(etag));
}

/**
 * Sends a feed with its validators. Written to the raw response on purpose: Express's `res.send`
 * would add its own weak ETag logic and answer 304 on `If-Modified-Since` alone. A feed also
 * changes with the passing of time (the window slides, cancelled sessions age out) and with
 * joined names, which no modification date captures, so only `If-None-Match` (a hash of the exact
 * body) can give 304; `If-Modified-Since` is ignored (a 200 is never wrong).
 */
export function sendFeed(req: Request, res: Response, feed: FeedResponse): void {
  res.setHeader('ETag', feed.etag);
  res.setHeader('Last-Modified', feed.lastModified.toUTCString());
  res.setHeader('Cache-Control', FEED_CACHE_CONTROL);
  if (ifNoneMatchMatches(req.headers['if-none-match'], feed.etag)) {
    res.statusCode = 304;
    res.end();
    return;
  }
  res.setHeader('Content-Type', 'text/calendar; charset=utf-8');
  res.setHeader('Content-Length', String(Buffer.byteLength(feed.body, 'utf8')));
  res.statusCode = 200;
  res.end(req.method === 'HEAD' ? undefined : feed.body);
}

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
/** `host[:port]` as RFC 9110 allows it in Host: a DNS name or IPv4 address, or a bracketed IPv6 address; nothing else (no path, user info, query). */
const HOST_RE = new RegExp(`^(?:(${LABEL}(?:\\.${LABEL})*)\\.?|\\[([0-9a-f:.]+)\\])(?::(\\d{1,5}))?$`, 'i');

/** The host name of a well-formed `host[:port]` (lower case, IPv6 without brackets), or null. */
export function hostName(value: string | undefined): string | null {
  if (value === undefined || value.length > 260) return null;
  const m = HOST_RE.exec(value);
  if (!m) return null;
  if (m[3] !== undefined && Number(m[3]) > 65535) return null;
  if (m[2] !== undefined) return isIPv6(m[2]) ? m[2].toLowerCase() : null;
  return m[1]!.toLowerCase();
}

const badHeader = (field: string, message: string) =>
  new ValidationFailedError([{ field, message }], 'A header is invalid.');

/**
 * The base of feed URLs: PUBLIC_URL (required in production), or else the request's scheme and
 * host (forwarded ones behind a trusted proxy), only when the host is well-formed and one this
 * service answers to (ALLOWED_HOSTS; by default the loopback names and the listen address). A
 * request naming any other host gets 400, never a feed URL on someone else's host.
 */
export function publicBaseUrl(config: Pick<AppConfig, 'publicUrl' | 'allowedHosts'>, req: Request): string {
  if (config.publicUrl) return config.publicUrl;
  const host = req.host;
  const name = hostName(host);
  if (name === null) throw badHeader('Host', 'the Host header must be a host name or address with an optional port');
  if (!config.allowedHosts.includes(name)) {
    throw badHeader(
      'Host',
      'the Host header names a host this service does not answer to (set PUBLIC_URL, or list the name in ALLOWED_HOSTS)',
    );
  }
  const scheme = req.protocol;
  if (scheme !== 'http' && scheme !== 'https')
    throw badHeader('X-Forwarded-Proto', 'X-Forwarded-Proto must be http or https');
  return `${scheme}://${host!.toLowerCase()}`;
}
