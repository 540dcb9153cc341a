import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Request, Response } from 'express';
import { CommonErrorCode } from '../errors/common.errors.js';
import { translateDatabaseError } from '../errors/database-errors.js';
import { DomainError, type FieldError } from '../errors/domain-error.js';
import { problemType, statusForCode, type ErrorCode } from '../errors/error-codes.js';

/** RFC 9457 body, with Chairside's extension members `code`, `errors` and `requestId`. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  requestId?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Maps Nest's own HTTP exceptions (unknown route, body parser, terminus) onto our codes. */
function fromHttpException(ex: HttpException): DomainError {
  const status = ex.getStatus();
  const body = ex.getResponse() as { message?: unknown; details?: unknown } | string;
  const message =
    typeof body === 'string'
      ? body
      : Array.isArray(body.message)
        ? body.message.join('; ')
        : String(body.message ?? ex.message);
  switch (status) {
    case 400:
      return new DomainError(CommonErrorCode.MALFORMED_REQUEST, message);
    case 401:
      return new DomainError(CommonErrorCode.UNAUTHENTICATED, message);
    case 403:
      return new DomainError(CommonErrorCode.FORBIDDEN, message);
    case 404:
      return new DomainError(CommonErrorCode.ROUTE_NOT_FOUND, message);
    case 413:
      return new DomainError(CommonErrorCode.PAYLOAD_TOO_LARGE, 'The request body is too large.');
    case 415:
      return new DomainError(CommonErrorCode.UNSUPPORTED_MEDIA_TYPE, message);
    case 503:
      // @nestjs/terminus reports a failed health check as 503 with the check details.
      return new DomainError(
        CommonErrorCode.DATABASE_UNAVAILABLE,
        'A dependency of the service is down.',
        [],
        typeof body === 'object' && body.details ? { checks: body.details } : {},
      );
    default:
      return status >= 500
        ? new DomainError(CommonErrorCode.INTERNAL, 'An unexpected error occurred.')
        : new DomainError(CommonErrorCode.MALFORMED_REQUEST, message);
  }
}

/** Errors thrown by body-parser before Nest sees the request (malformed JSON, too large). */
function fromBodyParser(err: { type?: string; status?: number }): DomainError | undefined {
  switch (err.type) {
    case 'entity.parse.failed':
      return new DomainError(CommonErrorCode.MALFORMED_REQUEST, 'The request body is not valid JSON.');
    case 'entity.too.large':
      return new DomainError(CommonErrorCode.PAYLOAD_TOO_LARGE, 'The request body is too large.');
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new DomainError(CommonErrorCode.UNSUPPORTED_MEDIA_TYPE, 'The request body encoding is not supported.');
    default:
      return typeof err.status === 'number' && err.status >= 400 && err.status < 500
        ? new DomainError(CommonErrorCode.MALFORMED_REQUEST, 'The request could not be read.')
        : undefined;
  }
}

export function toDomainError(err: unknown): DomainError | undefined {
  if (err instanceof DomainError) return err;
  if (err instanceof HttpException) return fromHttpException(err);
  return fromBodyParser(err as { type?: string; status?: number }) ?? translateDatabaseError(err);
}

export function problemBody(error: DomainError, req?: Request): ProblemDetails {
  const status = statusForCode(error.code);
  return {
    type: problemType(error.code),
    title: TITLES[status] ?? 'Error',
    status,
    detail: error.message,
    code: error.code,
    ...(req ? { instance: req.originalUrl?.split('?')[0], requestId: String(req.id ?? '') || undefined } : {}),
    ...(error.errors.length > 0 || error.code === CommonErrorCode.VALIDATION_FAILED ? { errors: error.errors } : {}),
    ...error.extensions,
  };
}

export function sendProblem(res: Response, body: ProblemDetails): void {
  res.status(body.status).type('application/problem+json').send(JSON.stringify(body));
}

/**
 * Requests Node's HTTP parser refuses before any handler sees them (a head over 16 KB, a broken
 * request line) also answer problem+json, then the connection closes.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const error =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? new DomainError(
            CommonErrorCode.HEADERS_TOO_LARGE,
            'The request line and headers are too large (16 KB at most).',
          )
        : new DomainError(CommonErrorCode.MALFORMED_REQUEST, 'The request could not be parsed as HTTP.');
    const body = JSON.stringify(problemBody(error));
    const status = statusForCode(error.code);
    socket.end(
      `HTTP/1.1 ${status} ${TITLES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}

/** Every error leaves as RFC 9457 application/problem+json; internals never reach the client. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Problem');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request>();
    const res = ctx.getResponse<Response>();
    const known = toDomainError(exception);
    if (!known) {
      // Log the error's class, SQLSTATE and call stack, never its message: database messages quote
      // the offending values, which may be patient data.
      const e = exception as { name?: string; stack?: string; driverError?: { code?: string } };
      const frames = (e?.stack ?? '')
        .split('\n')
        .filter((line) => /^\s+at /.test(line))
        .join('\n');
      this.logger.error({ err: { type: e?.name, code: e?.driverError?.code, stack: frames } }, 'unhandled error');
    } else if (statusForCode(known.code) >= 500) {
      this.logger.warn({ code: known.code }, known.message);
    }
    const error = known ?? new DomainError(CommonErrorCode.INTERNAL, 'An unexpected error occurred.');
    if (res.headersSent) return;
    // The database away or busy: worth trying again in a moment.
    if (error.code === CommonErrorCode.DATABASE_UNAVAILABLE) res.setHeader('Retry-After', '2');
    sendProblem(res, problemBody(error, req));
  }
}
