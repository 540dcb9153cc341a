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
  return path.replace(/(\/calendar\/feeds\/)[^/]+?(\.ics)?(?=\/|$)/g, '$1[redacted]$2').replace(/cfd_[A-Za-z0-9_-]+/g, '[redacted]');
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,100}$/;

/** Structured JSON request logs with request ids; no headers but a few harmless ones, no bodies. */
export function loggerParams(level: LogLevel, destination?: NodeJS.WritableStream): Params {
  const options: Options = {
    level,
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID();
      res.setHeader('x-request-id', id);
      return id;
    },
    serializers: {
      req: (req: { id?: unknown; method?: string; url?: string; headers?: Record<string, unknown> }) => ({
        id: req.id,
        method: req.method,
        url: loggableUrl(req.url),
        userAgent: req.headers?.['user-agent'],
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
    // Belt and braces: should a header ever be logged, the secrets are not.
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'], censor: '[redacted]' },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
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
