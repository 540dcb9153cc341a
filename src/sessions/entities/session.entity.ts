import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { PlannedDose } from '../../protocols/domain/tailor.js';

export const SESSION_STATUSES = ['scheduled', 'checked_in', 'completed', 'no_show', 'cancelled'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];
/** Statuses that hold their chair, seat and patient time (the exclusion constraints' predicate). */
export const ACTIVE_SESSION_STATUSES: SessionStatus[] = ['scheduled', 'checked_in', 'completed'];

/** One appointment. `during` (a generated tstzrange over starts_at..occupied_until) is not mapped. */
@Entity({ name: 'sessions' })
export class SessionEntity {
  @PrimaryColumn('uuid', { name: 'clinic_id' }) clinicId: string;
  @PrimaryColumn('uuid', { default: () => 'gen_random_uuid()' }) id: string;
  @Column('uuid', { name: 'plan_id' }) planId: string;
  @Column('uuid', { name: 'patient_id' }) patientId: string;
  @Column('text') ref: string;
  @Column('text', { name: 'step_key' }) stepKey: string;
  @Column('int') occurrence: number;
  @Column('text') kind: string;
  @Column('text') label: string;
  @Column('timestamptz', { name: 'starts_at' }) startsAt: Date;
  @Column('timestamptz', { name: 'ends_at' }) endsAt: Date;
  /** End of the time the session holds its chair, seat and patient: ends_at + recovery. */
  @Column('timestamptz', { name: 'occupied_until' }) occupiedUntil: Date;
  @Column('uuid', { name: 'chair_id', nullable: true }) chairId: string | null;
  @Column('uuid', { name: 'staff_id', nullable: true }) staffId: string | null;
  @Column('int', { name: 'staff_seat', nullable: true }) staffSeat: number | null;
  @Column('text') status: SessionStatus;
  @Column('jsonb', { name: 'planned_dose', nullable: true }) plannedDose: PlannedDose | null;
  @Column('timestamptz', { name: 'checked_in_at', nullable: true }) checkedInAt: Date | null;
  @Column('timestamptz', { name: 'actual_start', nullable: true }) actualStart: Date | null;
  @Column('timestamptz', { name: 'actual_end', nullable: true }) actualEnd: Date | null;
  @Column('jsonb', { name: 'dose_given', nullable: true }) doseGiven: {
    amount: number;
    unit: string;
    totalMg: number | null;
  } | null;
  @Column('text', { name: 'status_reason', nullable: true }) statusReason: string | null;
  @Column('int') version: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
