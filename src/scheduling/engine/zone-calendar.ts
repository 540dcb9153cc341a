import { DateTime, IANAZone } from 'luxon';
import { Lru } from './lru.js';

/** One local calendar day in a zone, with what integer arithmetic needs. */
export interface LocalDay {
  /** YYYY-MM-DD */
  date: string;
  /** ISO weekday, 1 = Monday … 7 = Sunday. */
  weekday: number;
  /** The local date's midnight read as if it were UTC, in epoch minutes (wall-clock origin). */
  wallOrigin: number;
  /**
   * UTC offset (minutes) in force before anything can change on this day (at noon the day
   * before) and after (at noon the day after). Equal on all but transition days.
   */
  offStart: number;
  offEnd: number;
  /** The day's first instant, in epoch minutes. */
  startMinute: number;
  /**
   * On a transition day, the first instant (epoch minutes) under `offEnd`: before it the offset is
   * `offStart`. One look-up per transition day instead of one luxon (Intl) call per time asked.
   */
  switchMinute: number;
}

/** Local days of every zone, keyed `<zone>|<day number of the local date>` (days since 1970-01-01). */
const DAY_CACHE = new Lru<string, LocalDay>('zone-calendar.days', 200_000);

const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/** YYYY-MM-DD of a day number (days since 1970-01-01), by integer civil-calendar arithmetic. */
function isoDateOfDay(dayNumber: number): string {
  // Howard Hinnant's civil_from_days.
  const z = dayNumber + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${String(y).padStart(4, '0')}-${pad2(m)}-${pad2(d)}`;
}

function computeDay(zone: IANAZone, date: string): LocalDay {
  const [y, m, d] = date.split('-').map(Number);
  const wallOrigin = Date.UTC(y, m - 1, d) / 60000;
  const offStart = zone.offset((wallOrigin - 720 - zone.offset((wallOrigin - 720) * 60000)) * 60000);
  const offEnd = zone.offset((wallOrigin + 2160 - zone.offset((wallOrigin + 2160) * 60000)) * 60000);
  const weekday = ((new Date(wallOrigin * 60000).getUTCDay() + 6) % 7) + 1;
  // The first instant at which the clock reads this date's 00:00; if clocks skip midnight, the
  // instant they jump (when they go back at midnight, 00:00 is read under the new offset).
  const readsMidnight = [wallOrigin - offStart, wallOrigin - offEnd].filter(
    (u) => wallOrigin - u === zone.offset(u * 60000),
  );
  let startMinute: number;
  if (readsMidnight.length) startMinute = Math.min(...readsMidnight);
  else {
    let lo = wallOrigin - Math.max(offStart, offEnd);
    let hi = wallOrigin - Math.min(offStart, offEnd);
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (zone.offset(mid * 60000) === offEnd) hi = mid;
      else lo = mid + 1;
    }
    startMinute = lo;
  }
  // Between noon the day before and noon the day after, the offset changes at most once.
  let switchMinute = wallOrigin - offStart - 720;
  if (offStart !== offEnd) {
    let lo = wallOrigin - 720 - offStart;
    let hi = wallOrigin + 2160 - offEnd;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (zone.offset(mid * 60000) === offEnd) hi = mid;
      else lo = mid + 1;
    }
    switchMinute = lo;
  }
  return { date, weekday, wallOrigin, offStart, offEnd, startMinute, switchMinute };
}

/**
 * A zone's local days over a horizon, computed once per day (and cached per zone and date
 * across requests) so that everything else is integer minute arithmetic: luxon's Intl-based
 * offset look-up is by far the most expensive step otherwise.
 *
 * Local times that do not exist (skipped when clocks go forward) resolve to `null` in
 * `toEpoch` and are never offered as starts; as the bound of an interval they mean the first
 * instant after the gap. Local times that happen twice (clocks go back) resolve to their first
 * occurrence. Transitions at midnight and by 30 minutes are handled the same way.
 */
export class ZoneCalendar {
  readonly days: LocalDay[];
  /** The first instant after the last day. */
  readonly endMinute: number;
  private readonly zone: IANAZone;

  constructor(
    readonly timezone: string,
    readonly firstDate: string,
    dayCount: number,
  ) {
    this.zone = IANAZone.create(timezone);
    // Dates by integer day arithmetic; luxon (Intl) only for a day's offsets, once per zone and date.
    const first = Math.round(Date.parse(`${firstDate}T00:00:00Z`) / 86_400_000);
    const all: LocalDay[] = [];
    for (let i = 0; i <= dayCount; i++) {
      const key = `${timezone}|${first + i}`;
      let day = DAY_CACHE.get(key);
      if (!day) {
        day = computeDay(this.zone, isoDateOfDay(first + i));
        DAY_CACHE.set(key, day);
      }
      all.push(day);
    }
    this.endMinute = all[dayCount].startMinute;
    this.days = all.slice(0, dayCount);
  }

  /** The offset at an instant near day `day` (from noon the day before to noon the day after). */
  private static offsetOn(day: LocalDay, epochMinute: number): number {
    return epochMinute < day.switchMinute ? day.offStart : day.offEnd;
  }

  /** The instant (epoch minutes) of local wall time `minuteOfDay` on day `i`; null if it does not exist. */
  toEpoch(i: number, minuteOfDay: number): number | null {
    const day = this.days[i];
    if (!day) return null;
    const wall = day.wallOrigin + minuteOfDay;
    if (day.offStart === day.offEnd) return wall - day.offStart;
    // A transition day: try both offsets and keep those the zone agrees with; the earlier wins.
    let best: number | null = null;
    for (const off of [day.offStart, day.offEnd]) {
      const u = wall - off;
      if (ZoneCalendar.offsetOn(day, u) === off && (best === null || u < best)) best = u;
    }
    return best;
  }

  /**
   * Like `toEpoch`, but a wall time inside a skipped gap gives the first instant after the gap
   * (a clinic "closing at 02:15" on a night when 02:00 jumps to 02:30 closes at 02:30).
   */
  toEpochOrNext(i: number, minuteOfDay: number): number {
    const exact = this.toEpoch(i, minuteOfDay);
    if (exact !== null) return exact;
    const day = this.days[i];
    const wall = day.wallOrigin + minuteOfDay;
    // The transition instant lies between the two readings; find the first minute under the new offset.
    let lo = wall - Math.max(day.offStart, day.offEnd);
    let hi = wall - Math.min(day.offStart, day.offEnd);
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (ZoneCalendar.offsetOn(day, mid) === day.offEnd) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Index of the local day containing the instant, or -1 outside the horizon. */
  dayIndexOf(epochMinute: number): number {
    if (this.days.length === 0 || epochMinute < this.days[0].startMinute || epochMinute >= this.endMinute) return -1;
    let lo = 0;
    let hi = this.days.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.days[mid].startMinute <= epochMinute) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Local wall-clock minute of the day (0–1439) of an instant on day `i`. */
  wallMinute(i: number, epochMinute: number): number {
    const day = this.days[i];
    const off = day.offStart === day.offEnd ? day.offStart : ZoneCalendar.offsetOn(day, epochMinute);
    return epochMinute + off - day.wallOrigin;
  }

  indexOfDate(date: string): number {
    const first = Date.parse(`${this.firstDate}T00:00:00Z`);
    const at = Date.parse(`${date}T00:00:00Z`);
    const i = Math.round((at - first) / 86_400_000);
    return i >= 0 && i < this.days.length && this.days[i].date === date ? i : -1;
  }

  /** ISO 8601 with the zone's offset, for output. */
  iso(epochMinute: number): string {
    return DateTime.fromMillis(epochMinute * 60000, { zone: this.timezone }).toISO({ suppressMilliseconds: true })!;
  }
}
