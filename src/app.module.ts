import { Module, RequestMethod, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { ApiKeysModule } from './api-keys/api-keys.module.js';
import { AuditModule } from './audit/audit.module.js';
import { ClinicsModule } from './clinics/clinics.module.js';
import { ApiKeyGuard } from './api-keys/api-key.guard.js';
import { Clock, SystemClock } from './common/clock/clock.js';
import { ProblemDetailsFilter } from './common/http/problem-details.filter.js';
import { JsonBodyMiddleware } from './common/http/json-body.middleware.js';
import { loggerParams } from './common/http/logging.js';
import { NoStoreMiddleware } from './common/http/no-store.middleware.js';
import { RateLimitGuard, RateLimits } from './common/http/rate-limit.guard.js';
import { APP_CONFIG, type AppConfig } from './config/app-config.js';
import { dataSourceOptions } from './database/data-source-options.js';
import { HealthModule } from './health/health.module.js';
import { PatientsModule } from './patients/patients.module.js';
import { AdjustmentsModule } from './adjustments/adjustments.module.js';
import { ObservationsModule } from './observations/observations.module.js';
import { OutcomesModule } from './outcomes/outcomes.module.js';
import { PlansModule } from './plans/plans.module.js';
import { SessionsModule } from './sessions/sessions.module.js';
import { ProtocolsModule } from './protocols/protocols.module.js';
import { CalendarModule } from './calendar/calendar.module.js';
import { SyncModule } from './sync/sync.module.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

export interface AppModuleOptions {
  config: AppConfig;
  /** The database to use (already migrated). */
  databaseUrl: string;
  /** Tests pass a FixedClock. */
  clock?: Clock;
  /** Where logs go (default stdout); tests capture them. */
  logDestination?: NodeJS.WritableStream;
}

@Module({})
export class CoreModule {
  static forRoot(options: AppModuleOptions): DynamicModule {
    return {
      module: CoreModule,
      global: true,
      providers: [
        { provide: APP_CONFIG, useValue: options.config },
        { provide: Clock, useValue: options.clock ?? new SystemClock() },
        RateLimits,
      ],
      exports: [APP_CONFIG, Clock, RateLimits],
    };
  }
}

@Module({})
export class AppModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // `{*path}`, path-to-regexp 8's wildcard: '*' made Nest warn "Unsupported route path" at every start.
    consumer.apply(NoStoreMiddleware, JsonBodyMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }

  static forRoot(options: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(options),
        LoggerModule.forRoot(loggerParams(options.config.logLevel, options.logDestination)),
        TypeOrmModule.forRoot({
          ...dataSourceOptions(options.databaseUrl, options.config.dbPoolSize),
          retryAttempts: 2,
          retryDelay: 1000,
        }),
        AuditModule,
        HealthModule,
        ApiKeysModule,
        ClinicsModule,
        PatientsModule,
        ProtocolsModule,
        PlansModule,
        SessionsModule,
        AdjustmentsModule,
        ObservationsModule,
        CalendarModule,
        SyncModule,
        WebhooksModule,
        OutcomesModule,
      ],
      providers: [
        // In this order: a flood of bad keys is limited before any key is looked up.
        { provide: APP_GUARD, useClass: RateLimitGuard },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
      ],
    };
  }
}
