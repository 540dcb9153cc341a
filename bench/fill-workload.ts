/**
 * What `npm run bench:fill` fills (bench/fill.ts): its settings, the two clinic shapes, the clinic
 * set up through the API with the demo protocol and its short variant, and each request's new
 * patient (random weekly unavailability, an unavailable date, random preferred times).
 */
import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import type pg from 'pg';
import { hashKey } from '../src/api-keys/api-keys.service.js';
import { DEMO_START_LIMITS } from '../src/seed/demo-seed.js';
import { KETAMINE_PROTOCOL } from '../src/seed/demo-protocol.js';
import type { Api, Json } from './fill-client.js';

export const ZONE = 'America/New_York';
// FILL_SEED, FILL_ONLY (0: demo shape, 1: 20 chairs) and FILL_CAP (requests per clinic) narrow a run;
// FILL_PREFERRED=0 drops the patients' preferred times.
export const SEED = Number(process.env.FILL_SEED ?? 13);
export const WINDOW = 14;
export const SPREAD_DAYS = 70;
export const STOP_AFTER_REFUSALS = 25;
// Per stream (a shape with levelling off or on): generous, so that a loaded machine never cuts one
// mode's stream shorter than the other's.
export const SECONDS_PER_CLINIC = 600;
export const MODES = ['off', 'balanced'] as const;
export type Levelling = (typeof MODES)[number];
export const TARGET = { previewP95: 10, refusalP95: 20 };

export type Interval = { weekday: number; start: string; end: string };
const weekly = (days: number[], start: string, end: string): Interval[] =>
  days.map((weekday) => ({ weekday, start, end }));
const MON_FRI = [1, 2, 3, 4, 5];
export const log = (line: string) => process.stderr.write(`[fill ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
export const addDays = (date: string, n: number) =>
  DateTime.fromISO(date, { zone: 'utc' }).plus({ days: n }).toISODate()!;

export interface Shape {
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
export const SHAPES: Shape[] = [
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
export const SHORT_STEPS = (() => {
  const steps = structuredClone(KETAMINE_PROTOCOL.steps) as Json[];
  const { repeatMin: _min, repeatMax: _max, ...infusion } = steps[1];
  return [steps[0], { ...infusion, repeat: 3 }, steps[2], steps[3]];
})();

export interface Keys {
  clinicId: string;
  admin: string;
  clinician: string;
  frontDesk: string;
}

export async function createClinic(db: pg.Client, api: Api, shape: Shape): Promise<Keys & { protocols: string[] }> {
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
export function patientBody(rand: () => number, n: number, start: string): Json {
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
