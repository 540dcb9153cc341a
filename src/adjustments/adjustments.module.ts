import { Module } from '@nestjs/common';
import { ClinicsModule } from '../clinics/clinics.module.js';
import { PatientsModule } from '../patients/patients.module.js';
import { PlansModule } from '../plans/plans.module.js';
import { AdjustmentCommit } from './adjustment-commit.js';
import { AdjustmentLog, AdjustmentWrites } from './adjustment-log.repository.js';
import { AdjustmentsController } from './adjustments.controller.js';
import { AdjustmentsService } from './adjustments.service.js';
import { AddHandler } from './handlers/add.handler.js';
import { CancelRemainingHandler } from './handlers/cancel-remaining.handler.js';
import { ChangeChairHandler } from './handlers/change-chair.handler.js';
import { ChangeDoseHandler } from './handlers/change-dose.handler.js';
import { ChangeStaffHandler } from './handlers/change-staff.handler.js';
import { Replanner } from './handlers/replan.js';
import { RescheduleHandler } from './handlers/reschedule.handler.js';
import { ResourceCheck } from './handlers/resource-check.js';
import { SessionEffects } from './handlers/session-effects.js';
import { SkipHandler } from './handlers/skip.handler.js';

@Module({
  imports: [PlansModule, ClinicsModule, PatientsModule],
  controllers: [AdjustmentsController],
  providers: [
    AdjustmentLog,
    AdjustmentWrites,
    AdjustmentsService,
    AdjustmentCommit,
    Replanner,
    ResourceCheck,
    SessionEffects,
    ChangeDoseHandler,
    SkipHandler,
    CancelRemainingHandler,
    ChangeChairHandler,
    ChangeStaffHandler,
    RescheduleHandler,
    AddHandler,
  ],
  exports: [AdjustmentLog],
})
export class AdjustmentsModule {}
