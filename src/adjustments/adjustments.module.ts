import { Module } from '@nestjs/common';
import { PlansRepository } from '../plans/plans.repository.js';
import { AdjustmentLog, AdjustmentWrites } from './adjustment-log.repository.js';
import { AdjustmentsController } from './adjustments.controller.js';
import { AdjustmentsService } from './adjustments.service.js';

@Module({
  controllers: [AdjustmentsController],
  providers: [AdjustmentLog, AdjustmentWrites, AdjustmentsService, PlansRepository],
  exports: [AdjustmentLog],
})
export class AdjustmentsModule {}
