/**
 * Micro-benchmark of the pure scheduling engine: `schedule()` for the demo series (15 sessions)
 * in a crowded clinic (20 chairs, 40 staff with seats, about 4,500 booked sessions over the
 * horizon), and `availableSlots()` over four weeks. Deterministic (seeded), no database.
 *
 *   npm run build && node dist/bench/engine-micro.js [runs]
 *
 * Prints p50/p95 per call and a digest of each result, so that two versions of the engine can be
 * compared for speed and for identical output.
 */
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { DateTime } from 'luxon';
import { tailor } from '../src/protocols/domain/tailor.js';
import {
  availableSlots,
  horizonDaysFor,
  schedule,
  type AvailabilityRequest,
} from '../src/scheduling/engine/schedule.js';
import type { BookedSession, EngineStaff, ScheduleRequest } from '../src/scheduling/engine/types.js';
import { KETAMINE_PROTOCOL } from '../src/seed/demo-protocol.js';
import { mulberry32 } from '../src/seed/random.js';
import { AVAILABILITY, CHAIRS, NURSES, OPENING, PHYSICIANS, THERAPISTS, ZONE } from './seed-layout.js';

const weekly = (days: number[], start: string, end: string) => days.map((weekday) => ({ weekday, start, end }));
const MON_FRI = [1, 2, 3, 4, 5];

/**
 * The bench's clinic (bench/seed-layout.ts: chairs, staff, hours), its bookings laid out on a grid
 * as the seed does, each cell filled with probability `density`: chair cells of two hours
 * (100 minutes used) with nurse ⌊c/2⌋ on seat c mod 2 + 1, hourly cells of physicians and
 * therapists (seat 1).
 */
export function crowdedClinic(
  seed: number,
  firstDate: string,
  days: number,
  density = 0.18,
  zone = ZONE,
): Omit<ScheduleRequest, 'patient' | 'sessions' | 'earliestStart' | 'now' | 'horizonDays'> {
  const random = mulberry32(seed);
  const chairs = Array.from({ length: CHAIRS }, (_, i) => ({ id: `chair-${i}`, name: `Chair ${i + 1}` }));
  const staff: EngineStaff[] = [];
  for (const [role, count, name] of [
    ['nurse', NURSES, 'Nurse'],
    ['physician', PHYSICIANS, 'Dr'],
    ['therapist', THERAPISTS, 'Therapist'],
  ] as const)
    for (let i = 0; i < count; i++)
      staff.push({
        id: `${role}-${i}`,
        name: `${name} ${i}`,
        role,
        availability: AVAILABILITY[role],
        maxConcurrentPatients: role === 'nurse' ? 2 : 1,
      });
  const booked: BookedSession[] = [];
  const first = DateTime.fromISO(firstDate, { zone });
  const patient = () => `patient-${Math.floor(random() * 500)}`;
  for (let d = -1; d <= days + 1; d++) {
    const date = first.plus({ days: d });
    const weekday = date.weekday;
    if (weekday === 7) continue;
    const at = (hour: number, minute = 0) => date.set({ hour, minute }).toMillis() / 60000;
    const chairHours = weekday === 6 ? [8, 10] : [8, 10, 12, 14, 16];
    for (let c = 0; c < CHAIRS; c++) {
      for (const h of chairHours) {
        if (random() >= density) continue;
        const start = at(h, random() < 0.5 ? 0 : 15);
        booked.push({
          start,
          end: start + 100,
          chairId: chairs[c].id,
          staffId: `nurse-${Math.floor(c / 2)}`,
          staffSeat: (c % 2) + 1,
          patientId: patient(),
        });
      }
    }
    if (weekday !== 6) {
      for (let p = 0; p < PHYSICIANS; p++) {
        for (let h = 8; h <= 16; h++) {
          if (random() >= density) continue;
          const start = at(h);
          booked.push({
            start,
            end: start + (random() < 0.5 ? 60 : 30),
            chairId: null,
            staffId: `physician-${p}`,
            staffSeat: 1,
            patientId: patient(),
          });
        }
      }
    }
    for (let t = 0; t < THERAPISTS; t++) {
      for (let h = 8; h <= (weekday === 6 ? 13 : 18); h++) {
        if (random() >= density) continue;
        const start = at(h);
        booked.push({
          start,
          end: start + 50,
          chairId: null,
          staffId: `therapist-${t}`,
          staffSeat: 1,
          patientId: patient(),
        });
      }
    }
  }
  return {
    timezone: zone,
    openingHours: OPENING,
    closures: [
      {
        startDate: first.plus({ days: 23 }).toISODate()!,
        endDate: first.plus({ days: 23 }).toISODate()!,
        startTime: null,
        endTime: null,
        reason: 'Holiday',
      },
    ],
    chairs,
    staff,
    booked,
  };
}

