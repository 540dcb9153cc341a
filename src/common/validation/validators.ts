import {
  isNumber,
  registerDecorator,
  ValidateIf,
  type IsNumberOptions,
  type ValidationArguments,
  type ValidationOptions,
} from 'class-validator';
import { DateTime, IANAZone } from 'luxon';
import { ValidationFailedError } from '../errors/common.errors.js';
import type { WeeklyInterval } from '../weekly-interval.js';

const TIME_RE = /^([01]\d|2[0-3]):[0-5]\d$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const ZONE_RE = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;
const WEEKDAYS = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** Minutes since local midnight of "HH:mm" ("24:00" = 1440). */
export function minutesOfDay(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
}

/**
 * Fixes the letter case of a zone name ("america/new_york" → "America/New_York") without
 * replacing it by an alias (Asia/Kolkata stays Asia/Kolkata); anything else is returned as is.
 */
export function canonicalTimeZone(value: unknown): unknown {
  if (typeof value !== 'string' || !ZONE_RE.test(value) || !IANAZone.isValidZone(value)) return value;
  const resolved = new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
  return resolved.toLowerCase() === value.toLowerCase() ? resolved : value;
}

export function isIanaTimeZone(value: unknown): boolean {
  return typeof value === 'string' && ZONE_RE.test(value) && IANAZone.isValidZone(value);
}

/** An ISO 8601 instant that names its UTC offset (or Z) after the time. */
export const INSTANT_WITH_OFFSET = /T.*([zZ]|[+-]\d{2}:?\d{2})$/;

/** An ISO 8601 instant that carries its UTC offset (or Z); anything else is a 400 naming the field. */
export function parseInstant(
  field: string,
  value: string,
  message = `${field} must be an ISO 8601 instant with an offset, e.g. 2026-12-03T09:05:00-05:00`,
): DateTime {
  const t = DateTime.fromISO(value, { setZone: true });
  if (!t.isValid || !INSTANT_WITH_OFFSET.test(value)) throw new ValidationFailedError([{ field, message }]);
  return t;
}

export function isLocalDate(value: unknown): boolean {
  return typeof value === 'string' && DATE_RE.test(value) && DateTime.fromISO(value, { zone: 'utc' }).isValid;
}

function decorator(name: string, message: string, validate: (value: unknown, args: ValidationArguments) => boolean) {
  return (options?: ValidationOptions): PropertyDecorator =>
    (target, propertyName) =>
      registerDecorator({
        name,
        target: target.constructor,
        propertyName: String(propertyName),
        options: { message, ...options },
        validator: { validate },
      });
}

/** An IANA time zone name such as America/New_York (validated against the runtime's tz database). */
export const IsIanaTimeZone = decorator(
  'isIanaTimeZone',
  '$property must be an IANA time zone such as America/New_York',
  isIanaTimeZone,
);

/** A local wall-clock time "HH:mm" (00:00–23:59). */
export const IsLocalTime = decorator(
  'isLocalTime',
  '$property must be a local time HH:mm',
  (v) => typeof v === 'string' && TIME_RE.test(v),
);

/** An end-of-interval time "HH:mm", where "24:00" means midnight at the end of the day. */
export const IsLocalEndTime = decorator(
  'isLocalEndTime',
  '$property must be a local time HH:mm (24:00 allowed)',
  (v) => typeof v === 'string' && (TIME_RE.test(v) || v === '24:00'),
);

/** A calendar date "YYYY-MM-DD" that exists. */
export const IsLocalDate = decorator('isLocalDate', '$property must be a date YYYY-MM-DD', isLocalDate);

/** The property ("HH:mm") is later than the sibling property named `other` on the same object. */
export function IsAfterTime(other: string, options?: ValidationOptions): PropertyDecorator {
  return decorator('isAfterTime', `$property must be later than ${other}`, (value, args) => {
    const start = (args.object as Record<string, unknown>)[other];
    if (typeof value !== 'string' || typeof start !== 'string') return true; // reported by the format rules
    return minutesOfDay(value) > minutesOfDay(start);
  })(options);
}

/** Describes the first pair of intervals that overlap on the same weekday, if any. */
export function findOverlap(intervals: WeeklyInterval[]): string | undefined {
  const valid = intervals.filter(
    (i) => i && Number.isInteger(i.weekday) && typeof i.start === 'string' && typeof i.end === 'string',
  );
  const sorted = [...valid].sort((a, b) => a.weekday - b.weekday || minutesOfDay(a.start) - minutesOfDay(b.start));
  for (let k = 1; k < sorted.length; k++) {
    const a = sorted[k - 1];
    const b = sorted[k];
    if (a.weekday === b.weekday && minutesOfDay(b.start) < minutesOfDay(a.end)) {
      return `intervals overlap on ${WEEKDAYS[a.weekday] ?? a.weekday}: ${a.start}–${a.end} and ${b.start}–${b.end}`;
    }
  }
  return undefined;
}

/** An array of weekly intervals none of which overlap on the same weekday. */
export function NoOverlappingIntervals(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'noOverlappingIntervals',
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate: (value: unknown) => !Array.isArray(value) || findOverlap(value as WeeklyInterval[]) === undefined,
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property}: ${findOverlap((args?.value ?? []) as WeeklyInterval[]) ?? 'intervals overlap'}`,
      },
    });
}

/**
 * At most `n` characters as PostgreSQL counts them (code points), so that a length CHECK in the
 * database can never refuse what validation let through (validator.js skips variation selectors).
 */
export function MaxChars(n: number, options?: ValidationOptions): PropertyDecorator {
  return decorator(
    'maxChars',
    `$property must be at most ${n} characters`,
    (v) => typeof v !== 'string' || Array.from(v).length <= n,
  )(options);
}

/** Optional, but when present must not be null (for fields stored NOT NULL). */
export const IsOptionalNotNull = (options?: ValidationOptions): PropertyDecorator =>
  ValidateIf((_: object, v: unknown) => v !== undefined, options);

/** Decimal places of a number, also when JavaScript prints it in exponent form (1e-7 has 7, 1.5e-7 has 8). */
export function decimalPlaces(n: number): number {
  const [mantissa, exponent] = Math.abs(n).toString().split('e');
  return Math.max(0, (mantissa.split('.')[1]?.length ?? 0) - Number(exponent ?? 0));
}

/**
 * class-validator's IsNumber, with the same options and message, minus its crash: its own
 * maxDecimalPlaces check throws a TypeError on a number JavaScript prints in exponent form
 * (`{"weightKg": 1e-7}`, `?limit=1e-7`), which became a 500 instead of a 400.
 */
export function IsNumber(options: IsNumberOptions = {}, validationOptions?: ValidationOptions): PropertyDecorator {
  const { maxDecimalPlaces, ...rest } = options;
  return decorator(
    'isNumber',
    '$property must be a number conforming to the specified constraints',
    (v) => isNumber(v, rest) && (maxDecimalPlaces === undefined || decimalPlaces(v as number) <= maxDecimalPlaces),
  )(validationOptions);
}
