import type { INestApplication } from '@nestjs/common';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DataSource, type EntityManager } from 'typeorm';
import { ApiKeysService } from '../api-keys/api-keys.service.js';
import type { ApiRole } from '../api-keys/entities/api-key.entity.js';
import { AuditService } from '../audit/audit.service.js';
import { ChairEntity } from '../clinics/entities/chair.entity.js';
import { ClinicEntity } from '../clinics/entities/clinic.entity.js';
import { ClosureEntity } from '../clinics/entities/closure.entity.js';
import { StaffMemberEntity } from '../clinics/entities/staff-member.entity.js';
import type { Actor } from '../common/auth/actor.js';
import { Clock } from '../common/clock/clock.js';
import { PlansService } from '../plans/plans.service.js';
import type { WeeklyInterval } from '../common/weekly-interval.js';
import { PatientEntity } from '../patients/entities/patient.entity.js';
import { ProtocolsRepository } from '../protocols/protocols.repository.js';
import { DateTime } from 'luxon';
import { KETAMINE_PROTOCOL, KETAMINE_PROTOCOL_V2 } from './demo-protocol.js';
import { insertHistory } from './history-writer.js';
import { generateHistory } from './outcome-history.js';

const SEED_LOCK_KEY = 7_301_937_412;

const weekly = (days: number[], start: string, end: string): WeeklyInterval[] =>
  days.map((weekday) => ({ weekday, start, end }));
const MON_FRI = [1, 2, 3, 4, 5];

export const DEMO_CLINIC = {
  name: 'Chairside Fort Lauderdale',
  timezone: 'America/New_York',
  openingHours: [...weekly(MON_FRI, '08:00', '18:00'), ...weekly([6], '09:00', '14:00')],
};

/** The demo clinic's start staggering: two infusion starts per quarter hour, one per nurse. */
export const DEMO_START_LIMITS = { maxStartsPerSlot: 2, maxStartsPerNursePerSlot: 1 };

const DEMO_STAFF: Omit<StaffMemberEntity, 'id' | 'clinicId' | 'createdAt' | 'updatedAt'>[] = [
  {
    name: 'Maria Lopez, RN',
    role: 'nurse',
    availability: [...weekly(MON_FRI, '08:00', '18:00'), ...weekly([6], '09:00', '14:00')],
    maxConcurrentPatients: 2,
    active: true,
  },
  {
    name: 'Daniel Okafor, RN',
    role: 'nurse',
    availability: weekly(MON_FRI, '08:00', '18:00'),
    maxConcurrentPatients: 2,
    active: true,
  },
  {
    name: 'Aisha Patel, RN',
    role: 'nurse',
    availability: [...weekly([2, 3, 4, 5], '10:00', '18:00'), ...weekly([6], '09:00', '14:00')],
    maxConcurrentPatients: 2,
    active: true,
  },
  {
    name: 'Dr. Samuel Greene',
    role: 'physician',
    availability: weekly(MON_FRI, '09:00', '17:00'),
    maxConcurrentPatients: 1,
    active: true,
  },
  {
    name: 'Rachel Kim, LCSW',
    role: 'therapist',
    availability: [...weekly(MON_FRI, '09:00', '18:00'), ...weekly([6], '09:00', '13:00')],
    maxConcurrentPatients: 1,
    active: true,
  },
];

const DEMO_CLOSURES = [
  { date: '2026-11-26', reason: 'Thanksgiving' },
  { date: '2026-12-24', reason: 'Christmas Eve' },
  { date: '2026-12-25', reason: 'Christmas Day' },
  { date: '2027-01-01', reason: "New Year's Day" },
];

// Fictional people.
export const DEMO_PATIENTS = [
  {
    fullName: 'Jordan Rivera',
    dateOfBirth: '1986-04-12',
    weightKg: 78.5,
    phone: '+1 954 555 0142',
    preferredTimes: weekly(MON_FRI, '09:00', '12:00'),
  },
  {
    fullName: 'Casey Thompson',
    dateOfBirth: '1992-09-30',
    weightKg: 64,
    phone: '+1 954 555 0178',
    preferredTimes: weekly(MON_FRI, '13:00', '17:00'),
  },
  { fullName: 'Morgan Ellis', dateOfBirth: '1979-01-05', weightKg: 91.2, phone: '+1 954 555 0113', preferredTimes: [] },
  {
    fullName: 'Avery Santos',
    dateOfBirth: '2000-07-21',
    weightKg: 57.8,
    phone: '+1 954 555 0190',
    preferredTimes: weekly([6], '09:00', '13:00'),
  },
];

/** Past series for the outcomes report: this many plans per protocol version, each its own (fictional) patient. */
export const DEMO_HISTORY_PLANS_PER_VERSION = 16;

/**
 * Demo history, clearly labelled ("Outcomes demo patient NN"): 16 past series on each version of
 * the ketamine protocol, the first session of one a week after the other's, from about 300 to 83
 * days ago, all over before today (the future stays free for bookings). Version 2 does a little
 * better: craving falls faster, fewer plans end early.
 */
