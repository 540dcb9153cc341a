import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'audit_events' })
export class AuditEventEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint' }) id: string;
  @Column('uuid', { name: 'clinic_id', nullable: true }) clinicId: string | null;
  @Column('timestamptz', { name: 'occurred_at' }) occurredAt: Date;
  @Column('uuid', { name: 'actor_key_id', nullable: true }) actorKeyId: string | null;
  @Column('text', { name: 'actor_role', nullable: true }) actorRole: string | null;
  @Column('text') action: string;
  @Column('text', { name: 'entity_type' }) entityType: string;
  @Column('uuid', { name: 'entity_id', nullable: true }) entityId: string | null;
  @Column('uuid', { name: 'patient_id', nullable: true }) patientId: string | null;
  @Column('text', { name: 'request_id', nullable: true }) requestId: string | null;
  @Column('text', { name: 'client_request_id', nullable: true }) clientRequestId: string | null;
  @Column('text', { nullable: true }) route: string | null;
  @Column('jsonb', { nullable: true }) changes: Record<string, unknown> | null;
}
