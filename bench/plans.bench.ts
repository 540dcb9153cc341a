/**
 * `npm run bench`: seeds a clinic with 20 chairs and about 20,000 booked sessions on a throwaway
 * embedded PostgreSQL, then measures over loopback HTTP (the real app, its real database):
 *   - preview latency for the demo ketamine protocol (p50/p95),
 *   - booking throughput with 1 and 8 concurrent clients,
 *   - availability latency for 4 weeks,
 *   - the day sheet (GET /v1/sessions) for a day, and for one chair's week.
 * Every loop is bounded in count and time. Prints figures; asserts nothing.
 */
import 'reflect-metadata';
import { chmodSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import pg from 'pg';
import { createApp } from '../src/app.setup.js';
import { ApiKeysService } from '../src/api-keys/api-keys.service.js';
import { FixedClock } from '../src/common/clock/clock.js';
import { loadConfig } from '../src/config/app-config.js';
import { runMigrations } from '../src/database/database-bootstrap.js';
import { ensureDatabase, startEmbeddedPostgres, withDatabase } from '../src/database/embedded-postgres.js';
import { KETAMINE_PROTOCOL } from '../src/seed/demo-protocol.js';
import { DataSource } from 'typeorm';

const CHAIRS = 20;
const NURSES = 10; // two seats each: one lane per chair
const SLOTS = ['07:00', '09:30', '12:00', '14:30']; // 100-minute infusions + recovery, gaps between
const DAYS = 300;
const ZONE = 'America/New_York';
const NOW = '2026-11-25T12:00:00Z';
const MAX_SECONDS = 20;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(1)} ms, p95 ${pct(xs, 95).toFixed(1)} ms (n=${xs.length})`;

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chairside-bench-'));
  chmodSync(dir, 0o755);
  const cluster = await startEmbeddedPostgres(path.join(dir, 'pg'), { persistent: false });
  await ensureDatabase(cluster.adminUrl, 'bench');
  const url = withDatabase(cluster.adminUrl, 'bench');
  await runMigrations(url);
  const clock = new FixedClock(DateTime.fromISO(NOW, { zone: 'utc' }));
  const app = await createApp({ config: { ...loadConfig({ LOG_LEVEL: 'silent' }), databaseUrl: url, dbPoolSize: 10 }, databaseUrl: url, clock });
  await app.listen(0, '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');

  try {
    // ---- seed ----
    const t0 = performance.now();
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    const week = [1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: '07:00', end: '19:00' }));
    const [{ id: clinicId }] = (await db.query(`INSERT INTO clinics (name, timezone, opening_hours) VALUES ('Bench clinic', $1, $2) RETURNING id`, [ZONE, JSON.stringify(week)])).rows;
    const chairs = (await db.query(`INSERT INTO chairs (clinic_id, name) SELECT $1, 'Chair ' || lpad(g::text, 2, '0') FROM generate_series(1, ${CHAIRS}) g RETURNING id`, [clinicId])).rows.map((r) => r.id as string);
    const nurses = (
      await db.query(
        `INSERT INTO staff_members (clinic_id, name, role, availability, max_concurrent_patients)
         SELECT $1, 'Nurse ' || g, 'nurse', $2, 2 FROM generate_series(1, ${NURSES}) g RETURNING id`,
        [clinicId, JSON.stringify(week)],
      )
    ).rows.map((r) => r.id as string);
    // Enough physicians and therapists for 20 chairs: the chairs and nurses are what is contended.
    await db.query(
      `INSERT INTO staff_members (clinic_id, name, role, availability, max_concurrent_patients)
       SELECT $1, r || ' ' || g, r, $2, 1 FROM generate_series(1, 8) g, unnest(ARRAY['physician', 'therapist']) r`,
      [clinicId, JSON.stringify(week)],
    );
    const patients = (
      await db.query(
        `INSERT INTO patients (clinic_id, full_name, date_of_birth, weight_kg) SELECT $1, 'Patient ' || g, '1980-01-01', 60 + g % 40 FROM generate_series(1, 3000) g RETURNING id`,
        [clinicId],
      )
    ).rows.map((r) => r.id as string);
    const [{ id: protocolId }] = (
      await db.query(`INSERT INTO protocols (clinic_id, name, indication, draft_steps) VALUES ($1, $2, $3, $4) RETURNING id`, [
        clinicId,
        KETAMINE_PROTOCOL.name,
        KETAMINE_PROTOCOL.indication,
        JSON.stringify(KETAMINE_PROTOCOL.steps),
      ])
    ).rows;
    await db.query(
      `INSERT INTO protocol_versions (clinic_id, protocol_id, version, name, indication, steps) SELECT clinic_id, id, 1, name, indication, draft_steps FROM protocols WHERE id = $1`,
      [protocolId],
    );
    await db.query(`UPDATE protocols SET latest_version = 1 WHERE id = $1`, [protocolId]);
    // One placeholder plan per existing patient, holding the seeded sessions.
    const planOf = new Map<string, string>();
    const planRows = await db.query(
      `INSERT INTO plans (clinic_id, patient_id, protocol_id, protocol_version, tailoring, earliest_start)
       SELECT $1, p, $2, 1, '{}', '2026-11-25' FROM unnest($3::uuid[]) p RETURNING id, patient_id`,
      [clinicId, protocolId, patients.slice(0, 2000)],
    );
    for (const r of planRows.rows) planOf.set(r.patient_id, r.id);

    const rows: unknown[][] = [];
    const first = DateTime.fromISO('2026-11-26', { zone: ZONE });
    let n = 0;
    for (let d = 0; d < DAYS; d++) {
      const day = first.plus({ days: d });
      if (day.weekday === 7) continue;
      for (let k = 0; k < SLOTS.length; k++) {
        const [h, m] = SLOTS[k].split(':').map(Number);
        const start = day.set({ hour: h, minute: m });
        for (let c = 0; c < CHAIRS; c++) {
          const patient = patients[((d * SLOTS.length + k) * CHAIRS + c) % 2000];
          rows.push([clinicId, planOf.get(patient), patient, `bench#${n}`, start.toJSDate(), start.plus({ minutes: 40 }).toJSDate(), start.plus({ minutes: 100 }).toJSDate(), chairs[c], nurses[c % NURSES], Math.floor(c / NURSES) + 1]);
          n++;
        }
      }
    }
    for (let i = 0; i < rows.length; i += 1000) {
      const chunk = rows.slice(i, i + 1000);
      const values = chunk.map((_, j) => `(${Array.from({ length: 10 }, (_, x) => `$${j * 10 + x + 1}`).join(',')}, 'infusion', 1, 'infusion', 'Ketamine infusion')`).join(',');
      await db.query(
        `INSERT INTO sessions (clinic_id, plan_id, patient_id, ref, starts_at, ends_at, occupied_until, chair_id, staff_id, staff_seat, step_key, occurrence, kind, label) VALUES ${values}`,
        chunk.flat(),
      );
    }
    await db.query('ANALYZE');
    await db.end();
    const ds = app.get(DataSource);
    const key = await ds.transaction(async (m) => (await app.get(ApiKeysService).issue(m, { clinicId, role: 'front_desk', name: 'bench' })).key);
    const headers = { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' };
    console.log(`seeded ${n} sessions on ${CHAIRS} chairs over ${DAYS} days in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const fresh = patients.slice(2000);
    let nextPatient = 0;
    const body = (i: number, offset = 0) =>
      JSON.stringify({ patientId: fresh[nextPatient++ % fresh.length], protocolId, earliestStart: first.plus({ days: offset + (i % 100) }).toISODate() });
    let sample422: string | undefined;
    const call = async (method: string, p: string, b?: string) => {
      const t = performance.now();
      const res = await fetch(base + p, { method, headers, body: b });
      const text = await res.text();
      if (res.status === 422 && !sample422) sample422 = text;
      return { ms: performance.now() - t, status: res.status };
    };
    const deadline = () => performance.now() + MAX_SECONDS * 1000;

    // ---- preview ----
    for (let i = 0; i < 20; i++) await call('POST', '/v1/plans/preview', body(i)); // warm-up
    const preview: number[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0, end = deadline(); i < 300 && performance.now() < end; i++) {
      const r = await call('POST', '/v1/plans/preview', body(i));
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      preview.push(r.ms);
    }
    console.log(`preview (demo protocol, 15 sessions): ${fmt(preview)}; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);

    // ---- availability ----
    const avail: number[] = [];
    for (let i = 0, end = deadline(); i < 200 && performance.now() < end; i++) {
      const from = first.plus({ days: i % 60 });
      const q = `/v1/clinics/${clinicId}/availability?from=${from.toISODate()}&to=${from.plus({ days: 27 }).toISODate()}&durationMinutes=40&recoveryMinutes=60&role=nurse&needsChair=true`;
      avail.push((await call('GET', q)).ms);
    }
    console.log(`availability (4 weeks, chair + nurse): ${fmt(avail)}`);

    // ---- day sheet ----
    const sheet: number[] = [];
    for (let i = 0, end = deadline(); i < 200 && performance.now() < end; i++) {
      const day = first.plus({ days: i % 120 }).toISODate();
      sheet.push((await call('GET', `/v1/sessions?from=${day}&to=${day}&limit=100`)).ms);
    }
    console.log(`day sheet (one day, up to 100 sessions, each read audited): ${fmt(sheet)}`);
    const chairSheet: number[] = [];
    for (let i = 0, end = deadline(); i < 200 && performance.now() < end; i++) {
      const from = first.plus({ days: i % 120 });
      chairSheet.push((await call('GET', `/v1/sessions?from=${from.toISODate()}&to=${from.plus({ days: 6 }).toISODate()}&chairId=${chairs[i % CHAIRS]}&limit=100`)).ms);
    }
    console.log(`one chair's week: ${fmt(chairSheet)}`);

    // ---- booking ----
    // Each run books into its own stretch of the calendar, so neither measures a clinic the other filled.
    for (const [clients, offset] of [[1, 0], [8, 120]]) {
      const lat: number[] = [];
      const byStatus = new Map<number, number[]>();
      const outcome = new Map<number, number>();
      const started = performance.now();
      const end = started + 10_000;
      let issued = 0;
      const limit = 400;
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (issued < limit && performance.now() < end) {
            const r = await call('POST', '/v1/plans', body(issued++, offset));
            lat.push(r.ms);
            byStatus.set(r.status, [...(byStatus.get(r.status) ?? []), r.ms]);
            outcome.set(r.status, (outcome.get(r.status) ?? 0) + 1);
          }
        }),
      );
      const secs = (performance.now() - started) / 1000;
      console.log(
        `booking, ${clients} client(s): ${((outcome.get(201) ?? 0) / secs).toFixed(1)} series/s booked; ${fmt(lat)}; statuses ${JSON.stringify(Object.fromEntries(outcome))}`,
      );
      for (const [status, xs] of byStatus) console.log(`  ${status}: ${fmt(xs)}`);
    }
    const check = new pg.Client({ connectionString: url });
    await check.connect();
    const [{ overlaps }] = (
      await check.query(`SELECT count(*)::int AS overlaps FROM sessions a JOIN sessions b ON a.clinic_id = b.clinic_id AND a.chair_id = b.chair_id AND a.id < b.id AND a.during && b.during
                          WHERE a.status IN ('scheduled','checked_in','completed') AND b.status IN ('scheduled','checked_in','completed')`)
    ).rows;
    const [{ total }] = (await check.query(`SELECT count(*)::int AS total FROM sessions`)).rows;
    await check.end();
    console.log(`sessions now: ${total}; overlapping chair bookings: ${overlaps}`);
    if (sample422) console.log(`a refusal: ${sample422}`);
  } finally {
    await app.close();
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
