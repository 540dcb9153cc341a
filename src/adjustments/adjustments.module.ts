import { Module } from '@nestjs/common';
import { PlansModule } from '../plans/plans.module.js';
import { AdjustmentLog, AdjustmentWrites } from './adjustment-log.repository.js';
import { AdjustmentsController } from './adjustments.controller.js';
import { AdjustmentsService } from './adjustments.service.js';

@Module({
  imports: [PlansModule],
  controllers: [AdjustmentsController],
  providers: [AdjustmentLog, AdjustmentWrites, AdjustmentsService],
  exports: [AdjustmentLog],
})
export class AdjustmentsModule {}
