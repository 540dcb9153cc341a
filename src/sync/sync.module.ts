import { Module } from '@nestjs/common';
import { PlansRepository } from '../plans/plans.repository.js';
import { SyncController } from './sync.controller.js';
import { SyncRepository } from './sync.repository.js';
import { SyncService } from './sync.service.js';

/** Incremental REST sync of sessions; SyncService also offers the change log's housekeeping. */
@Module({
  controllers: [SyncController],
  providers: [SyncService, SyncRepository, PlansRepository],
  exports: [SyncService],
})
export class SyncModule {}
