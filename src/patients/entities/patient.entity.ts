import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { WeeklyInterval } from '../../common/weekly-interval.js';

const numeric = { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) };

@Entity({ name: 'patients' })
export class PatientEntity {
  @PrimaryColumn('uuid', { name: 'clinic_id' }) clinicId: string;
  @PrimaryColumn('uuid', { default: () => 'gen_random_uuid()' }) id: string;
  @Column('text', { name: 'full_name' }) fullName: string;
  @Column('date', { name: 'date_of_birth' }) dateOfBirth: string;
  @Column('text', { nullable: true }) email: string | null;
  @Column('text', { nullable: true }) phone: string | null;
  /** The clinician-confirmed weight, the one mg/kg doses use. numeric comes back from pg as a string; converted at the edge. */
  @Column('numeric', { name: 'weight_kg', precision: 5, scale: 1, nullable: true, transformer: numeric })
  weightKg: number | null;
  @Column('timestamptz', { name: 'weight_confirmed_at', nullable: true }) weightConfirmedAt: Date | null;
  /** The key that confirmed it (null: seeded, or stored before confirmation was tracked). */
  @Column('uuid', { name: 'weight_confirmed_by', nullable: true }) weightConfirmedBy: string | null;
  /** A weight entered by the front desk, waiting for a clinician; never used for doses. */
  @Column('numeric', { name: 'pending_weight_kg', precision: 5, scale: 1, nullable: true, transformer: numeric })
  pendingWeightKg: number | null;
  @Column('timestamptz', { name: 'pending_weight_at', nullable: true }) pendingWeightAt: Date | null;
  @Column('uuid', { name: 'pending_weight_by', nullable: true }) pendingWeightBy: string | null;
  @Column('text', { nullable: true }) notes: string | null;
  /** Weekly local times the patient cannot attend. */
  @Column('jsonb') unavailable: WeeklyInterval[];
  /** Local dates (YYYY-MM-DD) the patient cannot attend at all. */
  @Column('jsonb', { name: 'unavailable_dates' }) unavailableDates: string[];
  @Column('jsonb', { name: 'preferred_times' }) preferredTimes: WeeklyInterval[];
  @Column('int') version: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
