/**
 * What `npm run bench:fill` measures of levelling (issue 17), from the bookings a stream left: chair
 * occupancy per weekday and local hour (and its peak-to-mean over 09:00–17:00 on weekdays), the
 * busiest 15-minute start slots, days from a request's earliest start to its first session, gaps
 * against their targets; and the occupancy drawn as a weekday × hour heat map in plain SVG (a
 * dozen rectangles and labels: written by hand, no charting dependency for one static picture).
 */
import { DateTime } from 'luxon';
import type pg from 'pg';
import { tailor } from '../src/protocols/domain/tailor.js';
import type { ProtocolStep } from '../src/protocols/domain/protocol-step.js';

export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** Average share of the chairs occupied (recovery included) per ISO weekday (1–7) and local hour (0–23). */
export interface Occupancy {
  /** share[weekday][hour], 0–1; NaN where the clinic is closed in that hour. */
  share: number[][];
  /** max ÷ mean over Monday–Friday, 09:00–17:00. */
  peakToMean: number;
}

type Interval = { weekday: number; start: string; end: string };

const minuteOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * Chair occupancy of a clinic's sessions starting in [from, to): the chair-minutes held in each
 * local weekday-hour, over the chair-minutes open in it (chairs × open minutes × open days).
 */
export async function chairOccupancy(
  db: pg.Client,
  clinicId: string,
  zone: string,
  chairs: number,
  opening: Interval[],
  closed: Set<string>,
  from: DateTime,
  to: DateTime,
): Promise<Occupancy> {
  const held = Array.from({ length: 8 }, () => new Array<number>(24).fill(0));
  const open = Array.from({ length: 8 }, () => new Array<number>(24).fill(0));
  for (let d = from.setZone(zone).startOf('day'); d < to; d = d.plus({ days: 1 })) {
    if (closed.has(d.toISODate()!)) continue;
    for (const w of opening) {
      if (w.weekday !== d.weekday) continue;
      for (let m = minuteOf(w.start); m < minuteOf(w.end); m++) open[d.weekday][Math.floor(m / 60)] += chairs;
    }
  }
  const rows = (
    await db.query(
      `SELECT extract(epoch FROM starts_at)::bigint AS s, extract(epoch FROM occupied_until)::bigint AS e
         FROM sessions WHERE clinic_id = $1 AND chair_id IS NOT NULL AND status <> 'cancelled'
          AND starts_at >= $2 AND starts_at < $3`,
      [clinicId, from.toJSDate(), to.toJSDate()],
    )
  ).rows as { s: string; e: string }[];
  for (const r of rows) {
    // Hour by hour in local time (a session never spans a clock change in opening hours here).
    let t = DateTime.fromSeconds(Number(r.s), { zone });
    const end = DateTime.fromSeconds(Number(r.e), { zone });
    while (t < end) {
      const next = DateTime.min(t.startOf('hour').plus({ hours: 1 }), end);
      held[t.weekday][t.hour] += next.diff(t, 'minutes').minutes;
      t = next;
    }
  }
  const share = held.map((row, wd) => row.map((h, hour) => (open[wd][hour] > 0 ? h / open[wd][hour] : NaN)));
  const core: number[] = [];
  for (let wd = 1; wd <= 5; wd++) for (let hour = 9; hour < 17; hour++) core.push(share[wd][hour]);
  const present = core.filter((x) => !Number.isNaN(x));
  const mean = present.reduce((a, x) => a + x, 0) / present.length;
  return { share, peakToMean: mean > 0 ? Math.max(...present) / mean : NaN };
}

/** The most infusion starts (sessions holding a chair) in one 15-minute slot: clinic-wide, and of one staff member. */
export async function busiestStartSlots(db: pg.Client, clinicId: string): Promise<{ clinic: number; nurse: number }> {
  const one = async (by: string) =>
    Number(
      (
        await db.query(
          `SELECT coalesce(max(n), 0) AS n FROM (
             SELECT count(*) AS n FROM sessions
              WHERE clinic_id = $1 AND chair_id IS NOT NULL AND status <> 'cancelled'
              GROUP BY ${by} date_bin('15 minutes', starts_at, timestamptz '2000-01-01')) x`,
          [clinicId],
        )
      ).rows[0].n,
    );
  return { clinic: await one(''), nurse: await one('staff_id,') };
}

/** Days-unit gaps of a protocol: [session ref, anchor ref, 'after' | 'before', target days]. */
export function dayGaps(steps: readonly unknown[]): [string, string, 'after' | 'before', number][] {
  const tailored = tailor(steps as ProtocolStep[], { weightKg: 80 });
  if (!tailored.ok) throw new Error(JSON.stringify(tailored.errors));
  return tailored.sessions.flatMap((s) =>
    s.constraints
      .filter((c) => c.gap.unit === 'days' && !c.sameDay)
      .map((c): [string, string, 'after' | 'before', number] => [s.ref, c.ref, c.relation, c.gap.target]),
  );
}

