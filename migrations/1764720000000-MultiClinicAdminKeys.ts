import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Admin keys for several clinics: besides its own clinic (`api_keys.clinic_id`), an admin key may
 * be granted more clinics, one row each; a request picks the clinic it acts in with the
 * `Chairside-Clinic` header. The composite foreign key lets the database itself refuse a grant to
 * a key that is not a clinic admin key, or a grant of the key's own clinic.
 */
export class MultiClinicAdminKeys1764720000000 implements MigrationInterface {
  name = 'MultiClinicAdminKeys1764720000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys ADD CONSTRAINT api_keys_id_role_clinic_uq UNIQUE (id, role, clinic_id)`);
    await q.query(`
      CREATE TABLE api_key_clinics (
        key_id         uuid NOT NULL,
        key_role       text NOT NULL DEFAULT 'admin' CHECK (key_role = 'admin'),
        home_clinic_id uuid NOT NULL,
        clinic_id      uuid NOT NULL REFERENCES clinics (id),
        PRIMARY KEY (key_id, clinic_id),
        CONSTRAINT api_key_clinics_key_fk FOREIGN KEY (key_id, key_role, home_clinic_id) REFERENCES api_keys (id, role, clinic_id) MATCH FULL,
        CONSTRAINT api_key_clinics_not_home_ck CHECK (clinic_id <> home_clinic_id)
      )`);
    await q.query(`CREATE INDEX api_key_clinics_clinic_idx ON api_key_clinics (clinic_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_key_clinics`);
    await q.query(`ALTER TABLE api_keys DROP CONSTRAINT api_keys_id_role_clinic_uq`);
  }
}
