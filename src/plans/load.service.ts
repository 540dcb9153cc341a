import { Injectable } from '@nestjs/common';
import { DateTime } from 'luxon';
import { AuditService } from '../audit/audit.service.js';
import type { Actor } from '../common/auth/actor.js';
import { Clock } from '../common/clock/clock.js';
import { ValidationFailedError } from '../common/errors/common.errors.js';
import { requireLocalDateWithinHorizon } from '../common/validation/date-horizon.js';
import { ClinicError, ClinicErrorCode } from '../clinics/clinics.errors.js';
import { byWeekday } from '../scheduling/engine/shape.js';
import { MAX_LOAD_DAYS, type LoadDayDto, type LoadDto, type LoadQueryDto } from './dto/load.dto.js';
import { ClinicsRepository } from '../clinics/clinics.repository.js';
import { BookingsRepository } from './bookings.repository.js';

/**
 * A clinic's load per local day and hour: chairs occupied and infusion starts, from its active
 * sessions holding a chair. Counts only, no patient data; audited as a read of the clinic.
 */
@Injectable()
export class LoadService {
  constructor(
    private readonly clinics: ClinicsRepository,
    private readonly bookings: BookingsRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async load(actor: Actor, clinicId: string, q: LoadQueryDto): Promise<LoadDto> {
    if (actor.clinicId !== null && actor.clinicId !== clinicId)
      throw new ClinicError(ClinicErrorCode.CLINIC_NOT_FOUND, 'No such clinic.');
    if (q.to < q.from) throw new ValidationFailedError([{ field: 'to', message: 'to must not be before from' }]);
    const days =
      DateTime.fromISO(q.to, { zone: 'utc' }).diff(DateTime.fromISO(q.from, { zone: 'utc' }), 'days').days + 1;
    if (days > MAX_LOAD_DAYS)
      throw new ValidationFailedError([{ field: 'to', message: `at most ${MAX_LOAD_DAYS} days per request` }]);
    const setup = await this.clinics.setupOrNull(clinicId);
    if (!setup) throw new ClinicError(ClinicErrorCode.CLINIC_NOT_FOUND, 'No such clinic.');
    const zone = setup.clinic.timezone;
    requireLocalDateWithinHorizon('to', q.to, this.clock.now(), zone);
    const first = DateTime.fromISO(q.from, { zone }).startOf('day');
    const end = DateTime.fromISO(q.to, { zone }).plus({ days: 1 }).startOf('day');
    const [spans] = await Promise.all([
      this.bookings.chairSpans(clinicId, first.toJSDate(), end.toJSDate()),
      this.audit.recordRead(actor, { clinicId, action: 'clinic.load.read', entityType: 'clinic', entityId: clinicId }),
    ]);
    const opening = byWeekday(setup.clinic.openingHours);
    const out: LoadDayDto[] = [];
    for (let day = first; day < end; day = day.plus({ days: 1 }).startOf('day')) {
      const next = day.plus({ days: 1 }).startOf('day');
      const open = opening[day.weekday];
      const hours: LoadDayDto['hours'] = [];
      // Each hour of the local day (23 or 25 on a clock change), as instants.
      for (let h = day; h < next; h = h.plus({ hours: 1 })) {
        const a = h.toMillis();
        const b = Math.min(h.plus({ hours: 1 }).toMillis(), next.toMillis());
        let chairMs = 0;
        let starts = 0;
        const points: number[] = [];
        const perSlot = new Map<number, number>();
        for (const s of spans) {
          const from = Math.max(s.start, a);
          const to = Math.min(s.end, b);
          if (from < to) {
            chairMs += to - from;
            points.push(from);
          }
          if (s.start >= a && s.start < b) {
            starts++;
            const slot = Math.floor(s.start / 900_000);
            perSlot.set(slot, (perSlot.get(slot) ?? 0) + 1);
          }
        }
        let peakChairs = 0;
        for (const p of points) {
          let n = 0;
          for (const s of spans) if (s.start <= p && p < s.end) n++;
          if (n > peakChairs) peakChairs = n;
        }
        const wall = h.hour * 60 + h.minute;
        let inOpening = false;
        for (let k = 0; k < open.length && !inOpening; k += 2) inOpening = open[k] < wall + 60 && wall < open[k + 1];
        if (!inOpening && chairMs === 0 && starts === 0) continue;
        hours.push({
          hour: h.toFormat('HH:mm'),
          start: h.toISO({ suppressMilliseconds: true })!,
          chairsOccupied: Math.round((chairMs / 3_600_000) * 100) / 100,
          peakChairs,
          starts,
          peakStartsPerSlot: Math.max(0, ...perSlot.values()),
        });
      }
      out.push({ date: day.toISODate()!, hours });
    }
    return {
      timezone: zone,
      chairs: setup.chairs.length,
      maxStartsPerSlot: setup.clinic.maxStartsPerSlot ?? null,
      maxStartsPerNursePerSlot: setup.clinic.maxStartsPerNursePerSlot ?? null,
      days: out,
    };
  }
}
