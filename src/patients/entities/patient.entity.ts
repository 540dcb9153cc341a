import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { WeeklyInterval } from '../../common/weekly-interval.js';

@Entity({ name: 'patients' })
export class PatientEntity {
  @PrimaryColumn('uuid', { name: 'clinic_id' }) clinicId: string;
  @PrimaryColumn('uuid', { default: () => 'gen_random_uuid()' }) id: string;
  @Column('text', { name: 'full_name' }) fullName: string;
  @Column('date', { name: 'date_of_birth' }) dateOfBirth: string;
  @Column('text', { nullable: true }) email: string | null;
  @Column('text', { nullable: true }) phone: string | null;
  /** numeric comes back from pg as a string; converted at the edge. */
  @Column('numeric', { name: 'weight_kg', precision: 5, scale: 1, nullable: true, transformer: { to: (v) => v, from: (v) => (v === null ? null : Number(v)) } })
  weightKg: number | null;
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
