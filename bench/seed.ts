/**
 * The bench's data set, written by SQL in a few statements per clinic (arrays through `unnest`):
 * clinics with chairs, staff, patients, the demo protocol published, and a year of booked series of
 * that protocol. Every row goes through the same constraints and triggers as a booking (exclusion
 * constraints, the seat trigger, the change log and outbox triggers).
 *
 * Series are laid out on a grid so that they can never collide: an infusion or booster holds one
 * two-hour cell of a chair (100 minutes used), and chair c is always served by nurse ⌊c/2⌋ on seat
 * c mod 2 + 1, so a free chair cell is a free seat; consults hold one hourly cell of a physician,
 * therapy one hourly cell of a therapist, after its infusion the same day. Each patient has at most
 * one series. The layout is a pure function of its seed, so two clinics given the same seed hold
 * the same series at the same times on the chairs and staff of the same positions.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import type pg from 'pg';
import { hashKey } from '../src/api-keys/api-keys.service.js';
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
const OPENING = [...weekly(MON_FRI, '07:00', '19:00'), ...weekly([6], '08:00', '14:00')];
const AVAILABILITY = {
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

export interface SeededClinic {
  id: string;
  name: string;
  protocolId: string;
  chairIds: string[];
  /** Nurses, physicians, therapists, in that order. */
  staffIds: string[];
  patientIds: string[];
  /** Patients without a series (for previews and bookings). */
  freePatientIds: string[];
  frontDeskKey: string;
  adminKey: string;
  sessions: number;
  plans: number;
}

export interface SeededDataSet {
  clinics: SeededClinic[];
  sessions: number;
  plans: number;
  patients: number;
  seconds: number;
}

