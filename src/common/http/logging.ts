import { randomUUID } from 'node:crypto';
import { RequestMethod } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { Options } from 'pino-http';
import type { LogLevel } from '../../config/app-config.js';

/**
 * What a request log line may say about the URL: the path without its query string (search terms
 * can be patient names), with feed tokens replaced.
 */
export function loggableUrl(url: string | undefined): string {
  const path = (url ?? '').split('?')[0];
  // Any feed-token-like segment after /calendar/feeds/, wherever it sits (Express also routes
  // `/….ics/` with a trailing slash), and anything shaped like a token anywhere in the path.
  return path
    .replace(/(\/calendar\/feeds\/)[^/]+?(\.ics)?(?=\/|$)/g, '$1[redacted]$2')
    .replace(/cfd_[A-Za-z0-9_-]+/g, '[redacted]');
}

/** What a client's `X-Request-Id` may be to be kept (beside ours, never instead of it). */
const CLIENT_REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,100}$/;

declare module 'node:http' {
  interface IncomingMessage {
    /** The caller's own `X-Request-Id`, when well-formed: logged and audited beside our request id. */
    clientRequestId?: string;
  }
}

/** The caller's `X-Request-Id` if it is one we keep (letters, digits, `._:-`, at most 100), else undefined. */
export function clientRequestIdOf(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && CLIENT_REQUEST_ID_RE.test(header) ? header : undefined;
}

/** Structured JSON request logs with request ids; no headers but a few harmless ones, no bodies. */
export function loggerParams(level: LogLevel, destination?: NodeJS.WritableStream): Params {
  const options: Options = {
    level,
    // Always our own id (unique, so it names one request in the logs and the audit trail); a
    // client's id cannot replace it, only stand beside it.
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      req.clientRequestId = clientRequestIdOf(req.headers['x-request-id']);
      const id = randomUUID();
      res.setHeader('x-request-id', id);
      return id;
    },
    serializers: {
      req: (req: {
        id?: unknown;
        method?: string;
        url?: string;
        headers?: Record<string, string | string[] | undefined>;
      }) => ({
        id: req.id,
        clientRequestId: clientRequestIdOf(req.headers?.['x-request-id']),
        method: req.method,
        url: loggableUrl(req.url),
        userAgent: req.headers?.['user-agent'],
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
    // Belt and braces: should a header ever be logged, the secrets are not.
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'],
      censor: '[redacted]',
    },
    customLogLevel: (_req, res, err) =>
      err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    quietReqLogger: true,
  };
  return {
    pinoHttp: destination ? [options, destination as DestinationStream] : options,
    // Every route once: nestjs-pino's default list names each route excluded from the /v1 prefix
    // (/health) beside its wildcard, and Nest mounts such a route for the wildcard as well, so
    // /health went through the logger twice. One wildcard: Nest adds the excluded routes itself.
    forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
  };
}
