import { Module } from '@nestjs/common';
import { ClinicsController } from './clinics.controller.js';
import { ClinicsRepository } from './clinics.repository.js';
import { ClinicsService } from './clinics.service.js';

@Module({
  controllers: [ClinicsController],
  providers: [ClinicsRepository, ClinicsService],
  exports: [ClinicsService, ClinicsRepository],
})
export class ClinicsModule {}
