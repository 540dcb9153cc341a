/**
 * `npm run bench:fill` (issue 13): a clinic filled by a seeded stream of realistic requests, booked
 * one after another through the API until they are truly infeasible.
 *
 * 1. A throwaway embedded PostgreSQL, migrated; the service as deployed (`node dist/src/main.js`).
 * 2. Two clinics, set up through the API: (a) the demo clinic's shape (4 chairs, 3 nurses with 2
 *    seats, a physician, a therapist, the demo hours and holiday closures) and (b) a 20-chair clinic
 *    (16 nurses with 2 seats, 4 physicians, 8 therapists). Both publish the demo protocol and a
 *    shorter variant (intake, 3 infusions with therapy, follow-up).
 * 3. Per clinic, a seeded stream: each request a new patient (random weekly unavailability, an
 *    unavailable date, random preferred times), the demo protocol (75 %) or the short one, an
 *    earliest start spread over 10 weeks from a Monday, a 14-day window. Each request is previewed,
 *    then booked when the preview plans. The stream ends after 25 refusals in a row or its cap.
 * 4. Every refusal is checked: asked again one day at a time across its window (a plan on any day
 *    is a false refusal), and its earliest start asked on its own (it must plan).
 * Prints a table (and appends it to bench/results.md): requests, booked, refused, false refusals,
 * SEARCH_LIMIT refusals, utilisation of chairs and of the bottleneck role over the weeks filled, and
 * preview / booking / refusal latency p50/p95 by fill (the share of the clinic's final bookings
 * already made when the request came). Bounded: every stream by count and seconds.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import pg from 'pg';
import { hashKey } from '../src/api-keys/api-keys.service.js';
import { runMigrations } from '../src/database/database-bootstrap.js';
import { ensureDatabase, startEmbeddedPostgres, withDatabase } from '../src/database/embedded-postgres.js';
import { DEMO_START_LIMITS } from '../src/seed/demo-seed.js';
import { KETAMINE_PROTOCOL } from '../src/seed/demo-protocol.js';
import {
  busiestStartSlots,
  chairOccupancy,
  dayGaps,
  daysToFirst,
  gapDeviations,
  heatMapSvg,
  type Occupancy,
} from './levelling-metrics.js';
import { percentile } from './load.js';
import { mulberry32 } from '../src/seed/random.js';
import { PROJECT_ROOT, startService, type RunningService } from './service.js';

const ZONE = 'America/New_York';
// FILL_SEED, FILL_ONLY (0: demo shape, 1: 20 chairs) and FILL_CAP (requests per clinic) narrow a run;
// FILL_PREFERRED=0 drops the patients' preferred times.
const SEED = Number(process.env.FILL_SEED ?? 13);
const WINDOW = 14;
const SPREAD_DAYS = 70;
const STOP_AFTER_REFUSALS = 25;
// Per stream (a shape with levelling off or on): generous, so that a loaded machine never cuts one
// mode's stream shorter than the other's.
const SECONDS_PER_CLINIC = 600;
const MODES = ['off', 'balanced'] as const;
type Levelling = (typeof MODES)[number];
const TARGET = { previewP95: 10, refusalP95: 20 };

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies of many shapes, read field by field
type Json = Record<string, any>;
type Interval = { weekday: number; start: string; end: string };
const weekly = (days: number[], start: string, end: string): Interval[] =>
  days.map((weekday) => ({ weekday, start, end }));
const MON_FRI = [1, 2, 3, 4, 5];
const log = (line: string) => process.stderr.write(`[fill ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const ms = (x: number) => (Number.isNaN(x) ? '–' : x < 10 ? x.toFixed(2) : x.toFixed(1));
const addDays = (date: string, n: number) => DateTime.fromISO(date, { zone: 'utc' }).plus({ days: n }).toISODate()!;

interface Shape {
  name: string;
  /** For file names. */
  slug: string;
  chairs: number;
  /** Start staggering, as the clinic is set up (the demo clinic's: 2 per quarter hour, 1 per nurse). */
  limits: { maxStartsPerSlot: number; maxStartsPerNursePerSlot: number };
  opening: Interval[];
  staff: { role: string; name: string; availability: Interval[]; max: number }[];
  closures: { date: string; reason: string }[];
  cap: number;
}

