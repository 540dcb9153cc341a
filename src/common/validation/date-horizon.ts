import type { DateTime } from 'luxon';
import { ValidationFailedError } from '../errors/common.errors.js';

/**
 * How far ahead any date or instant a request names may lie: booking starts, reschedules, free
 * slots, the day sheet, observed times. Two years covers every real plan (a template spans at most
 * 365 days) and keeps every computed time a four-digit year (RFC 3339), whatever a client sends.
 */
export const MAX_DAYS_AHEAD = 730;

/** The last local date a request may name in this zone. */
export function lastAllowedDate(now: DateTime, zone: string): string {
  return now.setZone(zone).plus({ days: MAX_DAYS_AHEAD }).toISODate()!;
}

/** A local date (`YYYY-MM-DD`, already well-formed) at most {@link MAX_DAYS_AHEAD} days after today in the zone; else 400 naming `field`. */
export function requireLocalDateWithinHorizon(field: string, value: string, now: DateTime, zone: string): void {
  const last = lastAllowedDate(now, zone);
  if (value > last)
    throw new ValidationFailedError([
      { field, message: `${field} must be at most ${MAX_DAYS_AHEAD} days ahead (on or before ${last})` },
    ]);
}

/** An instant at most {@link MAX_DAYS_AHEAD} days after now; else 400 naming `field`. */
export function requireInstantWithinHorizon(field: string, value: DateTime, now: DateTime): void {
  if (value > now.plus({ days: MAX_DAYS_AHEAD }))
    throw new ValidationFailedError([{ field, message: `${field} must be at most ${MAX_DAYS_AHEAD} days ahead` }]);
}
