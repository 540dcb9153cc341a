import { Injectable } from '@nestjs/common';
import { DateTime } from 'luxon';
import type { Actor } from '../common/auth/actor.js';
import { Clock } from '../common/clock/clock.js';
import { ValidationFailedError } from '../common/errors/common.errors.js';
import { requireLocalDateWithinHorizon } from '../common/validation/date-horizon.js';
import { ClinicError, ClinicErrorCode } from '../clinics/clinics.errors.js';
import { availableSlots } from '../scheduling/engine/schedule.js';
import { MAX_AVAILABILITY_DAYS, type AvailabilityDto, type AvailabilityQueryDto } from './dto/availability.dto.js';
import { clinicForEngine } from './engine-input.js';
import { BookingsCache } from './bookings-cache.js';
import { ClinicsRepository } from '../clinics/clinics.repository.js';

/** Free slots for one session shape: what the front desk looks at to fit someone in. */
@Injectable()
export class AvailabilityService {
  constructor(
    private readonly clinics: ClinicsRepository,
    private readonly cache: BookingsCache,
    private readonly clock: Clock,
  ) {}

  async slots(actor: Actor, clinicId: string, q: AvailabilityQueryDto): Promise<AvailabilityDto> {
    if (actor.clinicId !== null && actor.clinicId !== clinicId)
      throw new ClinicError(ClinicErrorCode.CLINIC_NOT_FOUND, 'No such clinic.');
    if (q.to < q.from) throw new ValidationFailedError([{ field: 'to', message: 'to must not be before from' }]);
    const days =
      DateTime.fromISO(q.to, { zone: 'utc' }).diff(DateTime.fromISO(q.from, { zone: 'utc' }), 'days').days + 1;
    if (days > MAX_AVAILABILITY_DAYS)
      throw new ValidationFailedError([{ field: 'to', message: `at most ${MAX_AVAILABILITY_DAYS} days per request` }]);
    const setup = await this.clinics.setupOrNull(clinicId);
    if (!setup) throw new ClinicError(ClinicErrorCode.CLINIC_NOT_FOUND, 'No such clinic.');
    const zone = setup.clinic.timezone;
    requireLocalDateWithinHorizon('to', q.to, this.clock.now(), zone); // from ≤ to
    const start = DateTime.fromISO(q.from, { zone }).startOf('day');
    const booked = await this.cache.bookings(
      clinicId,
      start.minus({ days: 1 }).toJSDate(),
      start.plus({ days: days + 1 }).toJSDate(),
      {
        chairs: setup.chairs.map((c) => c.id),
        staff: setup.staff.map((s) => s.id),
        patientId: '00000000-0000-0000-0000-000000000000',
      },
    );
    const free = availableSlots({
      ...clinicForEngine(setup),
      booked,
      now: Math.round(this.clock.now().toMillis() / 60000),
      from: q.from,
      to: q.to,
      durationMinutes: q.durationMinutes,
      recoveryMinutes: q.recoveryMinutes ?? 0,
      needsChair: q.needsChair ?? false,
      staffRole: q.role ?? null,
    });
    const chairName = new Map(setup.chairs.map((c) => [c.id, c.name]));
    const staffName = new Map(setup.staff.map((s) => [s.id, s.name]));
    return {
      timezone: zone,
      slots: free.map((f) => ({
        start: DateTime.fromMillis(f.start * 60000, { zone }).toISO({ suppressMilliseconds: true })!,
        localDate: f.localDate,
        localTime: f.localTime,
        chair: f.chairIds.length ? { id: f.chairIds[0], name: chairName.get(f.chairIds[0])! } : null,
        staff: f.staffIds.length ? { id: f.staffIds[0], name: staffName.get(f.staffIds[0])! } : null,
        freeChairs: f.chairIds.length,
        freeStaff: f.staffIds.length,
      })),
    };
  }
}