const DEMO_OPENING = [...weekly(MON_FRI, '08:00', '18:00'), ...weekly([6], '09:00', '14:00')];
const SHAPES: Shape[] = [
  {
    name: 'demo shape (4 chairs, 3 nurses × 2, 1 physician, 1 therapist)',
    slug: 'demo',
    chairs: 4,
    limits: DEMO_START_LIMITS,
    opening: DEMO_OPENING,
    staff: [
      { role: 'nurse', name: 'Nurse 1', availability: DEMO_OPENING, max: 2 },
      { role: 'nurse', name: 'Nurse 2', availability: weekly(MON_FRI, '08:00', '18:00'), max: 2 },
      {
        role: 'nurse',
        name: 'Nurse 3',
        availability: [...weekly([2, 3, 4, 5], '10:00', '18:00'), ...weekly([6], '09:00', '14:00')],
        max: 2,
      },
      { role: 'physician', name: 'Physician', availability: weekly(MON_FRI, '09:00', '17:00'), max: 1 },
      {
        role: 'therapist',
        name: 'Therapist',
        availability: [...weekly(MON_FRI, '09:00', '18:00'), ...weekly([6], '09:00', '13:00')],
        max: 1,
      },
    ],
    closures: [
      { date: '2026-12-24', reason: 'Christmas Eve' },
      { date: '2026-12-25', reason: 'Christmas Day' },
      { date: '2027-01-01', reason: "New Year's Day" },
    ],
    cap: 300,
  },
  {
    name: '20 chairs (16 nurses × 2, 4 physicians, 8 therapists)',
    slug: '20-chairs',
    chairs: 20,
    // One start per quarter hour for every four chairs, one per nurse.
    limits: { maxStartsPerSlot: 5, maxStartsPerNursePerSlot: 1 },
    opening: [...weekly(MON_FRI, '07:00', '19:00'), ...weekly([6], '08:00', '14:00')],
    staff: [
      ...Array.from({ length: 16 }, (_, i) => ({
        role: 'nurse',
        name: `Nurse ${i + 1}`,
        availability: [...weekly(MON_FRI, '07:00', '19:00'), ...weekly([6], '08:00', '14:00')],
        max: 2,
      })),
      ...Array.from({ length: 4 }, (_, i) => ({
        role: 'physician',
        name: `Physician ${i + 1}`,
        availability: weekly(MON_FRI, '08:00', '17:00'),
        max: 1,
      })),
      ...Array.from({ length: 8 }, (_, i) => ({
        role: 'therapist',
        name: `Therapist ${i + 1}`,
        availability: [...weekly(MON_FRI, '08:00', '19:00'), ...weekly([6], '08:00', '14:00')],
        max: 1,
      })),
    ],
    closures: [
      { date: '2026-12-25', reason: 'Christmas Day' },
      { date: '2027-01-01', reason: "New Year's Day" },
    ],
    cap: 900,
  },
];

/** The demo protocol shortened: intake, three infusions each with its therapy, the follow-up. */
const SHORT_STEPS = (() => {
  const steps = structuredClone(KETAMINE_PROTOCOL.steps) as Json[];
  const { repeatMin: _min, repeatMax: _max, ...infusion } = steps[1];
  return [steps[0], { ...infusion, repeat: 3 }, steps[2], steps[3]];
})();

/**
 * The client: node:http over one kept-alive connection, the leanest client Node has (fetch adds
 * about 0.3–0.5 ms per request on this machine, counted in every latency below otherwise).
 */
