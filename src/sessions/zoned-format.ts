import { DateTime, Info, type Zone } from 'luxon';
import { Lru } from '../scheduling/engine/lru.js';

/** An instant as the clinic reads it: ISO 8601 with the zone's offset, and the local date and time. */
export interface ZonedInstant {
  /** e.g. `2026-12-01T09:00:00-05:00` (milliseconds only when there are some), as luxon's `toISO({ suppressMilliseconds: true })`. */
  iso: string;
  /** `YYYY-MM-DD` */
  date: string;
  /** `HH:mm` */
  time: string;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));
/** luxon's zone per IANA name (null: one luxon cannot serve offsets for). */
const ZONES = new Lru<string, Zone | null>('zoned-format.zones', 1_000);
const HOUR = 3_600_000;
/** Per `<zone>|<epoch hour number>`: the offset throughout that hour, or NaN when it changes within it. */
const HOURLY_OFFSETS = new Lru<string, number>('zoned-format.hourly-offsets', 100_000);

/** The zone's offset at an instant; luxon asks Intl once per zone and hour, not once per instant. */
function offsetAt(z: Zone, epochMs: number): number {
  const hour = Math.floor(epochMs / HOUR);
  const key = `${z.name}|${hour}`;
  let o = HOURLY_OFFSETS.get(key);
  if (o === undefined) {
    const first = z.offset(hour * HOUR);
    o = first === z.offset(hour * HOUR + HOUR - 1) ? first : NaN;
    HOURLY_OFFSETS.set(key, o);
  }
  return Number.isNaN(o) ? z.offset(epochMs) : o;
}

/** luxon's zone for an IANA name it can serve offsets for; null to leave the formatting to luxon. */
function ianaZone(name: string): Zone | null {
  let z = ZONES.get(name);
  if (z === undefined) {
    const normalized = Info.normalizeZone(name);
    z = normalized.type === 'iana' && normalized.isValid ? normalized : null;
    ZONES.set(name, z);
  }
  return z;
}

/** The same, formatted by luxon itself. */
function viaLuxon(epochMs: number, zone: string): ZonedInstant {
  const dt = DateTime.fromMillis(epochMs, { zone });
  return { iso: dt.toISO({ suppressMilliseconds: true })!, date: dt.toISODate()!, time: dt.toFormat('HH:mm') };
}

/**
 * Formats an instant in a zone. luxon gives the zone's offset at that instant (asked once per
 * hour: no zone changes its offset twice within an hour); the wall-clock
 * digits are then written from the offset-shifted epoch, which is several times cheaper than a
 * DateTime per field (a day sheet formats five instants per session). Equal to luxon's own output
 * for every IANA zone (a property test checks it across DST changes); other zones go through luxon.
 */
export function zonedInstant(epochMs: number, zone: string): ZonedInstant {
  const z = ianaZone(zone);
  if (!z || !Number.isFinite(epochMs) || Math.abs(epochMs) > 8.64e15) {
    return viaLuxon(epochMs, zone);
  }
  const offset = offsetAt(z, epochMs); // minutes east of UTC
  const wall = new Date(epochMs + offset * 60_000); // only read through its UTC fields: the local wall clock
  const y = wall.getUTCFullYear();
  // Local mean times before standard time had offsets in seconds; years outside 1–9999 print differently.
  if (!Number.isInteger(offset) || y < 1 || y > 9999) {
    return viaLuxon(epochMs, zone);
  }
  const date = `${String(y).padStart(4, '0')}-${pad2(wall.getUTCMonth() + 1)}-${pad2(wall.getUTCDate())}`;
  const time = `${pad2(wall.getUTCHours())}:${pad2(wall.getUTCMinutes())}`;
  const ms = wall.getUTCMilliseconds();
  const abs = Math.abs(offset);
  const off = `${offset < 0 ? '-' : '+'}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
  return {
    iso: `${date}T${time}:${pad2(wall.getUTCSeconds())}${ms ? `.${String(ms).padStart(3, '0')}` : ''}${off}`,
    date,
    time,
  };
}
