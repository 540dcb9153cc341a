/**
 * The settings of `npm run bench` (bench/bench.ts): the data set's size and clinic roles, each
 * measurement's bounds, the targets, and the small helpers every part of the run shares.
 */
import { DateTime } from 'luxon';
import { percentile } from './load.js';
import { ZONE, type ClinicSpec } from './seed-layout.js';

export const CLINICS = 10;
export const PATIENTS_PER_CLINIC = 500;
export const SESSIONS_BIG = 50_000;
export const SESSIONS_PER_SERIES = 15;
/** Clinic roles in the big data set (indexes). Twins share a layout seed with their source. */
export const MEASURED = 0;
export const BOOK_1 = 1;
export const BOOK_8 = 2;
export const TWIN_1 = 3;
export const TWIN_8 = 4;
const LAYOUT_SEEDS = [101, 102, 103, 102, 103, 106, 107, 108, 109, 110];

export const LATENCY = { amount: 300, seconds: 20, warmup: 30 };
/** Rounds that alternate between the big and the small data set. */
export const ROUNDS = 3;
export const AVAILABILITY = { amount: 200, seconds: 15, warmup: 20 };
export const BOOKING = { amount: 400, seconds: 15, warmup: 16 };
/** Patients without a series added to each booking clinic and its twin. */
export const BOOKING_PATIENTS = BOOKING.amount + BOOKING.warmup + 20;

export const TARGET = { previewP95: 20, availabilityP95: 50, daySheetP95: 10, bookingRatio: 0.5, growth: 2 };

export const today = () => DateTime.now().setZone(ZONE).startOf('day');
export const day = (offset: number) => today().plus({ days: offset }).toISODate()!;
const ms = (x: number) => (Number.isNaN(x) ? '–' : x < 10 ? x.toFixed(2) : x.toFixed(1));
export const p5095 = (xs: number[]) =>
  `p50 ${ms(percentile(xs, 50))} ms · p95 ${ms(percentile(xs, 95))} ms (n=${xs.length})`;
export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
export const log = (line: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

export function specs(sessions: number): ClinicSpec[] {
  const plans = Math.round(sessions / SESSIONS_PER_SERIES / CLINICS);
  const role = (i: number) =>
    ({
      [MEASURED]: 'measured',
      [BOOK_1]: 'booking, 1 client',
      [BOOK_8]: 'booking, 8 clients',
      [TWIN_1]: 'SQL baseline, 1 client',
      [TWIN_8]: 'SQL baseline, 8 clients',
    })[i] ?? 'background';
  return LAYOUT_SEEDS.map((layoutSeed, i) => ({
    name: `Bench ${String(i + 1).padStart(2, '0')} (${role(i)})`,
    plans,
    patients: PATIENTS_PER_CLINIC,
    layoutSeed,
  }));
}
