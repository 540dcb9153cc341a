import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit trail keeps our own request id in `request_id` and, beside it, the caller's own
 * `X-Request-Id` (well-formed ones only, at most 100 characters), which used to replace ours.
 */
export class ClientRequestId1764979200001 implements MigrationInterface {
  name = 'ClientRequestId1764979200001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE audit_events ADD COLUMN client_request_id text CHECK (length(client_request_id) <= 100)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit_events DROP COLUMN client_request_id`);
  }
}
