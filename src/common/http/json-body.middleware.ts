import { Injectable, type NestMiddleware } from '@nestjs/common';
import express, { type NextFunction, type Request, type Response } from 'express';
import { CommonErrorCode } from '../errors/common.errors.js';
import { DomainError } from '../errors/domain-error.js';
import { problemBody, sendProblem, toDomainError } from './problem-details.filter.js';

const parseJson = express.json({ limit: '1mb', strict: true, type: ['application/json', 'application/*+json'] });

/** Deeper than any body the API takes; far below what overflows the stack of class-transformer (about 2,000 levels). */
export const MAX_JSON_DEPTH = 32;

/** A UTF-16 surrogate without its partner: JSON may spell it (`"\ud800"`), but it is not Unicode text. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * What is wrong with a parsed JSON body, if anything: objects/arrays nested deeper than `max`, or
 * a string (value or key) that is not well-formed Unicode — it cannot be stored as UTF-8 without
 * being changed, and validator.js throws on it. Iterative, so the check itself cannot overflow.
 */
export function bodyProblem(value: unknown, max: number): string | undefined {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v))
        return 'The request body contains text that is not valid Unicode (an unpaired surrogate such as "\\ud800").';
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return `The request body is nested more than ${max} levels deep.`;
    for (const [key, child] of Object.entries(v)) {
      stack.push([key, depth]);
      if (child !== null && (typeof child === 'object' || typeof child === 'string')) stack.push([child, depth + 1]);
    }
  }
  return undefined;
}

/**
 * JSON body parsing as a Nest middleware, so that it runs after the request logger (a malformed
 * body is still logged) and its failures (bad JSON, too large, nested too deeply, not Unicode) answer as problem+json.
 */
@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  use(req: Request, res: Response, next: NextFunction): void {
    parseJson(req, res, (err?: unknown) => {
      const problem = err ? undefined : bodyProblem(req.body, MAX_JSON_DEPTH);
      if (problem) err = new DomainError(CommonErrorCode.MALFORMED_REQUEST, problem);
      if (!err) return next();
      const known = toDomainError(err);
      if (!known) return next(err);
      sendProblem(res, problemBody(known, req));
    });
  }
}
