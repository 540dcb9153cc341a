import { RequestMethod, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { AppModule, type AppModuleOptions } from './app.module.js';
import { describeAccess, ROLE_MATRIX } from './common/auth/role-matrix.js';
import { answerClientErrors } from './common/http/problem-details.filter.js';
import { addressRateLimit, RateLimits } from './common/http/rate-limit.guard.js';
import { serverTimingMiddleware } from './common/http/server-timing.js';
import { createValidationPipe } from './common/validation/validation.js';
import { webAppMiddleware } from './web/web-app.js';

export const API_PREFIX = 'v1';

/** Builds the OpenAPI document from the controllers and DTOs. */
export function buildOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Chairside API')
    .setDescription(
      'Treatment-protocol scheduling: protocol templates become booked appointment series. ' +
        'Authenticate with `Authorization: Bearer <API key>`. Errors are RFC 9457 application/problem+json.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key' })
    .build();
  const document = SwaggerModule.createDocument(app, config);
  // Each operation says who may call it, from the one role matrix.
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const op = item[method];
      if (!op) continue;
      const route = `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`;
      const access = describeAccess(route);
      if (!access) continue;
      op.description = op.description ? `${op.description}\n\n${access}` : access;
      (op as unknown as Record<string, unknown>)['x-access'] = ROLE_MATRIX[route];
      if (ROLE_MATRIX[route].some((a) => a !== 'none' && a !== 'feed_token')) {
        op.parameters = [
          ...(op.parameters ?? []),
          {
            name: 'Chairside-Clinic',
            in: 'header',
            required: false,
            schema: { type: 'string', format: 'uuid' },
            description:
              'The clinic to act in, for an admin key granted several clinics (or an operator key); without it a key acts in its own clinic. A clinic the key may not act in answers 404.',
          },
        ];
      }
    }
  }
  return document;
}

/**
 * Creates the Nest application with every HTTP convention in place: /v1 prefix, validation,
 * problem+json errors (also for body-parser failures), OpenAPI at /docs and /openapi.json.
 * Shared by main.ts and the API tests so that tests exercise exactly what runs.
 */
export async function createApp(
  options: AppModuleOptions & { /** The built web app (default dist/web). */ webDir?: string },
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(options), {
    bufferLogs: true,
    bodyParser: false, // JsonBodyMiddleware parses bodies, after the request logger
  });
  app.useLogger(app.get(Logger));
  answerClientErrors(app.getHttpServer());
  app.disable('x-powered-by');
  if (options.config.serverTiming) app.use(serverTimingMiddleware());
  app.set('trust proxy', options.config.trustProxy);
  // Security headers (HSTS, nosniff, frame-ancestors, CSP…). The CSP does not ask browsers to
  // upgrade to https: the service itself speaks plain HTTP (TLS ends at a proxy), and /docs over
  // http://127.0.0.1 would otherwise lose its scripts.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  app.set('query parser', 'simple');
  // No automatic (weak, body-hash) ETags: a route that promises one sets its own (plans "p<n>",
  // protocols "d<n>"/"v<n>", feeds a strong body hash), and a weak one sent back as If-Match
  // could only ever fail. Express still answers If-None-Match with 304 for the ETags routes set.
  app.set('etag', false);
  // The web app (web/, built to dist/web) at / and its assets; /v1, /docs and /health pass through.
  app.use(webAppMiddleware(options.webDir));
  app.setGlobalPrefix(API_PREFIX, { exclude: [{ path: 'health', method: RequestMethod.GET }] });
  app.useGlobalPipes(createValidationPipe());

  // The documentation takes no key: one budget per client address (Nest's guards do not see it).
  app.use(['/docs', '/openapi.json', '/openapi.yaml'], addressRateLimit(app.get(RateLimits)));
  const document = buildOpenApi(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', yamlDocumentUrl: 'openapi.yaml' });
  return app;
}
