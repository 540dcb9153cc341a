import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { Tailoring } from '../../protocols/domain/tailor.js';

export const PLAN_STATUSES = ['active', 'completed', 'ended_early'] as const;
export type PlanStatus = (typeof PLAN_STATUSES)[number];

/** One patient's series: pinned to the protocol version it was made from, with its tailoring. */
@Entity({ name: 'plans' })
export class PlanEntity {
  @PrimaryColumn('uuid', { name: 'clinic_id' }) clinicId: string;
  @PrimaryColumn('uuid', { default: () => 'gen_random_uuid()' }) id: string;
  @Column('uuid', { name: 'patient_id' }) patientId: string;
  @Column('uuid', { name: 'protocol_id' }) protocolId: string;
  @Column('int', { name: 'protocol_version' }) protocolVersion: number;
  @Column('jsonb') tailoring: Tailoring;
  @Column('date', { name: 'earliest_start' }) earliestStart: string;
  @Column('text') status: PlanStatus;
  @Column('int') version: number;
  @Column('uuid', { name: 'created_by', nullable: true }) createdBy: string | null;
  /** Booked on purpose beside another active series of the same protocol (a clinician's decision). */
  @Column('boolean', { name: 'concurrent_series', default: false }) concurrentSeries: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
