import { Module } from '@nestjs/common';
import { AdjustmentsModule } from '../adjustments/adjustments.module.js';
import { ClinicsModule } from '../clinics/clinics.module.js';
import { SessionsController } from './sessions.controller.js';
import { SessionsRepository } from './sessions.repository.js';
import { SessionsService } from './sessions.service.js';

@Module({
  imports: [AdjustmentsModule, ClinicsModule],
  controllers: [SessionsController],
  providers: [SessionsRepository, SessionsService],
})
export class SessionsModule {}