const dayNumber = (date: string) => Date.parse(`${date}T00:00:00Z`) / 86_400_000;

/** |gap − target| in days of each days-unit gap of a booked plan (sessions by ref with their local dates). */
export function gapDeviations(
  gaps: [string, string, 'after' | 'before', number][],
  sessions: { ref: string; localDate: string }[],
): number[] {
  const date = new Map(sessions.map((s) => [s.ref, dayNumber(s.localDate)]));
  return gaps.map(([ref, anchor, relation, target]) => {
    const gap = relation === 'after' ? date.get(ref)! - date.get(anchor)! : date.get(anchor)! - date.get(ref)!;
    return Math.abs(gap - target);
  });
}

/** Days from a request's earliest start to its plan's first session. */
export const daysToFirst = (earliestStart: string, sessions: { localDate: string }[]) =>
  Math.min(...sessions.map((s) => dayNumber(s.localDate))) - dayNumber(earliestStart);

/** White to dark blue by share ÷ scale (0–1). */
function colour(x: number): string {
  const t = Math.max(0, Math.min(1, x));
  const mix = (a: number, b: number) => Math.round(a + (b - a) * t);
  return `rgb(${mix(247, 8)},${mix(251, 48)},${mix(255, 107)})`;
}

/**
 * The occupancy as an SVG heat map: a row per weekday open at all, a column per hour open on some
 * day; each cell its share in per cent; the 09:00–17:00 weekday block (where peak-to-mean is
 * measured) outlined. `scale` is the share drawn darkest (the same for the maps compared).
 */
export function heatMapSvg(title: string, subtitle: string, occ: Occupancy, scale: number): string {
  const days = [1, 2, 3, 4, 5, 6, 7].filter((wd) => occ.share[wd].some((x) => !Number.isNaN(x)));
  const hours = Array.from({ length: 24 }, (_, h) => h).filter((h) =>
    days.some((wd) => !Number.isNaN(occ.share[wd][h])),
  );
  const cw = 44;
  const ch = 30;
  const left = 50;
  const top = 64;
  const width = Math.max(left + hours.length * cw + 20, 780);
  const height = top + days.length * ch + 70;
  const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;');
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<text x="${left}" y="42" fill="#444">${esc(subtitle)}</text>`,
  ];
  hours.forEach((h, j) =>
    out.push(
      `<text x="${left + j * cw + cw / 2}" y="${top - 6}" text-anchor="middle" fill="#444">${String(h).padStart(2, '0')}</text>`,
    ),
  );
  days.forEach((wd, i) => {
    const y = top + i * ch;
    out.push(`<text x="${left - 8}" y="${y + ch / 2 + 4}" text-anchor="end">${WEEKDAYS[wd - 1]}</text>`);
    hours.forEach((h, j) => {
      const x = left + j * cw;
      const v = occ.share[wd][h];
      if (Number.isNaN(v)) {
        out.push(`<rect x="${x}" y="${y}" width="${cw}" height="${ch}" fill="#e5e5e5" stroke="white"/>`);
        return;
      }
      const t = v / scale;
      out.push(`<rect x="${x}" y="${y}" width="${cw}" height="${ch}" fill="${colour(t)}" stroke="white"/>`);
      out.push(
        `<text x="${x + cw / 2}" y="${y + ch / 2 + 4}" text-anchor="middle" fill="${t > 0.55 ? 'white' : '#222'}">${Math.round(v * 100)}</text>`,
      );
    });
  });
  // The block peak-to-mean is measured on: Monday–Friday, 09:00–17:00.
  const j9 = hours.indexOf(9);
  const i1 = days.indexOf(1);
  const i5 = days.indexOf(5);
  if (j9 >= 0 && i1 >= 0 && i5 >= 0)
    out.push(
      `<rect x="${left + j9 * cw}" y="${top + i1 * ch}" width="${8 * cw}" height="${(i5 - i1 + 1) * ch}" fill="none" stroke="#d62728" stroke-width="2"/>`,
    );
  const ly = top + days.length * ch + 22;
  for (let k = 0; k <= 10; k++)
    out.push(`<rect x="${left + k * 22}" y="${ly}" width="22" height="12" fill="${colour(k / 10)}"/>`);
  out.push(
    `<text x="${left}" y="${ly + 28}" fill="#444">0 % … ${Math.round(scale * 100)} % of the chairs occupied on average (recovery included); grey: closed; red: Mon–Fri 09:00–17:00</text>`,
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
