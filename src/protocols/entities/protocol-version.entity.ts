import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ProtocolStep } from '../domain/protocol-step.js';

/** A published, immutable version (a trigger refuses changes other than retiring). */
@Entity({ name: 'protocol_versions' })
export class ProtocolVersionEntity {
  @PrimaryColumn('uuid', { name: 'clinic_id' }) clinicId: string;
  @PrimaryColumn('uuid', { name: 'protocol_id' }) protocolId: string;
  @PrimaryColumn('int') version: number;
  @Column('text') name: string;
  @Column('text') indication: string;
  @Column('text', { nullable: true }) description: string | null;
  @Column('jsonb') steps: ProtocolStep[];
  @Column('timestamptz', { name: 'published_at' }) publishedAt: Date;
  @Column('uuid', { name: 'published_by', nullable: true }) publishedBy: string | null;
  @Column('timestamptz', { name: 'retired_at', nullable: true }) retiredAt: Date | null;
}
