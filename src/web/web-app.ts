import express, { type NextFunction, type Request, type Response } from 'express';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where `vite build` puts the web app: `<repo>/dist/web`, whether this file runs compiled
 * (`dist/src/web/web-app.js`) or from source under jest (`src/web/web-app.ts`).
 */
export function defaultWebDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const compiled = here.endsWith(path.join('dist', 'src', 'web'));
  return path.resolve(here, compiled ? '../../web' : '../../dist/web');
}

/** Paths the API, its docs and the health check own: never answered by the web app. */
const SERVER_PATHS = /^\/(v1|docs|health|openapi\.(json|yaml))(\/|$|\.)/;

/**
 * The web app as Express middleware, before Nest's routes: its hashed assets (cached for a
 * year), and `index.html` for any other GET of a path without a file extension that the API
 * does not own (the app keeps its own screen state in memory, not in the URL). Everything
 * else falls through to Nest, so /v1 keeps its problem+json 404s. Not a route: the role
 * matrix walks routes only, and the app's files need no key.
 */
export function webAppMiddleware(dir: string = defaultWebDir()) {
  const indexFile = path.join(dir, 'index.html');
  const assets = express.static(dir, {
    index: false,
    fallthrough: true,
    setHeaders(res, file) {
      res.setHeader(
        'Cache-Control',
        file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  let index: string | undefined;
  return (req: Request, res: Response, next: NextFunction): void => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || SERVER_PATHS.test(req.path)) return next();
    assets(req, res, () => {
      if (path.extname(req.path)) return next();
      if (!existsSync(indexFile)) {
        res
          .status(503)
          .type('text/plain')
          .send('The web app is not built yet: run `npm run build` (or `npm start`, which builds it).\n');
        return;
      }
      index ??= readFileSync(indexFile, 'utf8');
      res.setHeader('Cache-Control', 'no-cache');
      res.type('html').send(index);
    });
  };
}
