import { Injectable } from '@nestjs/common';
import { DateTime } from 'luxon';
import { Clock } from '../../common/clock/clock.js';
import { CommonErrorCode, ValidationFailedError } from '../../common/errors/common.errors.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { clinicForEngine } from '../../plans/engine-input.js';
import { ClinicsRepository } from '../../clinics/clinics.repository.js';
import { BookingsRepository } from '../../plans/bookings.repository.js';
import { availableSlots } from '../../scheduling/engine/schedule.js';
import type { PlanContext } from './handler.js';
import { toMinute } from './placement.js';

export type ResourceChange = { kind: 'chair'; chairId: string } | { kind: 'staff'; staffId: string };

/** Whether a session may move to another chair or staff member at its current time. */
@Injectable()
export class ResourceCheck {
  constructor(
    private readonly clinics: ClinicsRepository,
    private readonly bookings: BookingsRepository,
    private readonly clock: Clock,
  ) {}

  /**
   * Is the chair or staff member free for this session at its current time? Asked of the engine
   * (the same rules as booking: presence, opening hours, capacity), without the session itself.
   */
  async requireFree({ m, plan, sessions, steps }: PlanContext, sessionId: string, effect: ResourceChange) {
    const s = sessions.find((x) => x.id === sessionId)!;
    const setup = await this.clinics.setup(plan.clinicId, m);
    if (effect.kind === 'chair' && !setup.chairs.some((c) => c.id === effect.chairId)) {
      throw new ValidationFailedError([{ field: 'chairId', message: 'no such active chair in this clinic' }]);
    }
    const role = steps.find((x) => x.key === s.stepKey)?.staffRole ?? null;
    if (effect.kind === 'staff' && !setup.staff.some((x) => x.id === effect.staffId && x.role === role)) {
      throw new ValidationFailedError([
        { field: 'staffId', message: `no active ${role ?? 'staff member'} with that id in this clinic` },
      ]);
    }
    const zone = setup.clinic.timezone;
    const day = DateTime.fromJSDate(s.startsAt, { zone });
    const booked = await this.bookings.bookings(
      plan.clinicId,
      day.startOf('day').toJSDate(),
      day.plus({ days: 1 }).startOf('day').toJSDate(),
      { chairs: setup.chairs.map((c) => c.id), staff: setup.staff.map((x) => x.id), patientId: s.patientId },
      { sessionId: s.id },
      m,
    );
    const slots = availableSlots({
      ...clinicForEngine(setup),
      booked,
      now: Math.min(toMinute(this.clock.now().toJSDate()), toMinute(s.startsAt)),
      from: day.toISODate()!,
      to: day.toISODate()!,
      durationMinutes: toMinute(s.endsAt) - toMinute(s.startsAt),
      recoveryMinutes: toMinute(s.occupiedUntil) - toMinute(s.endsAt),
      needsChair: effect.kind === 'chair',
      staffRole: effect.kind === 'staff' ? role : null,
    });
    const slot = slots.find((x) => x.start === toMinute(s.startsAt));
    const free =
      effect.kind === 'chair' ? slot?.chairIds.includes(effect.chairId) : slot?.staffIds.includes(effect.staffId);
    if (!free) {
      throw new DomainError(
        CommonErrorCode.SLOT_TAKEN,
        `That ${effect.kind === 'chair' ? 'chair' : 'staff member'} is not free for ${s.label} at ${day.toFormat('yyyy-MM-dd HH:mm')}.`,
      );
    }
  }
}
