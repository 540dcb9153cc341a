/**
 * The layout of the bench's data set: the clinic (chairs, staff and their hours) and where each
 * seeded series sits. bench/seed.ts writes it.
 *
 * Series are laid out on a grid so that they can never collide: an infusion or booster holds one
 * two-hour cell of a chair (100 minutes used), and chair c is always served by nurse ⌊c/2⌋ on seat
 * c mod 2 + 1, so a free chair cell is a free seat; consults hold one hourly cell of a physician,
 * therapy one hourly cell of a therapist, after its infusion the same day. Each patient has at most
 * one series. The layout is a pure function of its seed, so two clinics given the same seed hold
 * the same series at the same times on the chairs and staff of the same positions.
 */
import { DateTime } from 'luxon';
import { tailor, type SessionToPlace } from '../src/protocols/domain/tailor.js';
import type { ProtocolStep } from '../src/protocols/domain/protocol-step.js';
import { KETAMINE_PROTOCOL } from '../src/seed/demo-protocol.js';
import { mulberry32 } from '../src/seed/random.js';

export const ZONE = 'America/New_York';
export const CHAIRS = 20;
export const NURSES = 16; // two seats each; nurses 0–9 serve the chairs in the seeded series, all of them can be booked
export const PHYSICIANS = 8;
export const THERAPISTS = 16;
export const STAFF = NURSES + PHYSICIANS + THERAPISTS; // 40
/** Days before and after today that the year of series covers. */
const PAST_DAYS = 182;
const FUTURE_DAYS = 182;
/** A series runs about 50 days from its intake to its booster. */
const SERIES_DAYS = 50;

const weekly = (days: number[], start: string, end: string) => days.map((weekday) => ({ weekday, start, end }));
const MON_FRI = [1, 2, 3, 4, 5];
export const OPENING = [...weekly(MON_FRI, '07:00', '19:00'), ...weekly([6], '08:00', '14:00')];
export const AVAILABILITY = {
  nurse: [...weekly(MON_FRI, '07:00', '19:00'), ...weekly([6], '08:00', '14:00')],
  physician: weekly(MON_FRI, '08:00', '17:00'),
  therapist: [...weekly(MON_FRI, '08:00', '19:00'), ...weekly([6], '08:00', '14:00')],
};

/** Chair cells (start hours; 100 minutes used of each two) and hourly staff cells, by weekday. */
const CHAIR_HOURS = { weekday: [8, 10, 12, 14, 16], saturday: [8, 10] };
const PHYSICIAN_HOURS = [8, 9, 10, 11, 12, 13, 14, 15, 16];
const THERAPIST_LAST_HOUR = { weekday: 18, saturday: 13 };

export interface ClinicSpec {
  name: string;
  /** Series to seed. */
  plans: number;
  /** Patients, the first `plans` of whom have a series. */
  patients: number;
  /** Same seed, same layout (see above). */
  layoutSeed: number;
}

/** Local days around today in the clinic's zone; instants from local wall-clock times (DST-safe). */
export class Calendar {
  private readonly days = new Map<number, DateTime>();
  private readonly instants = new Map<number, Date>();
  constructor(private readonly today: DateTime) {}

  private day(i: number): DateTime {
    let d = this.days.get(i);
    if (!d) this.days.set(i, (d = this.today.plus({ days: i })));
    return d;
  }
  weekday(i: number): number {
    return this.day(i).weekday;
  }
  date(i: number): string {
    return this.day(i).toISODate()!;
  }
  /** Day i at hour h (local), plus `minutes`. */
  at(i: number, h: number, minutes = 0): Date {
    const key = (i * 24 + h) * 1440 + minutes;
    let t = this.instants.get(key);
    if (!t) {
      const d = this.day(i);
      t = DateTime.fromObject({ year: d.year, month: d.month, day: d.day, hour: h }, { zone: ZONE })
        .plus({ minutes })
        .toJSDate();
      this.instants.set(key, t);
    }
    return t;
  }
}

export interface SessionRow {
  planIndex: number;
  s: SessionToPlace;
  start: Date;
  end: Date;
  occupiedUntil: Date;
  chair: number | null;
  staff: number | null;
  seat: number | null;
}

export interface PlanRow {
  patient: number;
  earliestStart: string;
  sessions: SessionRow[];
}

const nurseOf = (chair: number) => ({ staff: Math.floor(chair / 2), seat: (chair % 2) + 1 });
const rotate = <T>(xs: T[], by: number): T[] => xs.map((_, i) => xs[(i + by) % xs.length]);

