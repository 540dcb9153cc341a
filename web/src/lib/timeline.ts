import { DateTime } from 'luxon';

/** What the timeline needs of a session (the API's session view). */
export interface TimedSession {
  id: string;
  start: string;
  end: string;
  occupiedUntil: string;
}

export interface Tick {
  /** Minutes since the visible window starts. */
  at: number;
  label: string;
}

/**
 * One local day of a clinic as a horizontal axis in real elapsed minutes: a 23- or 25-hour day
 * (a DST change) is drawn as long as it is, the repeated hour twice, each tick labelled with
 * its zone abbreviation on such a day.
 */
export interface DayAxis {
  zone: string;
  date: string;
  /** Epoch milliseconds of the local day's start and of the visible window's edges. */
  dayStartMs: number;
  fromMs: number;
  toMs: number;
  /** Minutes shown. */
  span: number;
  /** Length of the local day in minutes (1380, 1440 or 1500). */
  dayMinutes: number;
  dstChange: boolean;
  ticks: Tick[];
  /** Opening hours of the day, as minutes since the window start (none when closed). */
  open: { from: number; to: number }[];
}

const MIN = 60_000;

/** The instant of a local wall-clock time on a date in a zone (a skipped time moves forward, as luxon does). */
export function localInstant(date: string, time: string, zone: string): DateTime {
  return DateTime.fromISO(`${date}T${time}`, { zone });
}

export function dayAxis(
  date: string,
  zone: string,
  hours: { start: string; end: string }[],
  sessions: readonly TimedSession[] = [],
  fallback: { start: string; end: string } = { start: '08:00', end: '18:00' },
): DayAxis {
  const dayStart = DateTime.fromISO(date, { zone }).startOf('day');
  const dayEnd = dayStart.plus({ days: 1 });
  const dayMinutes = Math.round(dayEnd.diff(dayStart, 'minutes').minutes);
  const dstChange = dayStart.offset !== dayEnd.offset;
  const openIntervals = hours.map((h) => ({
    from: localInstant(date, h.start, zone).toMillis(),
    to: h.end === '24:00' ? dayEnd.toMillis() : localInstant(date, h.end, zone).toMillis(),
  }));
  const bounds = openIntervals.length
    ? openIntervals
    : [
        {
          from: localInstant(date, fallback.start, zone).toMillis(),
          to: localInstant(date, fallback.end, zone).toMillis(),
        },
      ];
  let from = Math.min(...bounds.map((b) => b.from));
  let to = Math.max(...bounds.map((b) => b.to));
  for (const s of sessions) {
    const a = Date.parse(s.start);
    const b = Date.parse(s.occupiedUntil);
    if (a < from) from = a;
    if (b > to) to = b;
  }
  from = Math.max(dayStart.toMillis(), from);
  to = Math.min(dayEnd.toMillis(), to);
  // Whole local hours on both sides.
  const first = DateTime.fromMillis(from, { zone }).startOf('hour');
  const last = DateTime.fromMillis(to, { zone });
  const lastHour = last.startOf('hour').toMillis() === last.toMillis() ? last : last.startOf('hour').plus({ hours: 1 });
  const fromMs = first.toMillis();
  const toMs = Math.min(lastHour.toMillis(), dayEnd.toMillis());
  const ticks: Tick[] = [];
  for (let t = first; t.toMillis() <= toMs; t = t.plus({ hours: 1 })) {
    ticks.push({
      at: (t.toMillis() - fromMs) / MIN,
      label: dstChange ? `${t.toFormat('HH:mm')} ${t.offsetNameShort}` : t.toFormat('HH:mm'),
    });
  }
  return {
    zone,
    date,
    dayStartMs: dayStart.toMillis(),
    fromMs,
    toMs,
    span: (toMs - fromMs) / MIN,
    dayMinutes,
    dstChange,
    ticks,
    open: openIntervals
      .map((o) => ({ from: (Math.max(o.from, fromMs) - fromMs) / MIN, to: (Math.min(o.to, toMs) - fromMs) / MIN }))
      .filter((o) => o.to > o.from),
  };
}

/** Minutes since the axis' window start for an ISO instant. */
export function minutesOn(axis: DayAxis, iso: string): number {
  return (Date.parse(iso) - axis.fromMs) / MIN;
}

export interface Block<S extends TimedSession> {
  session: S;
  /** Minutes since the window start: start, end of treatment, end of recovery. */
  from: number;
  end: number;
  until: number;
  /** Stacked lane within its row (0 = top), for overlapping sessions (a nurse with two patients). */
  lane: number;
}

export interface Row<S extends TimedSession> {
  id: string;
  label: string;
  blocks: Block<S>[];
  lanes: number;
}

/**
 * Sessions into rows (chairs, or staff), each overlapping pair on separate lanes (first free
 * lane, by start). Sessions whose row is unknown go to `spill` rows made on demand.
 */
export function layoutRows<S extends TimedSession>(
  axis: DayAxis,
  rows: readonly { id: string; label: string }[],
  sessions: readonly S[],
  rowOf: (s: S) => { id: string; label: string } | null,
): Row<S>[] {
  const byId = new Map<string, Row<S>>();
  const out: Row<S>[] = [];
  for (const r of rows) {
    const row = { id: r.id, label: r.label, blocks: [], lanes: 1 };
    byId.set(r.id, row);
    out.push(row);
  }
  const sorted = [...sessions].sort((a, b) => Date.parse(a.start) - Date.parse(b.start) || a.id.localeCompare(b.id));
  const laneEnds = new Map<string, number[]>();
  for (const s of sorted) {
    const target = rowOf(s);
    if (!target) continue;
    let row = byId.get(target.id);
    if (!row) {
      row = { id: target.id, label: target.label, blocks: [], lanes: 1 };
      byId.set(target.id, row);
      out.push(row);
    }
    const from = minutesOn(axis, s.start);
    const until = Math.max(minutesOn(axis, s.occupiedUntil), minutesOn(axis, s.end));
    const ends = laneEnds.get(row.id) ?? [];
    let lane = ends.findIndex((e) => e <= from);
    if (lane < 0) lane = ends.length;
    ends[lane] = until;
    laneEnds.set(row.id, ends);
    row.blocks.push({ session: s, from, end: minutesOn(axis, s.end), until, lane });
    row.lanes = Math.max(row.lanes, lane + 1);
  }
  return out;
}