/** The booking request of the profile: the demo series for a new patient, as PlansService builds it. */
export function benchRequest(seed = 1, earliestStart = '2026-12-01', window = 14): ScheduleRequest {
  const tailored = tailor(KETAMINE_PROTOCOL.steps, { weightKg: 80 });
  if (!tailored.ok) throw new Error(JSON.stringify(tailored.errors));
  const horizonDays = horizonDaysFor(tailored.sessions, window);
  return {
    ...crowdedClinic(seed, earliestStart, horizonDays),
    patient: {
      id: 'patient-new',
      unavailable: [],
      unavailableDates: [],
      preferredTimes: weekly(MON_FRI, '09:00', '15:00'),
    },
    sessions: tailored.sessions,
    earliestStart,
    now: DateTime.fromISO('2026-11-25T10:00', { zone: ZONE }).toMillis() / 60000,
    startWindowDays: window,
    probeDays: window,
    horizonDays,
  };
}

export const digest = (x: unknown) => createHash('sha256').update(JSON.stringify(x)).digest('hex').slice(0, 16);

function time<T>(runs: number, fn: () => T): { p50: number; p95: number; result: T } {
  let result = fn();
  for (let i = 0; i < Math.min(50, runs); i++) result = fn(); // warm-up
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    result = fn();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((a, b) => a - b);
  const at = (p: number) => ms[Math.min(ms.length - 1, Math.ceil((p / 100) * ms.length) - 1)];
  return { p50: at(50), p95: at(95), result };
}

function main(): void {
  const runs = Number(process.argv[2] ?? 300);
  const req = benchRequest();
  const fmt = (x: number) => x.toFixed(3);
  const planned = time(runs, () => schedule(req));
  const kind =
    planned.result.kind === 'planned' ? `planned, ${planned.result.sessions.length} sessions` : planned.result.kind;
  console.log(`bookings: ${req.booked.length}, horizon ${req.horizonDays} days`);
  console.log(
    `schedule()        p50 ${fmt(planned.p50)} ms  p95 ${fmt(planned.p95)} ms  (${kind}, nodes ${planned.result.nodes}, digest ${digest(planned.result)})`,
  );
  // The same with the clinic's levelling on (issue 17): the days and times it tries are ordered by the chairs occupied.
  const levelled = time(runs, () => schedule({ ...req, levelling: 'balanced' }));
  console.log(
    `schedule() level  p50 ${fmt(levelled.p50)} ms  p95 ${fmt(levelled.p95)} ms  (${levelled.result.kind}, nodes ${levelled.result.nodes}, digest ${digest(levelled.result)})`,
  );
  // A refused request (a crowded start window) that probes further for an earliest start.
  const tight = {
    ...req,
    patient: {
      ...req.patient,
      unavailableDates: Array.from({ length: 30 }, (_, i) =>
        DateTime.fromISO(req.earliestStart).plus({ days: i }).toISODate()!,
      ),
    },
    probeDays: 60,
    horizonDays: req.horizonDays + 46,
  };
  const probed = time(runs, () => schedule(tight));
  console.log(
    `schedule() probe  p50 ${fmt(probed.p50)} ms  p95 ${fmt(probed.p95)} ms  (${probed.result.kind}, nodes ${probed.result.nodes}, digest ${digest(probed.result)})`,
  );
  const probedLevel = time(runs, () => schedule({ ...tight, levelling: 'balanced' }));
  console.log(
    `schedule() probe, level  p50 ${fmt(probedLevel.p50)} ms  p95 ${fmt(probedLevel.p95)} ms  (${probedLevel.result.kind}, nodes ${probedLevel.result.nodes}, digest ${digest(probedLevel.result)})`,
  );
  const avail: AvailabilityRequest = {
    ...crowdedClinic(1, req.earliestStart, 30),
    now: req.now,
    from: req.earliestStart,
    to: DateTime.fromISO(req.earliestStart).plus({ days: 27 }).toISODate()!,
    durationMinutes: 40,
    recoveryMinutes: 60,
    needsChair: true,
    staffRole: 'nurse',
  };
  const slots = time(runs, () => availableSlots(avail));
  console.log(
    `availableSlots()  p50 ${fmt(slots.p50)} ms  p95 ${fmt(slots.p95)} ms  (${slots.result.length} slots, digest ${digest(slots.result)})`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
