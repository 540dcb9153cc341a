import { DateTime, IANAZone } from 'luxon';

/** One local calendar day in a zone, with what integer arithmetic needs. */
export interface LocalDay {
  /** YYYY-MM-DD */
  date: string;
  /** ISO weekday, 1 = Monday … 7 = Sunday. */
  weekday: number;
  /** The local date's midnight read as if it were UTC, in epoch minutes (wall-clock origin). */
  wallOrigin: number;
  /** UTC offset (minutes) at the day's first instant and at the next day's first instant. */
  offStart: number;
  offEnd: number;
  /** The day's first instant, in epoch minutes. */
  startMinute: number;
}

const dayCache = new Map<string, LocalDay>();

function computeDay(zone: string, date: string): LocalDay {
  const start = DateTime.fromISO(date, { zone }).startOf('day');
  const next = start.plus({ days: 1 }).startOf('day');
  const wallOrigin = Date.UTC(start.year, start.month - 1, start.day) / 60000;
  return { date, weekday: start.weekday, wallOrigin, offStart: start.offset, offEnd: next.offset, startMinute: start.toMillis() / 60000 };
}

/**
 * A zone's local days over a horizon, computed with luxon once per day (and cached per zone and
 * date across requests) so that everything else is integer minute arithmetic — luxon's
 * Intl-based offset look-up is by far the most expensive step otherwise.
 *
 * Local times that do not exist (the hour skipped when clocks go forward) resolve to `null` and
 * are never offered; local times that happen twice (clocks go back) resolve to their first
 * occurrence. Both cases are tested.
 */
export class ZoneCalendar {
  readonly days: LocalDay[];
  private readonly zone: IANAZone;

  constructor(
    readonly timezone: string,
    readonly firstDate: string,
    dayCount: number,
  ) {
    this.zone = IANAZone.create(timezone);
    const first = DateTime.fromISO(firstDate, { zone: 'utc' });
    this.days = [];
    for (let i = 0; i < dayCount; i++) {
      const date = first.plus({ days: i }).toISODate()!;
      const key = `${timezone}|${date}`;
      let day = dayCache.get(key);
      if (!day) {
        day = computeDay(timezone, date);
        if (dayCache.size > 200_000) dayCache.clear();
        dayCache.set(key, day);
      }
      this.days.push(day);
    }
  }

  private offsetAt(epochMinute: number): number {
    return this.zone.offset(epochMinute * 60000);
  }

  /** The instant (epoch minutes) of local wall time `minuteOfDay` on day `i`; null if it does not exist. */
  toEpoch(i: number, minuteOfDay: number): number | null {
    const day = this.days[i];
    const wall = day.wallOrigin + minuteOfDay;
    if (day.offStart === day.offEnd) return wall - day.offStart;
    // A transition day: try both offsets and keep those the zone agrees with; the earlier wins.
    let best: number | null = null;
    for (const off of [day.offStart, day.offEnd]) {
      const u = wall - off;
      if (this.offsetAt(u) === off && (best === null || u < best)) best = u;
    }
    return best;
  }

  /** Index of the local day containing the instant, or -1 outside the horizon. */
  dayIndexOf(epochMinute: number): number {
    let lo = 0;
    let hi = this.days.length - 1;
    if (hi < 0 || epochMinute < this.days[0].startMinute) return -1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.days[mid].startMinute <= epochMinute) lo = mid;
      else hi = mid - 1;
    }
    const day = this.days[lo];
    // Beyond the last day's end?
    if (lo === this.days.length - 1 && epochMinute >= day.startMinute + 25 * 60 && this.wallMinute(lo, epochMinute) >= 1440) return -1;
    return lo;
  }

  /** Local wall-clock minute of the day (0–1439) of an instant on day `i`. */
  wallMinute(i: number, epochMinute: number): number {
    const day = this.days[i];
    const off = day.offStart === day.offEnd ? day.offStart : this.offsetAt(epochMinute);
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
