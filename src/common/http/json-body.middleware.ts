import { Injectable, type NestMiddleware } from '@nestjs/common';
import express, { type NextFunction, type Request, type Response } from 'express';
import { problemBody, sendProblem, toDomainError } from './problem-details.filter.js';

const parseJson = express.json({ limit: '1mb', strict: true, type: ['application/json', 'application/*+json'] });

/**
 * JSON body parsing as a Nest middleware, so that it runs after the request logger (a malformed
 * body is still logged) and its failures (bad JSON, too large) answer as problem+json.
 */
@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  use(req: Request, res: Response, next: NextFunction): void {
    parseJson(req, res, (err?: unknown) => {
      if (!err) return next();
      const known = toDomainError(err);
      if (!known) return next(err);
      sendProblem(res, problemBody(known, req));
    });
  }
}
