import type { Request } from 'express';

/** `METHOD /route/:pattern`: the route, never the URL (ids and query strings stay out of the audit). */
export function routeOf(req: Request): string {
  const pattern: unknown = (req.route as { path?: unknown } | undefined)?.path;
  return `${req.method} ${typeof pattern === 'string' ? pattern : '(unknown route)'}`;
}
