/**
 * The engine's entry points: `schedule` (a series placed, or a refusal with its binding constraint
 * and earliest workable start), `earliestWorkableStart` (the second half of a refusal alone), and
 * re-exports of the helpers callers size requests with and of the free-slot listing. The work is
 * split by job: shape.ts (template shape, helpers), capacity.ts (seats, chairs, bookings),
 * day-rules.ts (day rules, closures), lookahead.ts (structure, static pruning), preference.ts
 * (order of days and times), explain.ts (refusals), search.ts (search and memo), free-slots.ts.
 */
import { Search } from './search.js';
import type { ScheduleRequest, ScheduleResult } from './types.js';

export { availableSlots, type AvailabilityRequest, type FreeSlot } from './free-slots.js';
export { beforeReachDays, horizonDaysFor, planSpanDays } from './shape.js';

/**
 * Places a tailored series in a clinic's calendar. Pure: everything it needs comes in the request
 * (zone, hours, closures, chairs, staff, bookings, patient, sessions, now), and the same request
 * always gives the same answer.
 *
 * Every session (with its recovery) lies inside opening hours and outside closures, on an
 * allowed weekday and not in the past; its chair is free; its staff member is present for all of
 * it and under their limit of patients at once; the patient is free and not unavailable; every
 * gap is within its bounds (days: local calendar days; hours: elapsed time from the end of
 * the earlier session, recovery included).
 *
 * Preference, in order: earliest completion (measured against the targets: a gap shorter than
 * its target does not count as finishing earlier, a longer one delays), gaps nearest their
 * targets, the same local time of day where the step asks for it, the patient's preferred
 * times, then the earliest time. The search is depth-first with a day-level look-ahead and
 * takes the first plan in that order.
 *
 * When nothing fits, the result names the binding constraint and the earliest first day within
 * `probeDays` from which a plan would work, if any.
 */
export function schedule(req: ScheduleRequest): ScheduleResult {
  if (req.sessions.length === 0) return { kind: 'planned', sessions: [], nodes: 0 };
  return new Search(req).run();
}

/**
 * Only the second half of a refusal: the earliest first day past the request's window (up to
 * `probeDays`) from which a plan works, or null. For a caller that already has the refusal and
 * loaded the bookings further ahead; the same answer as `schedule`'s `earliestStart`.
 */
export function earliestWorkableStart(req: ScheduleRequest): string | null {
  if (req.sessions.length === 0) return null;
  return new Search(req).earliestStart();
}
