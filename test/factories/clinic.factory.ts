import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApiKeysService } from '../../src/api-keys/api-keys.service.js';
import type { ApiRole } from '../../src/api-keys/entities/api-key.entity.js';
import { ClinicEntity } from '../../src/clinics/entities/clinic.entity.js';
import type { WeeklyInterval } from '../../src/common/weekly-interval.js';

export const weekdays = (days: number[], start: string, end: string): WeeklyInterval[] =>
  days.map((weekday) => ({ weekday, start, end }));

/** A clinic body for POST /v1/clinics, with overrides. */
export function makeClinic(
  overrides: Partial<{ name: string; timezone: string; openingHours: WeeklyInterval[] }> = {},
) {
  return {
    name: 'Test Clinic',
    timezone: 'America/New_York',
    openingHours: weekdays([1, 2, 3, 4, 5], '08:00', '18:00'),
    ...overrides,
  };
}

export function makePatient(overrides: Record<string, unknown> = {}) {
  return { fullName: 'Pat Example', dateOfBirth: '1985-03-14', weightKg: 72.4, ...overrides };
}

export function makeStaff(overrides: Record<string, unknown> = {}) {
  return {
    name: 'Nurse Example',
    role: 'nurse',
    availability: weekdays([1, 2, 3, 4, 5], '08:00', '18:00'),
    maxConcurrentPatients: 2,
    ...overrides,
  };
}

export interface ClinicKeys {
  clinicId: string;
  admin: string;
  clinician: string;
  frontDesk: string;
}

/** Persists a clinic directly and issues one key per role for it. */
export async function persistClinicWithKeys(
  app: INestApplication,
  overrides: Parameters<typeof makeClinic>[0] = {},
): Promise<ClinicKeys> {
  const ds = app.get(DataSource);
  const keys = app.get(ApiKeysService);
  return ds.transaction(async (m) => {
    const clinic = await m
      .getRepository(ClinicEntity)
      .save(m.getRepository(ClinicEntity).create({ ...makeClinic(overrides), version: 1 }));
    const issue = async (role: ApiRole) =>
      (await keys.issue(m, { clinicId: clinic.id, role, name: `test ${role}` })).key;
    return {
      clinicId: clinic.id,
      admin: await issue('admin'),
      clinician: await issue('clinician'),
      frontDesk: await issue('front_desk'),
    };
  });
}

export async function persistOperatorKey(app: INestApplication): Promise<string> {
  const ds = app.get(DataSource);
  return ds.transaction(
    async (m) => (await app.get(ApiKeysService).issue(m, { clinicId: null, role: 'admin', name: 'test operator' })).key,
  );
}
