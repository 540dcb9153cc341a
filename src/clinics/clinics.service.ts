import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { changedFields } from '../audit/changes.js';
import type { Actor } from '../common/auth/actor.js';
import { Clock } from '../common/clock/clock.js';
import { requireLocalDateWithinHorizon } from '../common/validation/date-horizon.js';
import { ForbiddenError, ValidationFailedError } from '../common/errors/common.errors.js';
import { decodeCursor, encodeCursor, type Page } from '../common/paging/cursor.js';
import { minutesOfDay } from '../common/validation/validators.js';
import { ClinicError, ClinicErrorCode } from './clinics.errors.js';
import { ClinicsRepository } from './clinics.repository.js';
import type { ChairDto, CreateChairDto, UpdateChairDto } from './dto/chair.dto.js';
import type { ClinicDto, CreateClinicDto, UpdateClinicDto } from './dto/clinic.dto.js';
import type { ClosureDto, CreateClosureDto } from './dto/closure.dto.js';
import type { CreateStaffDto, StaffDto, UpdateStaffDto } from './dto/staff.dto.js';
import type { ChairEntity } from './entities/chair.entity.js';
import type { ClinicEntity } from './entities/clinic.entity.js';
import type { ClosureEntity } from './entities/closure.entity.js';
import type { StaffMemberEntity } from './entities/staff-member.entity.js';
import { isUniqueViolation } from '../common/errors/database-errors.js';
import { presentIntervals } from '../common/weekly-interval.js';

const toClinicDto = (c: ClinicEntity): ClinicDto => ({
  id: c.id,
  name: c.name,
  timezone: c.timezone,
  openingHours: presentIntervals(c.openingHours),
  checkInOpensDaysBefore: c.checkInOpensDaysBefore,
  maxStartsPerSlot: c.maxStartsPerSlot ?? null,
  maxStartsPerNursePerSlot: c.maxStartsPerNursePerSlot ?? null,
  levelling: c.levelling ?? 'off',
  version: c.version,
  createdAt: c.createdAt.toISOString(),
  updatedAt: c.updatedAt.toISOString(),
});
const toChairDto = (c: ChairEntity): ChairDto => ({ id: c.id, clinicId: c.clinicId, name: c.name, active: c.active });
const toStaffDto = (s: StaffMemberEntity): StaffDto => ({
  id: s.id,
  clinicId: s.clinicId,
  name: s.name,
  role: s.role,
  availability: presentIntervals(s.availability),
  maxConcurrentPatients: s.maxConcurrentPatients,
  active: s.active,
});
const hhmm = (t: string | null) => (t === null ? null : t.slice(0, 5));
const toClosureDto = (x: ClosureEntity): ClosureDto => ({
  id: x.id,
  clinicId: x.clinicId,
  startDate: x.startDate,
  endDate: x.endDate,
  startTime: hhmm(x.startTime),
  endTime: hhmm(x.endTime),
  reason: x.reason,
});

const clinicNotFound = () => new ClinicError(ClinicErrorCode.CLINIC_NOT_FOUND, 'No such clinic.');

