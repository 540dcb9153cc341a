import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A calendar feed lives no longer than the API key that created it: revoking a key revokes its
 * feeds (in the revoke's transaction, see ApiKeysService.revoke). This migration
 * - revokes the active feeds whose creating key is already revoked (at the later of the key's
 *   revocation and the feed's creation), each with an audit row by the system;
 * - ties `created_by_key_id` to `api_keys` with a foreign key (keys are never deleted);
 * - indexes a key's active feeds for the cascade.
 * Feeds without a known creator (none are created so: every feed is made with a key) stay active;
 * the feed list shows their creator as null, and an admin can revoke them by hand.
 */
export class FeedsFollowTheirKey1765065600000 implements MigrationInterface {
  name = 'FeedsFollowTheirKey1765065600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      WITH gone AS (
        UPDATE calendar_feeds f SET revoked_at = greatest(k.revoked_at, f.created_at)
          FROM api_keys k
         WHERE k.id = f.created_by_key_id AND k.revoked_at IS NOT NULL AND f.revoked_at IS NULL
        RETURNING f.clinic_id, f.id, f.scope, f.scope_id, f.created_by_key_id
      )
      INSERT INTO audit_events (clinic_id, actor_key_id, actor_role, action, entity_type, entity_id, patient_id, changes)
      SELECT clinic_id, NULL, 'system', 'calendar_feed.revoke', 'calendar_feed', id,
             CASE WHEN scope = 'patient' THEN scope_id END,
             jsonb_build_object('before', NULL, 'after', jsonb_build_object('reason', 'creator_key_revoked', 'keyId', created_by_key_id))
        FROM gone`);
    await q.query(`
      UPDATE calendar_feeds f SET created_by_key_id = NULL
       WHERE created_by_key_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM api_keys k WHERE k.id = f.created_by_key_id)`);
    await q.query(`
      ALTER TABLE calendar_feeds ADD CONSTRAINT calendar_feeds_created_by_key_fk
        FOREIGN KEY (created_by_key_id) REFERENCES api_keys (id)`);
    await q.query(
      `CREATE INDEX calendar_feeds_creator_idx ON calendar_feeds (created_by_key_id) WHERE revoked_at IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX calendar_feeds_creator_idx`);
    await q.query(`ALTER TABLE calendar_feeds DROP CONSTRAINT calendar_feeds_created_by_key_fk`);
  }
}