/** Local days around today in the clinic's zone; instants from local wall-clock times (DST-safe). */
class Calendar {
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

interface SessionRow {
  planIndex: number;
  s: SessionToPlace;
  start: Date;
  end: Date;
  occupiedUntil: Date;
  chair: number | null;
  staff: number | null;
  seat: number | null;
}

interface PlanRow {
  patient: number;
  earliestStart: string;
  sessions: SessionRow[];
}

const nurseOf = (chair: number) => ({ staff: Math.floor(chair / 2), seat: (chair % 2) + 1 });
const rotate = <T>(xs: T[], by: number): T[] => xs.map((_, i) => xs[(i + by) % xs.length]);

/** The series of one clinic: positions (chair, staff, patient indexes) and instants. */
function layout(spec: ClinicSpec, cal: Calendar, weights: number[]): PlanRow[] {
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

/** Writes the data set; `extraPatients[i]` more patients (without series) in clinic i. */
export async function seedDataSet(
  db: pg.Client,
  specs: ClinicSpec[],
  extraPatients: number[] = [],
): Promise<SeededDataSet> {
  const t0 = performance.now();
  const now = new Date();
  const today = DateTime.now().setZone(ZONE).startOf('day');
  const cal = new Calendar(today);
  const clinics: SeededClinic[] = [];
  let sessionTotal = 0;
  let planTotal = 0;
  let patientTotal = 0;

  for (const [ci, spec] of specs.entries()) {
    const clinicId = randomUUID();
    const chairIds = Array.from({ length: CHAIRS }, () => randomUUID());
    const staffIds = Array.from({ length: STAFF }, () => randomUUID());
    const patientCount = spec.patients + (extraPatients[ci] ?? 0);
    const patientIds = Array.from({ length: patientCount }, () => randomUUID());
    const weights = patientIds.map((_, i) => 55 + ((i * 7) % 50));
    const protocolId = randomUUID();

    await db.query('BEGIN');
    await db.query(`INSERT INTO clinics (id, name, timezone, opening_hours) VALUES ($1, $2, $3, $4)`, [
      clinicId,
      spec.name,
      ZONE,
      JSON.stringify(OPENING),
    ]);
    await db.query(
      `INSERT INTO chairs (clinic_id, id, name) SELECT $1, id, 'Chair ' || lpad(n::text, 2, '0') FROM unnest($2::uuid[]) WITH ORDINALITY AS t(id, n)`,
      [clinicId, chairIds],
    );
    const roles = staffIds.map(
      (_, i) =>
        (i < NURSES ? 'nurse' : i < NURSES + PHYSICIANS ? 'physician' : 'therapist') as keyof typeof AVAILABILITY,
    );
    await db.query(
      `INSERT INTO staff_members (clinic_id, id, name, role, availability, max_concurrent_patients)
       SELECT $1, id, initcap(role) || ' ' || lpad(n::text, 2, '0'), role, availability::jsonb, seats
         FROM unnest($2::uuid[], $3::text[], $4::text[], $5::int[]) WITH ORDINALITY AS t(id, role, availability, seats, n)`,
      [
        clinicId,
        staffIds,
        roles,
        roles.map((r) => JSON.stringify(AVAILABILITY[r])),
        roles.map((r) => (r === 'nurse' ? 2 : 1)),
      ],
    );
    await db.query(
      `INSERT INTO patients (clinic_id, id, full_name, date_of_birth, weight_kg, weight_confirmed_at)
       SELECT $1, id, 'Patient ' || lpad(n::text, 4, '0'), date '1960-01-01' + (n * 37 % 15000)::int, w, now()
         FROM unnest($2::uuid[], $3::numeric[]) WITH ORDINALITY AS t(id, w, n)`,
      [clinicId, patientIds, weights],
    );
    await db.query(
      `INSERT INTO protocols (clinic_id, id, name, indication, description, draft_steps, latest_version) VALUES ($1, $2, $3, $4, $5, $6, 1)`,
      [
        clinicId,
        protocolId,
        KETAMINE_PROTOCOL.name,
        KETAMINE_PROTOCOL.indication,
        KETAMINE_PROTOCOL.description,
        JSON.stringify(KETAMINE_PROTOCOL.steps),
      ],
    );
    await db.query(
      `INSERT INTO protocol_versions (clinic_id, protocol_id, version, name, indication, description, steps)
       SELECT clinic_id, id, 1, name, indication, description, draft_steps FROM protocols WHERE clinic_id = $1 AND id = $2`,
      [clinicId, protocolId],
    );

    const plans = layout(spec, cal, weights);
    const planIds = plans.map(() => randomUUID());
    const sessions = plans.flatMap((p) => p.sessions);
    const done = (s: SessionRow) => s.end <= now;
    await db.query(
      `INSERT INTO plans (clinic_id, id, patient_id, protocol_id, protocol_version, tailoring, earliest_start, status)
       SELECT $1, id, patient, $2, 1, tailoring::jsonb, earliest::date, status
         FROM unnest($3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[]) AS t(id, patient, tailoring, earliest, status)`,
      [
        clinicId,
        protocolId,
        planIds,
        plans.map((p) => patientIds[p.patient]),
        plans.map((p) => JSON.stringify({ weightKg: weights[p.patient], steps: {} })),
        plans.map((p) => p.earliestStart),
        plans.map((p) => (p.sessions.every(done) ? 'completed' : 'active')),
      ],
    );
    await db.query(
      `INSERT INTO sessions (clinic_id, plan_id, patient_id, ref, step_key, occurrence, kind, label, starts_at, ends_at, occupied_until,
                             chair_id, staff_id, staff_seat, status, planned_dose)
       SELECT $1, plan, patient, ref, step, occ, kind, label, s, e, o, chair, staff, seat, status, dose::jsonb
         FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[],
                     $11::timestamptz[], $12::uuid[], $13::uuid[], $14::int[], $15::text[], $16::text[])
              AS t(plan, patient, ref, step, occ, kind, label, s, e, o, chair, staff, seat, status, dose)`,
      [
        clinicId,
        sessions.map((r) => planIds[r.planIndex]),
        sessions.map((r) => patientIds[plans[r.planIndex].patient]),
        sessions.map((r) => r.s.ref),
        sessions.map((r) => r.s.stepKey),
        sessions.map((r) => r.s.occurrence),
        sessions.map((r) => r.s.kind),
        sessions.map((r) => r.s.label),
        sessions.map((r) => r.start.toISOString()),
        sessions.map((r) => r.end.toISOString()),
        sessions.map((r) => r.occupiedUntil.toISOString()),
        sessions.map((r) => (r.chair === null ? null : chairIds[r.chair])),
        sessions.map((r) => (r.staff === null ? null : staffIds[r.staff])),
        sessions.map((r) => r.seat),
        sessions.map((r) => (done(r) ? 'completed' : 'scheduled')),
        sessions.map((r) => (r.s.dose ? JSON.stringify(r.s.dose) : null)),
      ],
    );

    const key = (role: string) => `cs_bench_${role}_${randomUUID().replaceAll('-', '')}`;
    const frontDeskKey = key('front_desk');
    const adminKey = key('admin');
    await db.query(
      `INSERT INTO api_keys (clinic_id, name, role, key_prefix, key_hash)
       VALUES ($1, 'bench front desk', 'front_desk', $2, $3), ($1, 'bench admin', 'admin', $4, $5)`,
      [clinicId, frontDeskKey.slice(0, 10), hashKey(frontDeskKey), adminKey.slice(0, 10), hashKey(adminKey)],
    );
    await db.query('COMMIT');

    clinics.push({
      id: clinicId,
      name: spec.name,
      protocolId,
      chairIds,
      staffIds,
      patientIds,
      freePatientIds: patientIds.slice(spec.plans),
      frontDeskKey,
      adminKey,
      sessions: sessions.length,
      plans: plans.length,
    });
    sessionTotal += sessions.length;
    planTotal += plans.length;
    patientTotal += patientCount;
  }
  await db.query('ANALYZE');
  return {
    clinics,
    sessions: sessionTotal,
    plans: planTotal,
    patients: patientTotal,
    seconds: (performance.now() - t0) / 1000,
  };
}
