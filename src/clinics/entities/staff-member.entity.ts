import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { WeeklyInterval } from '../../common/weekly-interval.js';

export const STAFF_ROLES = ['nurse', 'physician', 'therapist'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

@Entity({ name: 'staff_members' })
export class StaffMemberEntity {
  @PrimaryColumn('uuid', { name: 'clinic_id' }) clinicId: string;
  @PrimaryColumn('uuid', { default: () => 'gen_random_uuid()' }) id: string;
  @Column('text') name: string;
  @Column('text') role: StaffRole;
  @Column('jsonb') availability: WeeklyInterval[];
  @Column('int', { name: 'max_concurrent_patients' }) maxConcurrentPatients: number;
  @Column('boolean') active: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
