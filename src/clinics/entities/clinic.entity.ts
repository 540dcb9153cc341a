import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { WeeklyInterval } from '../../common/weekly-interval.js';

@Entity({ name: 'clinics' })
export class ClinicEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text') name: string;
  /** IANA zone, e.g. America/New_York: every scheduling rule is evaluated in it. */
  @Column('text') timezone: string;
  @Column('jsonb', { name: 'opening_hours' }) openingHours: WeeklyInterval[];
  @Column('int') version: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
