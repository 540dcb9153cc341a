/**
 * The outcomes benchmark's clinic: the ketamine protocol (versions 1 and 2) and 5,000 past series
 * (2,500 per version, one patient each), first sessions spread over the last year, written by the
 * demo history generator (`npm run bench:outcomes`, bench/outcomes.ts).
 */
import { randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import type pg from 'pg';
import { hashKey } from '../src/api-keys/api-keys.service.js';
import { KETAMINE_PROTOCOL, KETAMINE_PROTOCOL_V2 } from '../src/seed/demo-protocol.js';
import { insertHistory, type Queryable } from '../src/seed/history-writer.js';
import { generateHistory } from '../src/seed/outcome-history.js';

export const PLANS = 5_000;
const BATCH = 250;
export const ZONE = 'America/New_York';

export async function seedOutcomes(
  db: pg.Client,
): Promise<{ protocolId: string; key: string; sessions: number; observations: number }> {
  const q: Queryable = { query: async (sql, params) => (await db.query(sql, params as unknown[])).rows };
  const [clinic] = await q.query(
    `INSERT INTO clinics (name, timezone, opening_hours, version) VALUES ('Outcomes bench', $1, '[]', 1) RETURNING id`,
    [ZONE],
  );
  const key = `cs_bench_${randomBytes(16).toString('hex')}`;
  await q.query(
    `INSERT INTO api_keys (clinic_id, name, role, key_prefix, key_hash) VALUES ($1, 'bench clinician', 'clinician', $2, $3)`,
    [clinic.id, key.slice(0, 12), hashKey(key)],
  );
  const [protocol] = await q.query(
    `INSERT INTO protocols (clinic_id, name, indication, description, draft_steps, draft_revision, latest_version, draft_updated_at)
     VALUES ($1, $2, $3, $4, $5, 1, 2, now()) RETURNING id`,
    [
      clinic.id,
      KETAMINE_PROTOCOL.name,
      KETAMINE_PROTOCOL.indication,
      KETAMINE_PROTOCOL.description,
      JSON.stringify(KETAMINE_PROTOCOL_V2.steps),
    ],
  );
  for (const [v, steps] of [
    [1, KETAMINE_PROTOCOL.steps],
    [2, KETAMINE_PROTOCOL_V2.steps],
  ] as const) {
    await q.query(
      `INSERT INTO protocol_versions (clinic_id, protocol_id, version, name, indication, description, steps, published_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now() - interval '400 days')`,
      [
        clinic.id,
        protocol.id,
        v,
        KETAMINE_PROTOCOL.name,
        KETAMINE_PROTOCOL.indication,
        KETAMINE_PROTOCOL.description,
        JSON.stringify(steps),
      ],
    );
  }
  const patients: { id: string }[] = await q.query(
    `INSERT INTO patients (clinic_id, full_name, date_of_birth, weight_kg, weight_confirmed_at, unavailable, unavailable_dates, preferred_times, version)
     SELECT $1, 'Bench patient ' || i, '1980-01-01', 60 + i % 40, now(), '[]', '[]', '[]', 1 FROM generate_series(1, $2::int) i ORDER BY i RETURNING id`,
    [clinic.id, PLANS],
  );
  // First sessions spread over the year before today (every series is over before today).
  const today = DateTime.now().setZone(ZONE).startOf('day');
  const plans = generateHistory({
    timezone: ZONE,
    protocolId: protocol.id,
    steps: { 1: KETAMINE_PROTOCOL.steps, 2: KETAMINE_PROTOCOL_V2.steps },
    plans: patients.map((p, k) => ({
      patientId: p.id,
      version: (k % 2) + 1,
      weightKg: 60 + (k % 40),
      firstDate: today.minus({ days: 364 - Math.floor((k * 290) / PLANS) }).toISODate()!,
    })),
    chairs: null,
    profile: {
      1: { cravingFallPerInfusion: 0.8, endedEarlyEvery: 3 },
      2: { cravingFallPerInfusion: 1.2, endedEarlyEvery: 4 },
    },
    endReason: 'Stopped attending',
    seed: 7,
  });
  for (let i = 0; i < plans.length; i += BATCH) await insertHistory(q, clinic.id, plans.slice(i, i + BATCH));
  // As a database in service would be (autovacuum): statistics and visibility map up to date.
  await q.query('VACUUM ANALYZE');
  const [counts] = await q.query(
    `SELECT (SELECT count(*) FROM sessions)::int AS sessions, (SELECT count(*) FROM session_observations)::int AS observations`,
  );
  return { protocolId: protocol.id, key, ...counts };
}
