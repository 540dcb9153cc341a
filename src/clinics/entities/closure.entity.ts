import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A closure in the clinic's local terms: whole days, or from start date+time to end date+time. */
@Entity({ name: 'closures' })
export class ClosureEntity {
  @PrimaryColumn('uuid', { name: 'clinic_id' }) clinicId: string;
  @PrimaryColumn('uuid', { default: () => 'gen_random_uuid()' }) id: string;
  @Column('date', { name: 'start_date' }) startDate: string;
  @Column('date', { name: 'end_date' }) endDate: string;
  @Column('time', { name: 'start_time', nullable: true }) startTime: string | null;
  @Column('time', { name: 'end_time', nullable: true }) endTime: string | null;
  @Column('text') reason: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
