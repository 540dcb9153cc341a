import { Injectable, type NestMiddleware } from '@nestjs/common';
import express, { type NextFunction, type Request, type Response } from 'express';
import { CommonErrorCode } from '../errors/common.errors.js';
import { DomainError } from '../errors/domain-error.js';
import { problemBody, sendProblem, toDomainError } from './problem-details.filter.js';

const parseJson = express.json({ limit: '1mb', strict: true, type: ['application/json', 'application/*+json'] });

/** Deeper than any body the API takes; far below what overflows the stack of class-transformer (about 2,000 levels). */
export const MAX_JSON_DEPTH = 32;

/** Whether a parsed JSON value nests objects/arrays deeper than `max` (iterative: the check itself cannot overflow). */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * JSON body parsing as a Nest middleware, so that it runs after the request logger (a malformed
 * body is still logged) and its failures (bad JSON, too large, nested too deeply) answer as problem+json.
 */
@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  use(req: Request, res: Response, next: NextFunction): void {
    parseJson(req, res, (err?: unknown) => {
      if (!err && nestedDeeperThan(req.body, MAX_JSON_DEPTH)) {
        err = new DomainError(CommonErrorCode.MALFORMED_REQUEST, `The request body is nested more than ${MAX_JSON_DEPTH} levels deep.`);
      }
      if (!err) return next();
      const known = toDomainError(err);
      if (!known) return next(err);
      sendProblem(res, problemBody(known, req));
    });
  }
}
