import { Module } from '@nestjs/common';
import { IdempotencyService } from '../common/idempotency/idempotency.service.js';
import { ProtocolsModule } from '../protocols/protocols.module.js';
import { PlansController } from './plans.controller.js';
import { PlansRepository } from './plans.repository.js';
import { PlansService } from './plans.service.js';
import { AvailabilityService } from './availability.service.js';
import { BookingsCache } from './bookings-cache.js';
import { BookingService } from './booking/booking.service.js';
import { LoadService } from './load.service.js';
import { PlanningService } from './planning.service.js';

@Module({
  imports: [ProtocolsModule],
  controllers: [PlansController],
  providers: [
    PlansRepository,
    BookingsCache,
    PlanningService,
    BookingService,
    PlansService,
    AvailabilityService,
    LoadService,
    IdempotencyService,
  ],
  exports: [PlansService],
})
export class PlansModule {}
