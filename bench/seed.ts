/**
 * The bench's data set, written by SQL in a few statements per clinic (arrays through `unnest`):
 * clinics with chairs, staff, patients, the demo protocol published, and a year of booked series of
 * that protocol (laid out by bench/seed-layout.ts). Every row goes through the same constraints and
 * triggers as a booking (exclusion constraints, the seat trigger, the change log and outbox
 * triggers).
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import type pg from 'pg';
import { hashKey } from '../src/api-keys/api-keys.service.js';
import { KETAMINE_PROTOCOL } from '../src/seed/demo-protocol.js';
import {
  AVAILABILITY,
  Calendar,
  CHAIRS,
  layout,
  NURSES,
  OPENING,
  PHYSICIANS,
  STAFF,
  ZONE,
  type ClinicSpec,
  type SessionRow,
} from './seed-layout.js';

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
