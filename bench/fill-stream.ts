/**
 * One stream of `npm run bench:fill`: a clinic set up, then filled by seeded requests, each
 * previewed and booked when it plans; every refusal checked one day at a time across its window;
 * the chair and staff utilisation and the levelling figures of what was booked.
 */
import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import type pg from 'pg';
import { KETAMINE_PROTOCOL } from '../src/seed/demo-protocol.js';
import { mulberry32 } from '../src/seed/random.js';
import type { Api } from './fill-client.js';
import {
  addDays,
  createClinic,
  log,
  patientBody,
  SECONDS_PER_CLINIC,
  SEED,
  SHORT_STEPS,
  SPREAD_DAYS,
  STOP_AFTER_REFUSALS,
  WINDOW,
  ZONE,
  type Interval,
  type Levelling,
  type Shape,
} from './fill-workload.js';
import {
  busiestStartSlots,
  chairOccupancy,
  dayGaps,
  daysToFirst,
  gapDeviations,
  type Occupancy,
} from './levelling-metrics.js';

export interface Sample {
  /** Bookings made before this request. */
  before: number;
  kind: 'preview' | 'booking' | 'refusal';
  ms: number;
  /** The service's own Server-Timing entries (ms by name, `total` included). */
  server: Record<string, number>;
}

export interface Outcome {
  shape: Shape;
  levelling: Levelling;
  /** Shape and mode, for the tables. */
  label: string;
  /** Utilisation when the first true refusal came (null: none came). */
  atFirstRefusal: { chairUse: number; bottleneck: { role: string; use: number } } | null;
  /** Per booked plan: days from its earliest start to its first session. */
  daysToFirst: number[];
  /** Per days-unit gap of every booked plan: |gap − target| in days. */
  gapOff: number[];
  occupancy: Occupancy;
  busiest: { clinic: number; nurse: number };
  requests: number;
  booked: number;
  refused: number;
  falseRefusals: number;
  wrongEarliest: number;
  searchLimit: number;
  samples: Sample[];
  chairUse: number;
  bottleneck: { role: string; use: number };
  seconds: number;
  stoppedBy: string;
}

export async function fill(
  db: pg.Client,
  api: Api,
  shape: Shape,
  start: string,
  levelling: Levelling,
): Promise<Outcome> {
  const t0 = performance.now();
  const c = await createClinic(db, api, shape);
  await api.ok('PATCH', `/v1/clinics/${c.clinicId}`, c.admin, { ...shape.limits, levelling });
  const gapsOf = new Map([
    [c.protocols[0], dayGaps(KETAMINE_PROTOCOL.steps)],
    [c.protocols[1], dayGaps(SHORT_STEPS)],
  ]);
  let atFirstRefusal: Outcome['atFirstRefusal'] = null;
  const toFirst: number[] = [];
  const gapOff: number[] = [];
  const rand = mulberry32(SEED);
  const samples: Sample[] = [];
  let booked = 0;
  let refused = 0;
  let inARow = 0;
  let falseRefusals = 0;
  let wrongEarliest = 0;
  let searchLimit = 0;
  let requests = 0;
  let stoppedBy = `${STOP_AFTER_REFUSALS} refusals in a row`;
  for (; inARow < STOP_AFTER_REFUSALS; requests++) {
    const cap = Number(process.env.FILL_CAP ?? shape.cap);
    if (requests >= cap) {
      stoppedBy = `the cap of ${cap} requests`;
      break;
    }
    if ((performance.now() - t0) / 1000 > SECONDS_PER_CLINIC) {
      stoppedBy = `${SECONDS_PER_CLINIC} s`;
      break;
    }
    const earliestStart = addDays(start, Math.floor(rand() * SPREAD_DAYS));
    const protocolId = rand() < 0.75 ? c.protocols[0] : c.protocols[1];
    const p = patientBody(rand, requests, start);
    const patientId = randomUUID();
    // Written by SQL: the stream measures planning, not patient registration.
    await db.query(
      `INSERT INTO patients (clinic_id, id, full_name, date_of_birth, weight_kg, weight_confirmed_at, unavailable, unavailable_dates, preferred_times) VALUES ($1, $2, $3, $4, $5, now(), $6, $7, $8)`,
      [
        c.clinicId,
        patientId,
        p.fullName,
        p.dateOfBirth,
        p.weightKg,
        JSON.stringify(p.unavailable),
        JSON.stringify(p.unavailableDates),
        JSON.stringify(p.preferredTimes),
      ],
    );
    if (requests % 50 === 49) log(`  ${requests + 1} requests: ${booked} booked, ${refused} refused`);
    const body = { patientId, protocolId, earliestStart, startWithinDays: WINDOW };
    const preview = await api.call('POST', '/v1/plans/preview', c.frontDesk, body);
    if (preview.status === 200) {
      samples.push({ before: booked, kind: 'preview', ms: preview.ms, server: preview.server });
      const book = await api.call('POST', '/v1/plans', c.frontDesk, body);
      if (book.status === 201) {
        samples.push({ before: booked, kind: 'booking', ms: book.ms, server: book.server });
        const sessions = book.body.sessions as { ref: string; localDate: string }[];
        toFirst.push(daysToFirst(earliestStart, sessions));
        gapOff.push(...gapDeviations(gapsOf.get(protocolId)!, sessions));
        booked++;
        inARow = 0;
        continue;
      }
      if (book.status !== 422)
        throw new Error(`booking answered ${book.status}: ${JSON.stringify(book.body).slice(0, 300)}`);
    } else if (preview.status !== 422)
      throw new Error(`preview answered ${preview.status}: ${JSON.stringify(preview.body).slice(0, 300)}`);
    samples.push({ before: booked, kind: 'refusal', ms: preview.ms, server: preview.server });
    refused++;
    inARow++;
    if (preview.body.binding?.code === 'SEARCH_LIMIT') searchLimit++;
    // A false refusal: some single first day of the window admits a plan.
    let trueRefusal = true;
    for (let d = 0; d < WINDOW; d++) {
      const one = await api.call('POST', '/v1/plans/preview', c.frontDesk, {
        ...body,
        earliestStart: addDays(earliestStart, d),
        startWithinDays: 1,
      });
      if (one.status === 200) {
        falseRefusals++;
        trueRefusal = false;
        log(`false refusal: ${earliestStart} refused, ${addDays(earliestStart, d)} plans`);
        break;
      }
    }
    if (trueRefusal && atFirstRefusal === null) atFirstRefusal = await utilisation(db, c.clinicId, shape, start);
    const named = preview.body.earliestStart as string | null;
    if (named !== null && named !== undefined) {
      const at = await api.call('POST', '/v1/plans/preview', c.frontDesk, {
        ...body,
        earliestStart: named,
        startWithinDays: 1,
      });
      if (at.status !== 200) wrongEarliest++;
    }
  }
  const use = await utilisation(db, c.clinicId, shape, start);
  const from = DateTime.fromISO(start, { zone: ZONE });
  const occupancy = await chairOccupancy(
    db,
    c.clinicId,
    ZONE,
    shape.chairs,
    shape.opening,
    new Set(shape.closures.map((x) => x.date)),
    from,
    from.plus({ days: SPREAD_DAYS }),
  );
  return {
    shape,
    levelling,
    label: `${shape.name} · levelling ${levelling}`,
    atFirstRefusal,
    daysToFirst: toFirst,
    gapOff,
    occupancy,
    busiest: await busiestStartSlots(db, c.clinicId),
    requests,
    booked,
    refused,
    falseRefusals,
    wrongEarliest,
    searchLimit,
    samples,
    ...use,
    seconds: (performance.now() - t0) / 1000,
    stoppedBy,
  };
}

