import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { changedFields } from '../audit/changes.js';
import type { Actor } from '../common/auth/actor.js';
import { clinicFilter, resolveClinicForWrite } from '../clinics/clinic-scope.js';
import { ClinicsRepository } from '../clinics/clinics.repository.js';
import { Clock } from '../common/clock/clock.js';
import { ValidationFailedError } from '../common/errors/common.errors.js';
import { requireLocalDateWithinHorizon } from '../common/validation/date-horizon.js';
import { presentIntervals } from '../common/weekly-interval.js';
import { decodeCursor, encodeCursor, type Page } from '../common/paging/cursor.js';
import type { CreatePatientDto, PatientDto, PatientQueryDto, UpdatePatientDto } from './dto/patient.dto.js';
import type { PatientEntity } from './entities/patient.entity.js';
import { PatientError, PatientErrorCode } from './patients.errors.js';
import { PatientsRepository } from './patients.repository.js';

const toDto = (p: PatientEntity): PatientDto => ({
  id: p.id,
  clinicId: p.clinicId,
  fullName: p.fullName,
  dateOfBirth: p.dateOfBirth,
  email: p.email,
  phone: p.phone,
  weightKg: p.weightKg,
  weightConfirmedAt: p.weightConfirmedAt?.toISOString() ?? null,
  weightConfirmedBy: p.weightConfirmedBy,
  pendingWeightKg: p.pendingWeightKg,
  pendingWeightAt: p.pendingWeightAt?.toISOString() ?? null,
  pendingWeightBy: p.pendingWeightBy,
  notes: p.notes,
  unavailable: presentIntervals(p.unavailable),
  unavailableDates: p.unavailableDates,
  preferredTimes: presentIntervals(p.preferredTimes),
  version: p.version,
  createdAt: p.createdAt.toISOString(),
  updatedAt: p.updatedAt.toISOString(),
});

const notFound = () => new PatientError(PatientErrorCode.PATIENT_NOT_FOUND, 'No such patient.');

type WeightFields = Pick<
  PatientEntity,
  'weightKg' | 'weightConfirmedAt' | 'weightConfirmedBy' | 'pendingWeightKg' | 'pendingWeightAt' | 'pendingWeightBy'
>;

/**
 * A weight entered by `actor` (null: cleared), applied to the patient's weight fields. Doses are
 * clinical, so only a clinician or admin sets the weight they are computed from (the confirmed
 * `weightKg`, which also settles any pending value); the front desk's weight is recorded as
 * pending, and its null withdraws the pending value (never the confirmed weight).
 */
export function enterWeight(current: WeightFields, actor: Actor, weightKg: number | null, now: Date): WeightFields {
  const noPending = { pendingWeightKg: null, pendingWeightAt: null, pendingWeightBy: null };
  if (actor.role === 'front_desk') {
    const confirmed = {
      weightKg: current.weightKg,
      weightConfirmedAt: current.weightConfirmedAt,
      weightConfirmedBy: current.weightConfirmedBy,
    };
    // The confirmed weight again (or null): nothing is left to confirm.
    if (weightKg === null || weightKg === current.weightKg) return { ...confirmed, ...noPending };
    if (weightKg === current.pendingWeightKg) return { ...current };
    return { ...confirmed, pendingWeightKg: weightKg, pendingWeightAt: now, pendingWeightBy: actor.keyId };
  }
  return weightKg === null
    ? { weightKg: null, weightConfirmedAt: null, weightConfirmedBy: null, ...noPending }
    : { weightKg, weightConfirmedAt: now, weightConfirmedBy: actor.keyId, ...noPending };
}

const NO_WEIGHT: WeightFields = {
  weightKg: null,
  weightConfirmedAt: null,
  weightConfirmedBy: null,
  pendingWeightKg: null,
  pendingWeightAt: null,
  pendingWeightBy: null,
};