async function insertDemoHistory(m: EntityManager, clinicId: string, protocolId: string, now: Date): Promise<void> {
  const n = 2 * DEMO_HISTORY_PLANS_PER_VERSION;
  const names = Array.from({ length: n }, (_, i) => `Outcomes demo patient ${String(i + 1).padStart(2, '0')}`);
  const weights = names.map((_, i) => 55 + ((i * 37) % 45));
  const patients: { id: string }[] = await m.query(
    `INSERT INTO patients (clinic_id, full_name, date_of_birth, weight_kg, weight_confirmed_at, notes, unavailable, unavailable_dates, preferred_times, version)
     SELECT $1, name, make_date((1965 + i % 35)::int, (1 + i % 12)::int, (1 + i % 28)::int), w, $4::timestamptz, 'Demo data: fictional patient with past treatment for the outcomes report', '[]', '[]', '[]', 1
       FROM unnest($2::text[], $3::numeric[]) WITH ORDINALITY AS t(name, w, i)
      ORDER BY i
     RETURNING id`,
    // Seeded weights count as confirmed (as the named demo patients' do).
    [clinicId, names, weights, now],
  );
  const chairs: { id: string }[] = await m.query(`SELECT id FROM chairs WHERE clinic_id = $1 ORDER BY name`, [
    clinicId,
  ]);
  const nurses: { id: string }[] = await m.query(
    `SELECT id FROM staff_members WHERE clinic_id = $1 AND role = 'nurse' AND max_concurrent_patients >= 2 ORDER BY name DESC LIMIT 2`,
    [clinicId],
  );
  const today = DateTime.fromJSDate(now).setZone(DEMO_CLINIC.timezone).startOf('day');
  const plans = generateHistory({
    timezone: DEMO_CLINIC.timezone,
    protocolId,
    steps: { 1: KETAMINE_PROTOCOL.steps, 2: KETAMINE_PROTOCOL_V2.steps },
    plans: patients.map((p, k) => ({
      patientId: p.id,
      version: k < DEMO_HISTORY_PLANS_PER_VERSION ? 1 : 2,
      weightKg: weights[k],
      firstDate: today.minus({ days: 300 - 7 * k }).toISODate()!,
    })),
    // Each chair has its nurse and seat; a chair is never double-booked, so neither is a seat.
    chairs: chairs.map((c, i) => ({
      chairId: c.id,
      staffId: nurses[Math.floor(i / 2) % nurses.length].id,
      staffSeat: (i % 2) + 1,
    })),
    profile: {
      1: { cravingFallPerInfusion: 0.8, endedEarlyEvery: 3 },
      2: { cravingFallPerInfusion: 1.2, endedEarlyEvery: 3 },
    },
    endReason: 'Stopped attending',
    seed: 20261203,
  });
  await insertHistory(m, clinicId, plans);
}

export interface DemoSeedResult {
  created: boolean;
  keysFile: string;
  banner: string[];
}

async function insertDemo(
  m: EntityManager,
  keys: ApiKeysService,
  audit: AuditService,
  protocols: ProtocolsRepository,
  now: Date,
): Promise<Record<string, string>> {
  const clinic = await m
    .getRepository(ClinicEntity)
    .save(m.getRepository(ClinicEntity).create({ ...DEMO_CLINIC, version: 1 }));
  const clinicId = clinic.id;
  await m
    .getRepository(ChairEntity)
    .insert([1, 2, 3, 4].map((n) => ({ clinicId, name: `Infusion chair ${n}`, active: true })));
  await m.getRepository(StaffMemberEntity).insert(DEMO_STAFF.map((s) => ({ ...s, clinicId })));
  await m.getRepository(ClosureEntity).insert(
    DEMO_CLOSURES.map((c) => ({
      clinicId,
      startDate: c.date,
      endDate: c.date,
      startTime: null,
      endTime: null,
      reason: c.reason,
    })),
  );
  await m.getRepository(PatientEntity).insert(
    // Seeded weights count as confirmed.
    DEMO_PATIENTS.map((p) => ({
      ...p,
      weightConfirmedAt: now,
      clinicId,
      email: null,
      notes: null,
      unavailable: [],
      unavailableDates: [],
      version: 1,
    })),
  );
  // Version 1 published about eleven months ago, version 2 (infusions 2–4 days apart) about seven.
  const ago = (days: number) => DateTime.fromJSDate(now).minus({ days }).toJSDate();
  const protocol = await protocols.insert(m, {
    clinicId,
    ...KETAMINE_PROTOCOL,
    draftSteps: KETAMINE_PROTOCOL.steps,
    draftUpdatedAt: ago(330),
  });
  await protocols.publish(m, protocol, ago(330), null);
  await protocols.replaceDraft(m, { clinicId, id: protocol.id, ...KETAMINE_PROTOCOL_V2 }, 1, ago(200));
  await protocols.publish(m, { ...protocol, latestVersion: 1 }, ago(200), null);
  await insertDemoHistory(m, clinicId, protocol.id, now);
  const issued: Record<string, string> = { CHAIRSIDE_CLINIC_ID: clinicId, CHAIRSIDE_PROTOCOL_ID: protocol.id };
  const wanted: [string, ApiRole, string | null][] = [
    ['CHAIRSIDE_OPERATOR_KEY', 'admin', null],
    ['CHAIRSIDE_ADMIN_KEY', 'admin', clinicId],
    ['CHAIRSIDE_CLINICIAN_KEY', 'clinician', clinicId],
    ['CHAIRSIDE_FRONT_DESK_KEY', 'front_desk', clinicId],
  ];
  for (const [name, role, cid] of wanted) {
    const k = await keys.issue(m, {
      clinicId: cid,
      role,
      name: `Demo ${name.replace('CHAIRSIDE_', '').replace('_KEY', '').toLowerCase()} key`,
    });
    issued[name] = k.key;
  }
  // Start staggering, set once the past series are written (they predate it): at most two infusion
  // starts per quarter hour, one per nurse; seats for what is booked from now on.
  await m.query(`UPDATE clinics SET max_starts_per_slot = $2, max_starts_per_nurse_per_slot = $3 WHERE id = $1`, [
    clinicId,
    DEMO_START_LIMITS.maxStartsPerSlot,
    DEMO_START_LIMITS.maxStartsPerNursePerSlot,
  ]);
  await m.query(`SELECT renumber_start_seats($1, $2)`, [clinicId, now]);
  await audit.record(m, null, { clinicId, action: 'demo.seed', entityType: 'clinic', entityId: clinicId });
  return issued;
}

