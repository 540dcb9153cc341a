import type { INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';
import request from 'supertest';
import { KETAMINE_PROTOCOL } from '../../src/seed/demo-protocol.js';
import type { WeeklyInterval } from '../../src/common/weekly-interval.js';
import { makePatient, makeStaff, persistClinicWithKeys, type ClinicKeys } from './clinic.factory.js';
import { publishProtocol } from './protocol.factory.js';

type Json = Record<string, any>;

export interface Ref {
  id: string;
  name: string;
}

/** A clinic ready to book: chairs, a nurse, a physician, a therapist and published protocols. */
export interface ClinicSetup {
  keys: ClinicKeys;
  timezone: string;
  /** The demo ketamine protocol, version 1. */
  protocolId: string;
  /** Intake consult and two infusions: a plan small enough to finish in a test. */
  shortProtocolId: string;
  chairs: Ref[];
  nurse: Ref;
  physician: Ref;
  therapist: Ref;
}

/** Intake consult and two infusions of the demo protocol. */
export const SHORT_STEPS: Json[] = (() => {
  const steps = structuredClone(KETAMINE_PROTOCOL.steps) as Json[];
  const { repeatMin: _min, repeatMax: _max, ...infusion } = steps[1];
  return [steps[0], { ...infusion, repeat: 2 }];
})();

const auth = (key: string) => ({ Authorization: `Bearer ${key}` });

export type StaffRole = 'nurse' | 'physician' | 'therapist';

export interface ClinicOptions {
  /** How many chairs (2 unless told). */
  chairs?: number;
  /** The nurse's maxConcurrentPatients (2 unless told). */
  nurseMax?: number;
  /** New York unless told. */
  timezone?: string;
  /** The clinic's opening hours (Mon–Fri 08:00–18:00 unless told); also every staff member's availability unless `staff` says otherwise. */
  openingHours?: WeeklyInterval[];
  /** Per role, fields of the staff member's POST body that differ from the defaults (maxConcurrentPatients, availability…). */
  staff?: Partial<Record<StaffRole, Json>>;
}

/** A clinic (Mon–Fri 08:00–18:00, New York unless told) set up through the API. */
export async function setupClinic(
  app: INestApplication,
  http: Server,
  name: string,
  opts: ClinicOptions = {},
): Promise<ClinicSetup> {
  const timezone = opts.timezone ?? 'America/New_York';
  const keys = await persistClinicWithKeys(app, {
    name,
    timezone,
    ...(opts.openingHours ? { openingHours: opts.openingHours } : {}),
  });
  const chairs: Ref[] = [];
  for (let i = 1; i <= (opts.chairs ?? 2); i++) {
    const res = await request(http)
      .post(`/v1/clinics/${keys.clinicId}/chairs`)
      .set(auth(keys.admin))
      .send({ name: `${name} chair ${i}` });
    expect(res.status).toBe(201);
    chairs.push({ id: res.body.id, name: res.body.name });
  }
  const staff = async (role: StaffRole, body: Json): Promise<Ref> => {
    const availability = opts.openingHours ? { availability: opts.openingHours } : {};
    const res = await request(http)
      .post(`/v1/clinics/${keys.clinicId}/staff`)
      .set(auth(keys.admin))
      .send(makeStaff({ ...body, role, ...availability, ...opts.staff?.[role] }));
    expect(res.status).toBe(201);
    return { id: res.body.id, name: res.body.name };
  };
  const nurse = await staff('nurse', { name: `Nurse of ${name}`, maxConcurrentPatients: opts.nurseMax ?? 2 });
  const physician = await staff('physician', { name: `Physician of ${name}` });
  const therapist = await staff('therapist', { name: `Therapist of ${name}` });
  return {
    keys,
    timezone,
    protocolId: await publishProtocol(http, keys.clinician, {
      name: KETAMINE_PROTOCOL.name,
      steps: KETAMINE_PROTOCOL.steps,
    }),
    shortProtocolId: await publishProtocol(http, keys.clinician, { name: 'Short series', steps: SHORT_STEPS }),
    chairs,
    nurse,
    physician,
    therapist,
  };
}

/** A patient registered by a clinician (so that its weight is a confirmed one, as mg/kg doses need). */
export async function newPatient(http: Server, s: ClinicSetup, overrides: Json = {}): Promise<string> {
  const res = await request(http).post('/v1/patients').set(auth(s.keys.clinician)).send(makePatient(overrides));
  expect(res.status).toBe(201);
  return res.body.id as string;
}

/**
 * Books a plan (the demo protocol unless `body.protocolId` says otherwise) for a new patient unless `body.patientId` is given.
 * A tailored plan is a clinician's to book; the template as it is, the front desk's.
 */
export async function bookPlan(http: Server, s: ClinicSetup, body: Json = {}, patient: Json = {}): Promise<Json> {
  const patientId = body.patientId ?? (await newPatient(http, s, patient));
  const res = await request(http)
    .post('/v1/plans')
    .set(auth(body.tailoring ? s.keys.clinician : s.keys.frontDesk))
    .send({ protocolId: s.protocolId, ...body, patientId });
  expect({ status: res.status, body: res.body }).toMatchObject({ status: 201 });
  return res.body as Json;
}

/** The session of a booked plan (as `bookPlan` returns it) with the given ref (`intake#1`, `infusion#2`…); throws if there is none. */
export function refOf(plan: Json, ref: string): Json {
  const s = (plan.sessions as Json[]).find((x) => x.ref === ref);
  if (!s) throw new Error(`no session ${ref} in plan ${plan.id}`);
  return s;
}