/** Patients; every read and write of their data is audited in the same transaction. */
@Injectable()
export class PatientsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: PatientsRepository,
    private readonly clinics: ClinicsRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /**
   * Dates in the clinic's own zone: a date of birth not before 1900 nor after today; unavailable
   * dates at most 730 days ahead, like every date a request names.
   */
  private async checkDates(
    m: EntityManager,
    clinicId: string,
    dto: { dateOfBirth?: string; unavailableDates?: string[] },
  ): Promise<void> {
    if (dto.dateOfBirth === undefined && !dto.unavailableDates?.length) return;
    const timezone = await this.clinics.timezone(m, clinicId);
    const now = this.clock.now();
    const today = now.setZone(timezone).toISODate() ?? '';
    if (dto.dateOfBirth !== undefined && (dto.dateOfBirth > today || dto.dateOfBirth < '1900-01-01')) {
      throw new ValidationFailedError([
        { field: 'dateOfBirth', message: 'dateOfBirth must be between 1900-01-01 and today' },
      ]);
    }
    dto.unavailableDates?.forEach((d, i) => requireLocalDateWithinHorizon(`unavailableDates.${i}`, d, now, timezone));
  }

  async create(actor: Actor, dto: CreatePatientDto): Promise<PatientDto> {
    return this.dataSource.transaction(async (m) => {
      const clinicId = await resolveClinicForWrite(m, actor, dto.clinicId);
      await this.checkDates(m, clinicId, dto);
      const saved = await this.repo.save(m, {
        clinicId,
        fullName: dto.fullName,
        dateOfBirth: dto.dateOfBirth,
        email: dto.email ?? null,
        phone: dto.phone ?? null,
        ...(dto.weightKg === undefined || dto.weightKg === null
          ? NO_WEIGHT
          : enterWeight(NO_WEIGHT, actor, dto.weightKg, this.clock.now().toJSDate())),
        notes: dto.notes ?? null,
        unavailable: dto.unavailable ?? [],
        unavailableDates: dto.unavailableDates ?? [],
        preferredTimes: dto.preferredTimes ?? [],
        version: 1,
      });
      await this.audit.record(m, actor, {
        clinicId,
        action: 'patient.create',
        entityType: 'patient',
        entityId: saved.id,
        patientId: saved.id,
      });
      return toDto(saved);
    });
  }

  async search(actor: Actor, query: PatientQueryDto): Promise<Page<PatientDto>> {
    const limit = query.limit ?? 50;
    const after = decodeCursor(query.cursor, ['text', 'uuid']);
    const clinicId = clinicFilter(actor, query.clinicId);
    if (clinicId === null) return { items: [], nextCursor: null };
    return this.dataSource.transaction(async (m) => {
      const rows = await this.repo.search(m, { clinicId, q: query.q, limit: limit + 1, after });
      const items = rows.slice(0, limit);
      await this.audit.record(
        m,
        actor,
        items.map((p) => ({
          clinicId: p.clinicId,
          action: 'patient.list',
          entityType: 'patient',
          entityId: p.id,
          patientId: p.id,
        })),
      );
      const last = items[items.length - 1];
      return {
        items: items.map(toDto),
        nextCursor: rows.length > limit && last ? encodeCursor([last.fullName, last.id]) : null,
      };
    });
  }

  async get(actor: Actor, id: string): Promise<PatientDto> {
    return this.dataSource.transaction(async (m) => {
      const p = await this.repo.find(m, id, actor.clinicId);
      if (!p) throw notFound();
      await this.audit.record(m, actor, {
        clinicId: p.clinicId,
        action: 'patient.read',
        entityType: 'patient',
        entityId: id,
        patientId: id,
      });
      return toDto(p);
    });
  }

  async update(actor: Actor, id: string, dto: UpdatePatientDto): Promise<PatientDto> {
    return this.dataSource.transaction(async (m) => {
      const p = await this.repo.lock(m, id, actor.clinicId);
      if (!p) throw notFound();
      await this.checkDates(m, p.clinicId, dto);
      const before = toDto(p);
      const { weightKg, ...rest } = dto;
      Object.assign(p, rest, { version: p.version + 1 });
      if (weightKg !== undefined) Object.assign(p, enterWeight(p, actor, weightKg, this.clock.now().toJSDate()));
      // The audit says what the weight entry did: a confirmed weight, or a pending one.
      const after = toDto(p);
      const changes = changedFields(
        before,
        weightKg === undefined ? rest : { ...rest, weightKg: after.weightKg, pendingWeightKg: after.pendingWeightKg },
      );
      const saved = await this.repo.save(m, p);
      await this.audit.record(m, actor, {
        clinicId: p.clinicId,
        action: 'patient.update',
        entityType: 'patient',
        entityId: id,
        patientId: id,
        ...changes,
      });
      return toDto(saved);
    });
  }
}