/** The series of one clinic: positions (chair, staff, patient indexes) and instants. */
export function layout(spec: ClinicSpec, cal: Calendar, weights: number[]): PlanRow[] {
  const rng = mulberry32(spec.layoutSeed);
  const pick = (n: number) => Math.floor(rng() * n);
  const taken = new Set<string>();
  const free = (key: string) => !taken.has(key);
  const isSat = (d: number) => cal.weekday(d) === 6;
  const isSun = (d: number) => cal.weekday(d) === 7;
  const chairHours = (d: number) => (isSat(d) ? CHAIR_HOURS.saturday : CHAIR_HOURS.weekday);

  const physicianCell = (day: number): { day: number; hour: number; physician: number } => {
    for (let d = day; d < day + 14; d++) {
      if (cal.weekday(d) > 5) continue;
      for (const hour of rotate(PHYSICIAN_HOURS, pick(PHYSICIAN_HOURS.length))) {
        for (let k = 0, p0 = pick(PHYSICIANS); k < PHYSICIANS; k++) {
          const physician = (p0 + k) % PHYSICIANS;
          if (free(`p${physician}|${d}|${hour}`)) return { day: d, hour, physician };
        }
      }
    }
    throw new Error('bench seed: no physician cell free within two weeks');
  };
  const take = (key: string) => taken.add(key);

  const plans: PlanRow[] = [];
  const span = PAST_DAYS + FUTURE_DAYS - SERIES_DAYS;
  for (let p = 0; p < spec.plans; p++) {
    // Stratified start days, so that the year is evenly loaded.
    const first = -PAST_DAYS + Math.floor(((p + rng()) * span) / spec.plans);
    const shape = tailor(KETAMINE_PROTOCOL.steps as ProtocolStep[], { weightKg: weights[p], steps: {} });
    if (!shape.ok) throw new Error('bench seed: the demo protocol does not tailor');
    const byRef = new Map(shape.sessions.map((s) => [s.ref, s]));
    const rows: SessionRow[] = [];
    const at = (
      ref: string,
      day: number,
      hour: number,
      minutes: number,
      place: Pick<SessionRow, 'chair' | 'staff' | 'seat'>,
    ) => {
      const s = byRef.get(ref)!;
      rows.push({
        planIndex: p,
        s,
        start: cal.at(day, hour, minutes),
        end: cal.at(day, hour, minutes + s.durationMinutes),
        occupiedUntil: cal.at(day, hour, minutes + s.durationMinutes + s.recoveryMinutes),
        ...place,
      });
    };

    const intake = physicianCell(first);
    take(`p${intake.physician}|${intake.day}|${intake.hour}`);
    at('intake#1', intake.day, intake.hour, 0, { chair: null, staff: NURSES + intake.physician, seat: 1 });

    // Six infusions two days apart (never on a Sunday) at one time of day, on one chair.
    let infusionDays: number[] = [];
    let chosen: { hour: number; chair: number } | undefined;
    for (let shift = 0; !chosen && shift < 14; shift++) {
      infusionDays = [];
      let d = intake.day + shift;
      for (let k = 0; k < 6; k++) {
        d += isSun(d + 1) ? 2 : 1;
        d += isSun(d + 1) ? 2 : 1;
        infusionDays.push(d);
      }
      const hours = infusionDays.some(isSat) ? CHAIR_HOURS.saturday : CHAIR_HOURS.weekday;
      const h0 = pick(hours.length);
      const c0 = pick(CHAIRS);
      for (let i = 0; !chosen && i < hours.length; i++) {
        for (let k = 0; !chosen && k < CHAIRS; k++) {
          const hour = hours[(h0 + i) % hours.length];
          const chair = (c0 + k) % CHAIRS;
          if (infusionDays.every((day) => free(`c${chair}|${day}|${hour}`))) chosen = { hour, chair };
        }
      }
    }
    if (!chosen) throw new Error('bench seed: no chair free for a series');
    const { hour, chair } = chosen;
    infusionDays.forEach((day, k) => {
      take(`c${chair}|${day}|${hour}`);
      at(`infusion#${k + 1}`, day, hour, 0, { chair, ...nurseOf(chair) });
      // Therapy after the recovery, the same day, with the first therapist free.
      const last = isSat(day) ? THERAPIST_LAST_HOUR.saturday : THERAPIST_LAST_HOUR.weekday;
      for (let h = hour + 2, done = false; !done; h++) {
        if (h > last) throw new Error('bench seed: no therapist free after an infusion');
        for (let i = 0, t0 = pick(THERAPISTS); !done && i < THERAPISTS; i++) {
          const therapist = (t0 + i) % THERAPISTS;
          if (free(`t${therapist}|${day}|${h}`)) {
            take(`t${therapist}|${day}|${h}`);
            at(`therapy#${k + 1}`, day, h, 0, { chair: null, staff: NURSES + PHYSICIANS + therapist, seat: 1 });
            done = true;
          }
        }
      }
    });

    const followUp = physicianCell(infusionDays[5] + 7);
    take(`p${followUp.physician}|${followUp.day}|${followUp.hour}`);
    at('follow_up#1', followUp.day, followUp.hour, 0, { chair: null, staff: NURSES + followUp.physician, seat: 1 });

    // The booster four weeks later, on the first chair cell free.
    let booster: { day: number; hour: number; chair: number } | undefined;
    for (let d = followUp.day + 28; !booster && d < followUp.day + 42; d++) {
      if (isSun(d)) continue;
      for (const h of rotate(chairHours(d), pick(chairHours(d).length))) {
        for (let k = 0, c0 = pick(CHAIRS); !booster && k < CHAIRS; k++) {
          const c = (c0 + k) % CHAIRS;
          if (free(`c${c}|${d}|${h}`)) booster = { day: d, hour: h, chair: c };
        }
        if (booster) break;
      }
    }
    if (!booster) throw new Error('bench seed: no chair free for a booster');
    take(`c${booster.chair}|${booster.day}|${booster.hour}`);
    at('booster#1', booster.day, booster.hour, 0, { chair: booster.chair, ...nurseOf(booster.chair) });

    plans.push({ patient: p, earliestStart: cal.date(first), sessions: rows });
  }
  return plans;
}
