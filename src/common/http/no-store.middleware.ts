import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/**
 * `Cache-Control: no-store` on every answer of the API (patient data, and errors that may quote
 * it), so that no browser, proxy or client library keeps a copy. A route that means to be cached
 * sets its own header afterwards (the calendar feeds: `private, max-age=300`, for calendar apps).
 */
@Injectable()
export class NoStoreMiddleware implements NestMiddleware {
  use(_req: Request, res: Response, next: NextFunction): void {
    res.setHeader('Cache-Control', 'no-store');
    next();
  }
}