class Api {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  constructor(readonly base: string) {}
  close(): void {
    this.agent.destroy();
  }
  async call(
    method: string,
    p: string,
    key: string,
    body?: unknown,
  ): Promise<{ status: number; body: Json; ms: number; server: Record<string, number> }> {
    const t0 = performance.now();
    const data = body === undefined ? undefined : JSON.stringify(body);
    const res = await new Promise<{ status: number; text: string; timing: string }>((resolve, reject) => {
      const req = http.request(
        `${this.base}${p}`,
        {
          method,
          agent: this.agent,
          headers: {
            authorization: `Bearer ${key}`,
            ...(data === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) }),
          },
        },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (c: Buffer) => chunks.push(c));
          answer.on('end', () =>
            resolve({
              status: answer.statusCode ?? 0,
              text: Buffer.concat(chunks).toString('utf8'),
              timing: String(answer.headers['server-timing'] ?? ''),
            }),
          );
          answer.on('error', reject);
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${p}: no answer in 30 s`)));
      req.on('error', reject);
      req.end(data);
    });
    const elapsed = performance.now() - t0;
    const server: Record<string, number> = {};
    for (const part of res.timing.split(',')) {
      const m = /^\s*([\w-]+);dur=([\d.]+)/.exec(part);
      if (m) server[m[1]] = Number(m[2]);
    }
    return { status: res.status, body: res.text ? (JSON.parse(res.text) as Json) : {}, ms: elapsed, server };
  }
  async ok(method: string, p: string, key: string, body?: unknown): Promise<Json> {
    const r = await this.call(method, p, key, body);
    if (r.status >= 300)
      throw new Error(`${method} ${p} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 400)}`);
    return r.body;
  }
}

interface Keys {
  clinicId: string;
  admin: string;
  clinician: string;
  frontDesk: string;
}

async function createClinic(db: pg.Client, api: Api, shape: Shape): Promise<Keys & { protocols: string[] }> {
  const clinicId = randomUUID();
  await db.query(`INSERT INTO clinics (id, name, timezone, opening_hours) VALUES ($1, $2, $3, $4)`, [
    clinicId,
    shape.name.slice(0, 60),
    ZONE,
    JSON.stringify(shape.opening),
  ]);
  const keys: Keys = { clinicId, admin: '', clinician: '', frontDesk: '' };
  for (const [field, role] of [
    ['admin', 'admin'],
    ['clinician', 'clinician'],
    ['frontDesk', 'front_desk'],
  ] as const) {
    const key = `cs_fill_${role}_${randomUUID().replaceAll('-', '')}`;
    await db.query(`INSERT INTO api_keys (clinic_id, name, role, key_prefix, key_hash) VALUES ($1, $2, $3, $4, $5)`, [
      clinicId,
      `fill ${role}`,
      role,
      key.slice(0, 10),
      hashKey(key),
    ]);
    keys[field] = key;
  }
  for (let i = 1; i <= shape.chairs; i++)
    await api.ok('POST', `/v1/clinics/${clinicId}/chairs`, keys.admin, { name: `Chair ${i}` });
  for (const s of shape.staff)
    await api.ok('POST', `/v1/clinics/${clinicId}/staff`, keys.admin, {
      name: s.name,
      role: s.role,
      availability: s.availability,
      maxConcurrentPatients: s.max,
    });
  for (const c of shape.closures)
    await api.ok('POST', `/v1/clinics/${clinicId}/closures`, keys.admin, { startDate: c.date, reason: c.reason });
  const protocols: string[] = [];
  for (const [name, steps] of [
    [KETAMINE_PROTOCOL.name, KETAMINE_PROTOCOL.steps],
    ['Short series', SHORT_STEPS],
  ] as const) {
    const created = await api.ok('POST', '/v1/protocols', keys.clinician, {
      name,
      indication: KETAMINE_PROTOCOL.indication,
      description: KETAMINE_PROTOCOL.description,
      steps,
    });
    await api.ok('POST', `/v1/protocols/${created.id}/publish`, keys.clinician);
    protocols.push(created.id as string);
  }
  return { ...keys, protocols };
}

/** A new patient with random weekly unavailability, maybe an unavailable date, random preferred times. */
function patientBody(rand: () => number, n: number, start: string): Json {
  const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;
  const unavailable: Interval[] = [];
  if (rand() < 0.5) {
    const from = 8 + Math.floor(rand() * 8);
    unavailable.push({
      weekday: 1 + Math.floor(rand() * 6),
      start: hh(from),
      end: hh(from + 2 + Math.floor(rand() * 3)),
    });
  }
  const unavailableDates = rand() < 0.3 ? [addDays(start, Math.floor(rand() * SPREAD_DAYS))] : [];
  const preferredTimes: Interval[] = [];
  const pref = rand();
  // FILL_PREFERRED=0: the same stream without preferred times (what they cost levelling).
  if (process.env.FILL_PREFERRED === '0') void pref;
  else if (pref < 0.3) preferredTimes.push(...weekly(MON_FRI, '09:00', '12:00'));
  else if (pref < 0.55) preferredTimes.push(...weekly(MON_FRI, '13:00', '17:00'));
  return {
    fullName: `Fill patient ${n}`,
    dateOfBirth: '1980-01-01',
    weightKg: 50 + Math.round(rand() * 50),
    unavailable,
    unavailableDates,
    preferredTimes,
  };
}

interface Sample {
  /** Bookings made before this request. */
  before: number;
  kind: 'preview' | 'booking' | 'refusal';
  ms: number;
  /** The service's own Server-Timing entries (ms by name, `total` included). */
  server: Record<string, number>;
}

interface Outcome {
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

async function fill(db: pg.Client, api: Api, shape: Shape, start: string, levelling: Levelling): Promise<Outcome> {
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
async function utilisation(
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

const BANDS: [string, number, number][] = [
  ['0–25 %', 0, 0.25],
  ['25–50 %', 0.25, 0.5],
  ['50–75 %', 0.5, 0.75],
  ['75–90 %', 0.75, 0.9],
  ['90–100 %', 0.9, 1.01],
];

function latencyRows(o: Outcome): string[] {
  const rows: string[] = [];
  const cell = (xs: number[]) =>
    xs.length ? `${ms(percentile(xs, 50))} / ${ms(percentile(xs, 95))} (n=${xs.length})` : '–';
  for (const [band, lo, hi] of BANDS) {
    const of = (kind: Sample['kind']) =>
      o.samples
        .filter(
          (s) => s.kind === kind && s.before / Math.max(o.booked, 1) >= lo && s.before / Math.max(o.booked, 1) < hi,
        )
        .map((s) => s.ms);
    rows.push(`| ${o.label} | ${band} | ${cell(of('preview'))} | ${cell(of('booking'))} | ${cell(of('refusal'))} |`);
  }
  const all = (kind: Sample['kind']) => o.samples.filter((s) => s.kind === kind).map((s) => s.ms);
  rows.push(`| ${o.label} | all | ${cell(all('preview'))} | ${cell(all('booking'))} | ${cell(all('refusal'))} |`);
  return rows;
}

const PHASES = ['auth', 'reads', 'cache', 'bookings', 'engine', 'bookings-ahead', 'earliest', 'audit', 'total'];

/** Where the time goes: per kind, the p50 (p95) of each Server-Timing entry the service reported. */
function phaseRows(o: Outcome): string[] {
  return (['preview', 'booking', 'refusal'] as const).flatMap((kind) => {
    const of = o.samples.filter((s) => s.kind === kind);
    if (of.length === 0) return [];
    const cell = (xs: number[]) => (xs.length ? `${ms(percentile(xs, 50))} (${ms(percentile(xs, 95))})` : '–');
    const phase = (name: string) => of.map((s) => s.server[name]).filter((x): x is number => x !== undefined);
    return [
      `| ${o.label} | ${kind} | ${cell(of.map((s) => s.ms))} | ${PHASES.map((p) => cell(phase(p))).join(' | ')} |`,
    ];
  });
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** Median and p90 (type 7) of a list, in days. */
function quantiles(xs: number[]): string {
  if (xs.length === 0) return '–';
  const sorted = [...xs].sort((a, b) => a - b);
  const q = (p: number) => {
    const h = (sorted.length - 1) * p;
    const lo = Math.floor(h);
    return sorted[lo] + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? sorted[lo]) - sorted[lo]);
  };
  return `${q(0.5).toFixed(1)} / ${q(0.9).toFixed(1)}`;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, x) => a + x, 0) / xs.length : NaN);

/**
 * Levelling off and on side by side, per shape: the table, the heat maps (SVG files next to
 * results.md, linked), and the targets of issue 17 checked.
 */
function levellingSection(outcomes: Outcome[]): string[] {
  const lines: string[] = [
    '### Levelling off and on, the same stream (issue 17)',
    '',
    'Each shape is filled twice by the same seeded stream: a clinic with levelling off, then its twin with `levelling: "balanced"`; both with start',
    'staggering set (the demo clinic: 2 infusion starts per quarter hour, 1 per nurse; 20 chairs: 5 and 1). Occupancy: chair-minutes held (recovery',
    'included) ÷ chair-minutes open, per weekday and local hour over the 10 weeks; peak-to-mean over Monday–Friday 09:00–17:00.',
    "Days to first session: from the request's earliest start to its plan's first session. Gap deviation: |gap − target| in days over every day-unit gap of every booked plan.",
    '',
    '| clinic | levelling | booked | chair use at the first true refusal | bottleneck use at the first true refusal | chair use at the end | bottleneck use at the end | peak-to-mean chair occupancy, Mon–Fri 09–17 | most infusion starts in a quarter hour: clinic / one nurse (limit) | days to first session: median / p90 | mean \\|gap − target\\| (days) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const o of outcomes) {
    const first = o.atFirstRefusal;
    lines.push(
      `| ${o.shape.name} | ${o.levelling} | ${o.booked} of ${o.requests} | ${first ? pct(first.chairUse) : '– (none)'} | ${first ? `${first.bottleneck.role} ${pct(first.bottleneck.use)}` : '–'} | ${pct(o.chairUse)} | ${o.bottleneck.role} ${pct(o.bottleneck.use)} | ${o.occupancy.peakToMean.toFixed(2)} | ${o.busiest.clinic} / ${o.busiest.nurse} (${o.shape.limits.maxStartsPerSlot} / ${o.shape.limits.maxStartsPerNursePerSlot}) | ${quantiles(o.daysToFirst)} | ${mean(o.gapOff).toFixed(2)} |`,
    );
  }
  lines.push('');
  const shapes = [...new Set(outcomes.map((o) => o.shape))];
  for (const shape of shapes) {
    const off = outcomes.find((o) => o.shape === shape && o.levelling === 'off');
    const on = outcomes.find((o) => o.shape === shape && o.levelling === 'balanced');
    if (!off || !on) continue;
    // One colour scale for both maps of a shape, so that they compare at a glance.
    const scale = Math.max(0.05, ...[off, on].flatMap((o) => o.occupancy.share.flat().filter((x) => !Number.isNaN(x))));
    const links: string[] = [];
    for (const o of [off, on]) {
      const file = `fill-occupancy-${shape.slug}-${o.levelling}.svg`;
      writeFileSync(
        path.join(PROJECT_ROOT, 'bench', file),
        heatMapSvg(
          `${shape.name}: levelling ${o.levelling}`,
          `chair occupancy % by weekday and hour, ${o.booked} series booked; peak-to-mean Mon–Fri 09–17: ${o.occupancy.peakToMean.toFixed(2)}`,
          o.occupancy,
          scale,
        ),
      );
      links.push(`![${shape.name}, levelling ${o.levelling}](${file})`);
    }
    lines.push(`${shape.name}, occupancy by weekday × hour (off, then balanced):`, '', ...links, '');
    const first = (o: Outcome) => o.atFirstRefusal?.chairUse ?? o.chairUse;
    const firstRole = (o: Outcome) => o.atFirstRefusal?.bottleneck.use ?? o.bottleneck.use;
    const median = (o: Outcome) => Number(quantiles(o.daysToFirst).split(' / ')[0]);
    const check = (ok: boolean, what: string) => `${ok ? 'met' : '**not met**'}: ${what}`;
    lines.push(
      `Targets for ${shape.name}:`,
      `- ${check(first(on) >= first(off) && firstRole(on) >= firstRole(off), `utilisation at the first true refusal with levelling ≥ without (chairs ${pct(first(on))} vs ${pct(first(off))}, bottleneck ${pct(firstRole(on))} vs ${pct(firstRole(off))})`)}`,
      `- ${check(on.occupancy.peakToMean <= 1.25, `peak-to-mean chair occupancy ≤ 1.25 with levelling (${on.occupancy.peakToMean.toFixed(2)}; off ${off.occupancy.peakToMean.toFixed(2)})`)}`,
      `- ${check(
        [off, on].every(
          (o) =>
            o.busiest.clinic <= shape.limits.maxStartsPerSlot &&
            o.busiest.nurse <= shape.limits.maxStartsPerNursePerSlot,
        ),
        `no quarter hour over the stagger limit (busiest: off ${off.busiest.clinic} / ${off.busiest.nurse}, balanced ${on.busiest.clinic} / ${on.busiest.nurse})`,
      )}`,
      `- ${check(median(on) <= median(off) + 1, `median days to first session at most 1 day more than off (${median(on).toFixed(1)} vs ${median(off).toFixed(1)})`)}`,
      '',
    );
  }
  return lines;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chairside-fill-'));
  const cluster = await startEmbeddedPostgres(path.join(dir, 'pg'), { persistent: false });
  let service: RunningService | undefined;
  let api: Api | undefined;
  const db = new pg.Client({ connectionString: withDatabase(cluster.adminUrl, 'bench_fill') });
  try {
    await ensureDatabase(cluster.adminUrl, 'bench_fill');
    const url = withDatabase(cluster.adminUrl, 'bench_fill');
    await runMigrations(url);
    await db.connect();
    service = await startService(url);
    api = new Api(service.base);
    // A Monday at least 11 days ahead: the stream's first earliest start.
    let start = DateTime.now().setZone(ZONE).startOf('day').plus({ days: 11 });
    while (start.weekday !== 1) start = start.plus({ days: 1 });
    const outcomes: Outcome[] = [];
    for (const shape of SHAPES.filter(
      (_, i) => process.env.FILL_ONLY === undefined || String(i) === process.env.FILL_ONLY,
    )) {
      // The same seeded stream twice: a clinic with levelling off, then a twin with it on.
      for (const levelling of MODES) {
        log(`filling ${shape.name}, levelling ${levelling}, from ${start.toISODate()} (seed ${SEED})`);
        const o = await fill(db, api, shape, start.toISODate()!, levelling);
        log(
          `${o.label}: ${o.requests} requests, ${o.booked} booked, ${o.refused} refused, ${o.falseRefusals} false, in ${o.seconds.toFixed(0)} s`,
        );
        outcomes.push(o);
      }
    }
    const levelling = levellingSection(outcomes);
    const p95 = (kind: Sample['kind']) =>
      Math.max(
        0,
        ...outcomes
          .map((o) =>
            percentile(
              o.samples.filter((s) => s.kind === kind).map((s) => s.ms),
              95,
            ),
          )
          .filter((x) => !Number.isNaN(x)),
      );
    const lines = [
      `## Fill benchmark (npm run bench:fill)`,
      '',
      `${new Date().toUTCString()} · ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}) · load average ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(
          ' ',
        )} at the end · Node ${process.version} · seed ${SEED} · whole run ${((performance.now() - t0) / 1000).toFixed(0)} s`,
      '',
      `Requests: a new patient each (random weekly unavailability, unavailable date, preferred times), the demo protocol (75 %) or a short variant,`,
      `earliest start spread over ${SPREAD_DAYS / 7} weeks from ${start.toISODate()}, ${WINDOW}-day window; previewed, then booked when it plans; the service and this client share the machine.`,
      `A refusal is false when asking its request again one day at a time across its window finds a plan. Utilisation: hours held (recovery included) ÷ hours open`,
      `(chairs) or seat-hours available (staff) over the ${SPREAD_DAYS / 7} weeks. Latency: p50 / p95 in ms by fill (bookings made before the request ÷ the clinic's final bookings).`,
      '',
      '| clinic | requests | booked | refused | false refusals | wrong earliest start | SEARCH_LIMIT | chair use | bottleneck role use | stopped by |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...outcomes.map(
        (o) =>
          `| ${o.label} | ${o.requests} | ${o.booked} | ${o.refused} | ${o.falseRefusals} | ${o.wrongEarliest} | ${o.searchLimit} | ${(o.chairUse * 100).toFixed(1)} % | ${o.bottleneck.role} ${(o.bottleneck.use * 100).toFixed(1)} % | ${o.stoppedBy} |`,
      ),
      '',
      '| clinic | fill | preview p50 / p95 | booking p50 / p95 | refusal p50 / p95 |',
      '| --- | --- | --- | --- | --- |',
      ...outcomes.flatMap(latencyRows),
      '',
      "Where the time goes (the service's Server-Timing, p50 (p95) in ms; `audit` overlaps the engine, `total` is the service's own):",
      '',
      `| clinic | kind | client | ${PHASES.join(' | ')} |`,
      `| --- | --- | --- | ${PHASES.map(() => '---').join(' | ')} |`,
      ...outcomes.flatMap(phaseRows),
      '',
      ...levelling,
      `Targets: preview p95 ≤ ${TARGET.previewP95} ms (${ms(p95('preview'))} ms: ${p95('preview') <= TARGET.previewP95 ? 'met' : '**not met**'}), refusal p95 ≤ ${TARGET.refusalP95} ms (${ms(p95('refusal'))} ms: ${p95('refusal') <= TARGET.refusalP95 ? 'met' : '**not met**'}); false refusals 0 (${outcomes.reduce((a, o) => a + o.falseRefusals, 0)}).`,
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    appendFileSync(path.join(PROJECT_ROOT, 'bench', 'results.md'), `\n${lines.join('\n')}`);
  } finally {
    await db.end().catch(() => undefined);
    api?.close();
    await service?.stop();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
