import type { Request, Response } from 'express';
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

/** The base of feed URLs: PUBLIC_URL, or else the request's scheme and host (forwarded ones behind a trusted proxy). */
export function publicBaseUrl(config: Pick<AppConfig, 'publicUrl'>, req: Request): string {
  return config.publicUrl ?? `${req.protocol}://${req.host || 'localhost'}`;
}