/**
 * Books the ketamine series for two demo patients (from tomorrow, in the clinic's zone), through
 * the same service the API uses. A plan that does not fit is reported, not fatal.
 */
async function bookDemoPlans(app: INestApplication, issued: Record<string, string>): Promise<string[]> {
  const ds = app.get(DataSource);
  const clinicId = issued.CHAIRSIDE_CLINIC_ID;
  const [admin] = await ds.query(`SELECT id FROM api_keys WHERE clinic_id = $1 AND role = 'admin' LIMIT 1`, [clinicId]);
  const actor: Actor = { keyId: admin.id, role: 'admin', clinicId };
  const tomorrow = app.get(Clock).now().setZone(DEMO_CLINIC.timezone).plus({ days: 1 }).toISODate()!;
  const lines: string[] = [];
  for (const name of ['Jordan Rivera', 'Casey Thompson']) {
    const [patient] = await ds.query(`SELECT id FROM patients WHERE clinic_id = $1 AND full_name = $2`, [
      clinicId,
      name,
    ]);
    try {
      const { body } = await app
        .get(PlansService)
        .book(actor, { patientId: patient.id, protocolId: issued.CHAIRSIDE_PROTOCOL_ID, earliestStart: tomorrow });
      lines.push(
        `Demo plan for ${name}: ${body.sessions.length} sessions from ${body.sessions[0].localDate} (GET /v1/plans/${body.id})`,
      );
    } catch (err) {
      lines.push(`Demo plan for ${name} not booked: ${(err as Error).message}`);
    }
  }
  return lines;
}

/**
 * On an empty database: creates the demo clinic in Fort Lauderdale with chairs, staff, patients and
 * one API key per role, and writes the keys to `<dataDir>/demo-keys.env` (they are shown once and
 * stored only hashed, so the file is how a later start can tell you them again).
 */
export async function seedDemo(app: INestApplication, dataDir: string): Promise<DemoSeedResult> {
  const dataSource = app.get(DataSource);
  const keysFile = path.join(dataDir, 'demo-keys.env');
  const issued = await dataSource.transaction(async (m) => {
    await m.query('SELECT pg_advisory_xact_lock($1)', [SEED_LOCK_KEY]);
    const [{ n }] = await m.query('SELECT count(*)::int AS n FROM clinics');
    if (n > 0) return undefined;
    return insertDemo(
      m,
      app.get(ApiKeysService),
      app.get(AuditService),
      app.get(ProtocolsRepository),
      app.get(Clock).now().toJSDate(),
    );
  });
  if (issued) {
    const plans = await bookDemoPlans(app, issued);
    await fs.mkdir(dataDir, { recursive: true });
    const body =
      Object.entries(issued)
        .map(([k, v]) => `export ${k}=${v}`)
        .join('\n') + '\n';
    await fs.writeFile(keysFile, body, { mode: 0o600 });
    return {
      created: true,
      keysFile,
      banner: [
        '',
        'Demo data created: clinic "Chairside Fort Lauderdale" (America/New_York), 4 chairs, 5 staff, holiday closures, 4 patients,',
        `and the protocol "${KETAMINE_PROTOCOL.name}" (versions 1 and 2, with ${2 * DEMO_HISTORY_PLANS_PER_VERSION} past demo series for GET /v1/protocols/{id}/outcomes).`,
        'Demo API keys (shown once; also saved for you):',
        ...Object.entries(issued).map(([k, v]) => `  ${k}=${v}`),
        `Load them into your shell with:  source ${keysFile}`,
        ...plans,
      ],
    };
  }
  return {
    created: false,
    keysFile,
    banner: existsSync(keysFile) ? ['', `Demo API keys: source ${keysFile}`] : [],
  };
}
