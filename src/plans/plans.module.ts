import { Module } from '@nestjs/common';
import { ClinicsModule } from '../clinics/clinics.module.js';
import { IdempotencyModule } from '../common/idempotency/idempotency.module.js';
import { PatientsModule } from '../patients/patients.module.js';
import { ProtocolsModule } from '../protocols/protocols.module.js';
import { PlansController } from './plans.controller.js';
import { PlansRepository } from './plans.repository.js';
import { PlansService } from './plans.service.js';
import { AvailabilityService } from './availability.service.js';
import { BookingsCache } from './bookings-cache.js';
import { BookingsRepository } from './bookings.repository.js';
import { BookingService } from './booking/booking.service.js';
import { LoadService } from './load.service.js';
import { PlanningService } from './planning.service.js';

@Module({
  imports: [ProtocolsModule, ClinicsModule, PatientsModule, IdempotencyModule],
  controllers: [PlansController],
  providers: [
    PlansRepository,
    BookingsRepository,
    BookingsCache,
    PlanningService,
    BookingService,
    PlansService,
    AvailabilityService,
    LoadService,
  ],
  exports: [PlansService, PlansRepository, BookingsRepository],
})
export class PlansModule {}
