import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { WeeklyInterval } from '../../common/weekly-interval.js';

@Entity({ name: 'clinics' })
export class ClinicEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text') name: string;
  /** IANA zone, e.g. America/New_York: every scheduling rule is evaluated in it. */
  @Column('text') timezone: string;
  @Column('jsonb', { name: 'opening_hours' }) openingHours: WeeklyInterval[];
  /** Check-in opens this many local days before a session's day (0: that day only). */
  @Column('smallint', { name: 'check_in_opens_days_before', default: 0 }) checkInOpensDaysBefore: number;
  /** Start staggering: the most infusion starts (sessions holding a chair) per quarter hour; null: no limit. */
  @Column('smallint', { name: 'max_starts_per_slot', nullable: true, default: null }) maxStartsPerSlot: number | null;
  /** The same per nurse (staff member of the session); null: no limit. */
  @Column('smallint', { name: 'max_starts_per_nurse_per_slot', nullable: true, default: null })
  maxStartsPerNursePerSlot: number | null;
  /** 'balanced': the engine prefers the times with the fewest chairs occupied; 'off': the earliest. */
  @Column('text', { default: 'off' }) levelling: 'off' | 'balanced';
  @Column('int') version: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
