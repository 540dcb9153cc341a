import { DateTime } from 'luxon';

/**
 * When a session may be checked in: from the start of its local day (or `opensDaysBefore` local
 * days earlier, a clinic setting) until the end of that day, in the clinic's zone. A patient who
 * comes a day late is a no-show of the one session and a reschedule of the next, not a check-in.
 */
export function checkInWindow(
  startsAt: Date,
  zone: string,
  opensDaysBefore: number,
): { opensAt: DateTime; closesAt: DateTime } {
  const day = DateTime.fromJSDate(startsAt, { zone }).startOf('day');
  return { opensAt: day.minus({ days: opensDaysBefore }), closesAt: day.plus({ days: 1 }) };
}
