import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { ProtocolStep } from '../domain/protocol-step.js';

@Entity({ name: 'protocols' })
export class ProtocolEntity {
  @PrimaryColumn('uuid', { name: 'clinic_id' }) clinicId: string;
  @PrimaryColumn('uuid', { default: () => 'gen_random_uuid()' }) id: string;
  @Column('text') name: string;
  @Column('text') indication: string;
  @Column('text', { nullable: true }) description: string | null;
  @Column('jsonb', { name: 'draft_steps' }) draftSteps: ProtocolStep[];
  /** Raised on every draft change; the draft's ETag. */
  @Column('int', { name: 'draft_revision' }) draftRevision: number;
  @Column('timestamptz', { name: 'draft_updated_at' }) draftUpdatedAt: Date;
  @Column('int', { name: 'latest_version' }) latestVersion: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
