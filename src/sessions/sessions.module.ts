import { Module } from '@nestjs/common';
import { AdjustmentsModule } from '../adjustments/adjustments.module.js';
import { PlansRepository } from '../plans/plans.repository.js';
import { SessionsController } from './sessions.controller.js';
import { SessionsRepository } from './sessions.repository.js';
import { SessionsService } from './sessions.service.js';

@Module({
  imports: [AdjustmentsModule],
  controllers: [SessionsController],
  providers: [SessionsRepository, SessionsService, PlansRepository],
})
export class SessionsModule {}
