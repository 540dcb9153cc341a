import { RequestMethod, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { Logger } from 'nestjs-pino';
import { AppModule, type AppModuleOptions } from './app.module.js';
import { problemBody, sendProblem, toDomainError } from './common/http/problem-details.filter.js';
import { createValidationPipe } from './common/validation/validation.js';

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
  return SwaggerModule.createDocument(app, config);
}

/**
 * Creates the Nest application with every HTTP convention in place: /v1 prefix, validation,
 * problem+json errors (also for body-parser failures), OpenAPI at /docs and /openapi.json.
 * Shared by main.ts and the API tests so that tests exercise exactly what runs.
 */
export async function createApp(options: AppModuleOptions): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(options), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // Our own body parser so that its errors (malformed JSON, too large) become problem+json.
  app.useBodyParser('json', { limit: '1mb', strict: true, type: ['application/json', 'application/*+json'] });
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    const known = toDomainError(err);
    if (!known) return next(err);
    sendProblem(res, problemBody(known, req));
  });
  app.setGlobalPrefix(API_PREFIX, { exclude: [{ path: 'health', method: RequestMethod.GET }] });
  app.useGlobalPipes(createValidationPipe());

  const document = buildOpenApi(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', yamlDocumentUrl: 'openapi.yaml' });
  return app;
}
