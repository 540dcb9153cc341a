import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

import type { ApiRole } from '../../common/auth/api-role.js';

export { API_ROLES, type ApiRole } from '../../common/auth/api-role.js';

@Entity({ name: 'api_keys' })
export class ApiKeyEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  /** null: an operator key that spans every clinic (always admin). */
  @Column('uuid', { name: 'clinic_id', nullable: true }) clinicId: string | null;
  @Column('text') name: string;
  @Column('text') role: ApiRole;
  /** The first characters of the key, shown in listings so people can tell keys apart. */
  @Column('text', { name: 'key_prefix' }) keyPrefix: string;
  /** SHA-256 of the whole key; the key itself is never stored. */
  @Column('text', { name: 'key_hash', select: false }) keyHash: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column('timestamptz', { name: 'revoked_at', nullable: true }) revokedAt: Date | null;
}
