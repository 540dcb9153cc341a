import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhook secret rotation: after `POST /v1/webhooks/{id}/secret` the superseded secret is kept
 * until `previous_secret_expires_at` (database time), and every attempt until then is signed with
 * both secrets, so receivers can switch to the new one at their own pace. One previous secret at
 * a time: a second rotation within the overlap replaces it.
 */
export class WebhookSecretRotation1764633600000 implements MigrationInterface {
  name = 'WebhookSecretRotation1764633600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE webhook_endpoints
        ADD COLUMN previous_secret text,
        ADD COLUMN previous_secret_expires_at timestamptz,
        ADD CONSTRAINT webhook_endpoints_previous_secret_ck CHECK ((previous_secret IS NULL) = (previous_secret_expires_at IS NULL))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE webhook_endpoints
        DROP CONSTRAINT webhook_endpoints_previous_secret_ck,
        DROP COLUMN previous_secret_expires_at,
        DROP COLUMN previous_secret`);
  }
}