/** Hours of an interval list on a date (its weekday), minus whole-day closures. */
function hoursOn(list: Interval[], date: DateTime, closed: Set<string>): number {
  if (closed.has(date.toISODate()!)) return 0;
  let h = 0;
  for (const w of list)
    if (w.weekday === date.weekday)
      h += (Date.parse(`1970-01-01T${w.end}Z`) - Date.parse(`1970-01-01T${w.start}Z`)) / 3_600_000;
  return h;
}

/** Chair-hours and staff-hours (seat-hours for nurses) used ÷ available over the weeks the stream filled. */
export async function utilisation(
  db: pg.Client,
  clinicId: string,
  shape: Shape,
  start: string,
): Promise<{ chairUse: number; bottleneck: { role: string; use: number } }> {
  const from = DateTime.fromISO(start, { zone: ZONE });
  const to = from.plus({ days: SPREAD_DAYS });
  const closed = new Set(shape.closures.map((c) => c.date));
  let chairHours = 0;
  const roleHours = new Map<string, number>();
  for (let d = from; d < to; d = d.plus({ days: 1 })) {
    chairHours += shape.chairs * hoursOn(shape.opening, d, closed);
    for (const s of shape.staff)
      roleHours.set(s.role, (roleHours.get(s.role) ?? 0) + s.max * hoursOn(s.availability, d, closed));
  }
  const rows = (
    await db.query(
      `SELECT st.role, s.chair_id IS NOT NULL AS chair, sum(extract(epoch FROM s.occupied_until - s.starts_at)) / 3600 AS hours
         FROM sessions s LEFT JOIN staff_members st ON st.clinic_id = s.clinic_id AND st.id = s.staff_id
        WHERE s.clinic_id = $1 AND s.starts_at >= $2 AND s.starts_at < $3
        GROUP BY 1, 2`,
      [clinicId, from.toJSDate(), to.toJSDate()],
    )
  ).rows as { role: string | null; chair: boolean; hours: string }[];
  let usedChair = 0;
  const usedRole = new Map<string, number>();
  for (const r of rows) {
    if (r.chair) usedChair += Number(r.hours);
    if (r.role) usedRole.set(r.role, (usedRole.get(r.role) ?? 0) + Number(r.hours));
  }
  let bottleneck = { role: '–', use: 0 };
  for (const [role, avail] of roleHours) {
    const use = (usedRole.get(role) ?? 0) / avail;
    if (use > bottleneck.use) bottleneck = { role, use };
  }
  return { chairUse: usedChair / chairHours, bottleneck };
}