/** Clinics and the resources they schedule with: chairs, staff, closures. */
@Injectable()
export class ClinicsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: ClinicsRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** A clinic the actor may see; another clinic's id looks exactly like an unknown one. */
  async requireClinic(actor: Actor, clinicId: string): Promise<ClinicEntity> {
    if (actor.clinicId !== null && actor.clinicId !== clinicId) throw clinicNotFound();
    const clinic = await this.repo.findClinic(clinicId);
    if (!clinic) throw clinicNotFound();
    return clinic;
  }

  async create(actor: Actor, dto: CreateClinicDto): Promise<ClinicDto> {
    if (actor.clinicId !== null) throw new ForbiddenError('Only an operator key may create clinics.');
    return this.dataSource.transaction(async (m) => {
      const clinic = await this.repo.insertClinic(m, dto);
      await this.audit.record(m, actor, {
        clinicId: clinic.id,
        action: 'clinic.create',
        entityType: 'clinic',
        entityId: clinic.id,
      });
      return toClinicDto(clinic);
    });
  }

  async list(actor: Actor, limit = 50, cursor?: string): Promise<Page<ClinicDto>> {
    const after = decodeCursor(cursor, ['text', 'uuid']);
    // Every clinic the key may act in (an operator key: all, unless it picked one with the header).
    const only = actor.clinicIds ?? (actor.clinicId !== null ? [actor.clinicId] : undefined);
    const rows = await this.repo.listClinics(only, limit + 1, after);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toClinicDto),
      nextCursor: rows.length > limit && last ? encodeCursor([last.name, last.id]) : null,
    };
  }

  async get(actor: Actor, id: string): Promise<ClinicDto> {
    return toClinicDto(await this.requireClinic(actor, id));
  }

  async update(actor: Actor, id: string, dto: UpdateClinicDto): Promise<ClinicDto> {
    if (actor.clinicId !== null && actor.clinicId !== id) throw clinicNotFound();
    return this.dataSource.transaction(async (m) => {
      const clinic = await this.repo.lockClinic(m, id);
      if (!clinic) throw clinicNotFound();
      const changes = changedFields(toClinicDto(clinic), dto);
      const limitsChanged =
        (dto.maxStartsPerSlot !== undefined && dto.maxStartsPerSlot !== clinic.maxStartsPerSlot) ||
        (dto.maxStartsPerNursePerSlot !== undefined &&
          dto.maxStartsPerNursePerSlot !== clinic.maxStartsPerNursePerSlot);
      Object.assign(clinic, dto);
      const saved = await this.repo.updateClinic(m, clinic);
      if (limitsChanged) {
        // The row is locked: bookings wait for us (sync_session_start_seat takes it FOR SHARE) and
        // we see every one made before. Seats numbered afresh; a limit below what is booked ahead is refused.
        const over = await this.repo.renumberStartSeats(m, id, this.clock.now().toJSDate());
        if (over) {
          throw new ValidationFailedError([
            {
              field: over.field,
              message: `${over.count} infusion starts are already booked in the quarter hour at ${over.startsAt.toISOString()}; move them before lowering the limit`,
            },
          ]);
        }
      }
      await this.audit.record(m, actor, {
        clinicId: id,
        action: 'clinic.update',
        entityType: 'clinic',
        entityId: id,
        ...changes,
      });
      return toClinicDto(saved);
    });
  }

  // Chairs

  async listChairs(actor: Actor, clinicId: string): Promise<{ items: ChairDto[] }> {
    await this.requireClinic(actor, clinicId);
    return { items: (await this.repo.listChairs(clinicId)).map(toChairDto) };
  }

  async createChair(actor: Actor, clinicId: string, dto: CreateChairDto): Promise<ChairDto> {
    await this.requireClinic(actor, clinicId);
    return this.writeChair(actor, 'chair.create', { clinicId, name: dto.name, active: dto.active ?? true });
  }

  async updateChair(actor: Actor, clinicId: string, chairId: string, dto: UpdateChairDto): Promise<ChairDto> {
    await this.requireClinic(actor, clinicId);
    const chair = await this.repo.findChair(clinicId, chairId);
    if (!chair) throw new ClinicError(ClinicErrorCode.CHAIR_NOT_FOUND, 'No such chair in this clinic.');
    const renamed = dto.name !== undefined && dto.name !== chair.name;
    return this.writeChair(actor, 'chair.update', { ...chair, ...dto }, changedFields(toChairDto(chair), dto), renamed);
  }

  private async writeChair(
    actor: Actor,
    action: string,
    chair: Partial<ChairEntity>,
    changes?: ReturnType<typeof changedFields>,
    renamed = false,
  ): Promise<ChairDto> {
    try {
      return await this.dataSource.transaction(async (m) => {
        // Calendars and synced copies show the chair's name: its sessions to come get a new revision.
        if (renamed)
          await this.repo.reviseUpcomingSessions(
            m,
            chair.clinicId!,
            { chairId: chair.id! },
            this.clock.now().toJSDate(),
          );
        const saved = await this.repo.saveChair(m, chair);
        await this.audit.record(m, actor, {
          clinicId: saved.clinicId,
          action,
          entityType: 'chair',
          entityId: saved.id,
          ...changes,
        });
        return toChairDto(saved);
      });
    } catch (err) {
      if (isUniqueViolation(err, 'chairs_name_uq')) {
        throw new ClinicError(
          ClinicErrorCode.CHAIR_NAME_TAKEN,
          `A chair named "${chair.name}" already exists in this clinic.`,
        );
      }
      throw err;
    }
  }

  // Staff

  async listStaff(actor: Actor, clinicId: string): Promise<{ items: StaffDto[] }> {
    await this.requireClinic(actor, clinicId);
    return { items: (await this.repo.listStaff(clinicId)).map(toStaffDto) };
  }

  async createStaff(actor: Actor, clinicId: string, dto: CreateStaffDto): Promise<StaffDto> {
    await this.requireClinic(actor, clinicId);
    return this.writeStaff(actor, 'staff.create', {
      clinicId,
      name: dto.name,
      role: dto.role,
      availability: dto.availability,
      maxConcurrentPatients: dto.maxConcurrentPatients ?? 1,
      active: dto.active ?? true,
    });
  }

  async updateStaff(actor: Actor, clinicId: string, staffId: string, dto: UpdateStaffDto): Promise<StaffDto> {
    await this.requireClinic(actor, clinicId);
    const staff = await this.repo.findStaff(clinicId, staffId);
    if (!staff) throw new ClinicError(ClinicErrorCode.STAFF_NOT_FOUND, 'No such staff member in this clinic.');
    const renamed = dto.name !== undefined && dto.name !== staff.name;
    return this.writeStaff(actor, 'staff.update', { ...staff, ...dto }, changedFields(toStaffDto(staff), dto), renamed);
  }

  private writeStaff(
    actor: Actor,
    action: string,
    staff: Partial<StaffMemberEntity>,
    changes?: ReturnType<typeof changedFields>,
    renamed = false,
  ): Promise<StaffDto> {
    return this.dataSource.transaction(async (m) => {
      // Calendars and synced copies show the staff member's name: their sessions to come get a new
      // revision. Before the staff row is locked, in the order a session change takes its locks
      // (the session row, then the staff row FOR SHARE in sessions_seat_within_capacity).
      if (renamed)
        await this.repo.reviseUpcomingSessions(m, staff.clinicId!, { staffId: staff.id! }, this.clock.now().toJSDate());
      const saved = await this.repo.saveStaff(m, staff);
      // The row is now locked: bookings wait for us (see sessions_seat_within_capacity), and we
      // see every booking made before. Refuse a limit below what is already booked ahead.
      const inUse = await this.repo.highestSeatBookedAhead(m, saved.clinicId, saved.id, this.clock.now().toJSDate());
      if (inUse > saved.maxConcurrentPatients) {
        throw new ClinicError(
          ClinicErrorCode.STAFF_CAPACITY_IN_USE,
          `${saved.name} already has up to ${inUse} patients at once booked ahead; move those sessions before lowering the limit.`,
        );
      }
      await this.audit.record(m, actor, {
        clinicId: saved.clinicId,
        action,
        entityType: 'staff_member',
        entityId: saved.id,
        ...changes,
      });
      return toStaffDto(saved);
    });
  }

  // Closures

  async listClosures(actor: Actor, clinicId: string, from?: string, to?: string): Promise<{ items: ClosureDto[] }> {
    await this.requireClinic(actor, clinicId);
    return { items: (await this.repo.listClosures(clinicId, from, to)).map(toClosureDto) };
  }

  async createClosure(actor: Actor, clinicId: string, dto: CreateClosureDto): Promise<ClosureDto> {
    const clinic = await this.requireClinic(actor, clinicId);
    const endDate = dto.endDate ?? dto.startDate;
    requireLocalDateWithinHorizon(
      dto.endDate === undefined ? 'startDate' : 'endDate',
      endDate,
      this.clock.now(),
      clinic.timezone,
    );
    if (endDate < dto.startDate) {
      throw new ValidationFailedError([{ field: 'endDate', message: 'endDate must not be before startDate' }]);
    }
    if (
      dto.startTime &&
      dto.endTime &&
      endDate === dto.startDate &&
      minutesOfDay(dto.endTime) <= minutesOfDay(dto.startTime)
    ) {
      throw new ValidationFailedError([
        { field: 'endTime', message: 'endTime must be later than startTime on a one-day closure' },
      ]);
    }
    return this.dataSource.transaction(async (m) => {
      const saved = await this.repo.saveClosure(m, {
        clinicId,
        startDate: dto.startDate,
        endDate,
        startTime: dto.startTime ?? null,
        endTime: dto.endTime ?? null,
        reason: dto.reason,
      });
      await this.audit.record(m, actor, {
        clinicId,
        action: 'closure.create',
        entityType: 'closure',
        entityId: saved.id,
      });
      return toClosureDto(saved);
    });
  }

  async deleteClosure(actor: Actor, clinicId: string, closureId: string): Promise<void> {
    await this.requireClinic(actor, clinicId);
    await this.dataSource.transaction(async (m) => {
      if (!(await this.repo.deleteClosure(m, clinicId, closureId))) {
        throw new ClinicError(ClinicErrorCode.CLOSURE_NOT_FOUND, 'No such closure in this clinic.');
      }
      await this.audit.record(m, actor, {
        clinicId,
        action: 'closure.delete',
        entityType: 'closure',
        entityId: closureId,
      });
    });
  }
}
