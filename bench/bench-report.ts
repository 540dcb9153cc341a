/**
 * The report of `npm run bench`: the table of measurements against their targets, the markdown
 * around it (machine, versions, data set), and bench/results.md, whose head it replaces.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BaselineRun } from './baseline.js';
import type { Booking, Latency } from './bench-measure.js';
import {
  BOOKING_PATIENTS,
  CLINICS,
  PATIENTS_PER_CLINIC,
  ROUNDS,
  SESSIONS_PER_SERIES,
  TARGET,
  p5095,
} from './bench-settings.js';
import { count, percentile, statusSummary, type LoadRun } from './load.js';
import { CHAIRS, NURSES, PHYSICIANS, STAFF, THERAPISTS } from './seed-layout.js';
import type { SeededClinic, SeededDataSet } from './seed.js';
import { PROJECT_ROOT } from './service.js';

interface Row {
  what: string;
  result: string;
  target: string;
  met: string;
}

const average = (xs: unknown[]) => (xs.length ? (xs as number[]).reduce((a, b) => a + b, 0) / xs.length : NaN);

const yesNo = (ok: boolean) => (ok ? 'yes' : '**no**');

function growthCell(big: number[], small: number[]): { text: string; met: string } {
  const r50 = percentile(big, 50) / percentile(small, 50);
  const r95 = percentile(big, 95) / percentile(small, 95);
  const met =
    r50 < TARGET.growth && r95 < TARGET.growth ? 'yes' : r50 < TARGET.growth ? 'p50 yes, **p95 no**' : '**no**';
  return { text: `×${r50.toFixed(2)} at p50 · ×${r95.toFixed(2)} at p95`, met };
}

function table(rows: Row[]): string {
  const esc = (s: string) => s.replaceAll('|', '\\|');
  return [
    '| measurement | result | target | met? |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| ${esc(r.what)} | ${esc(r.result)} | ${esc(r.target)} | ${r.met} |`),
  ].join('\n');
}

/** What the run measured, as the table needs it. */
export interface Measured {
  preview: LoadRun;
  previewSmall: LoadRun;
  sheet: LoadRun;
  sheetSmall: LoadRun;
  availability: Latency;
  feed: Latency | { unavailable: string };
  booking1: Booking;
  booking8: Booking;
  sql1: BaselineRun;
  sql8: BaselineRun;
  small: SeededDataSet;
}

/** The table's rows: each measurement, its result, its target and whether it was met. */
export function resultRows(measured: Measured): Row[] {
  const { preview, previewSmall, sheet, sheetSmall, availability, feed, booking1, booking8, sql1, sql8, small } =
    measured;
  const rows: Row[] = [];
  const p95 = (r: LoadRun) => percentile(r.ok, 95);
  rows.push({
    what: `Plan preview, demo protocol (${SESSIONS_PER_SERIES} sessions), 1 connection`,
    result: p5095(preview.ok),
    target: `p95 < ${TARGET.previewP95} ms`,
    met: yesNo(p95(preview) < TARGET.previewP95),
  });
  rows.push({
    what: 'Availability, 4 weeks (40 min + 60 min recovery, chair + nurse)',
    result: p5095(availability.run.ok),
    target: `p95 < ${TARGET.availabilityP95} ms`,
    met: yesNo(p95(availability.run) < TARGET.availabilityP95),
  });
  rows.push({
    what: `Day sheet, GET /v1/sessions for one clinic-day (avg ${average(sheet.inspected).toFixed(1)} sessions)`,
    result: p5095(sheet.ok),
    target: `p95 < ${TARGET.daySheetP95} ms`,
    met: yesNo(p95(sheet) < TARGET.daySheetP95),
  });
  rows.push(
    'unavailable' in feed
      ? { what: 'Calendar feed render, one chair (.ics)', result: 'n/a (feeds not available)', target: '–', met: '–' }
      : {
          what: `Calendar feed render, one chair (.ics, ${feed.note})`,
          result: p5095(feed.run.ok),
          target: '–',
          met: '–',
        },
  );
  for (const [clients, api, sql] of [
    [1, booking1, sql1],
    [8, booking8, sql8],
  ] as const) {
    const sqlRate = sql.series / sql.seconds;
    rows.push({
      what: `Booking, POST /v1/plans, ${clients} connection${clients > 1 ? 's' : ''}`,
      result: `${api.rate.toFixed(1)} series/s (${count(api.run, 201)} booked in ${api.run.seconds.toFixed(1)} s; 201 ${p5095(api.run.byStatus.get(201) ?? [])}; ${statusSummary(api.run)}; replanned after a lost race ${api.replanned}; deadlocks ${api.deadlocks})`,
      target: '–',
      met: '–',
    });
    rows.push({
      what: `Plain-SQL baseline, same series, ${clients} client${clients > 1 ? 's' : ''} (pg, one transaction per series)`,
      result: `${sqlRate.toFixed(1)} series/s (${sql.series} in ${sql.seconds.toFixed(2)} s; ${p5095(sql.latencies)} per series${sql.failures ? `; ${sql.failures} refused` : ''})`,
      target: '–',
      met: '–',
    });
    const ratio = sql.series ? api.rate / sqlRate : NaN;
    rows.push({
      what: `Booking rate ÷ baseline, ${clients} client${clients > 1 ? 's' : ''}`,
      result: Number.isNaN(ratio) ? 'n/a (nothing booked)' : `${(ratio * 100).toFixed(1)} %`,
      target: `≥ ${TARGET.bookingRatio * 100} %`,
      met: Number.isNaN(ratio) ? 'n/a' : yesNo(ratio >= TARGET.bookingRatio),
    });
  }
  rows.push({
    what: `Plan preview with 10× fewer sessions (${small.sessions.toLocaleString('en-US')})`,
    result: p5095(previewSmall.ok),
    target: '–',
    met: '–',
  });
  const gp = growthCell(preview.ok, previewSmall.ok);
  rows.push({
    what: 'Preview growth, 10× the sessions',
    result: gp.text,
    target: `< ${TARGET.growth}×`,
    met: gp.met,
  });
  rows.push({
    what: `Day sheet with 10× fewer sessions (avg ${average(sheetSmall.inspected).toFixed(1)} sessions)`,
    result: p5095(sheetSmall.ok),
    target: '–',
    met: '–',
  });
  const gs = growthCell(sheet.ok, sheetSmall.ok);
  rows.push({
    what: 'Day sheet growth, 10× the sessions',
    result: gs.text,
    target: `< ${TARGET.growth}×`,
    met: gs.met,
  });
  return rows;
}

/** The markdown `npm run bench` prints and writes: the run's circumstances, then the table. */
export function resultsMarkdown(d: {
  rows: Row[];
  big: SeededDataSet;
  small: SeededDataSet;
  m: SeededClinic;
  pgVersion: string;
  seconds: number;
}): string {
  const { rows, big, small, m, pgVersion, seconds } = d;
  let date: string;
  try {
    date = execFileSync('date', { encoding: 'utf8' }).trim();
  } catch {
    date = new Date().toString();
  }
  const cpus = os.cpus();
  const autocannonVersion = (
    JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'node_modules', 'autocannon', 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
  const n = (x: number) => x.toLocaleString('en-US');
  return [
    '# Benchmark results',
    '',
    `${date} · ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}) · Node ${process.version} · PostgreSQL ${pgVersion} · autocannon ${autocannonVersion} · whole run ${seconds.toFixed(0)} s`,
    '',
    '`npm run bench` (bench/bench.ts). The service runs as deployed (`node dist/src/main.js`, `LOG_LEVEL=warn`, rate limit off) on its own',
    'embedded PostgreSQL; autocannon, the service and PostgreSQL share the cores; loopback traffic only.',
    '',
    `- Data set: ${CLINICS} clinics × ${CHAIRS} chairs × ${STAFF} staff (${NURSES} nurses with 2 seats, ${PHYSICIANS} physicians, ${THERAPISTS} therapists),`,
    `  ${n(CLINICS * PATIENTS_PER_CLINIC)} patients (+${n(BOOKING_PATIENTS)} new patients in each of the 4 booking and baseline clinics),`,
    `  ${n(big.sessions)} sessions in ${n(big.plans)} demo series over the year around today (seeded by SQL in ${big.seconds.toFixed(1)} s).`,
    `- 10× fewer: the same clinics, staff and patients with ${n(small.sessions)} sessions in ${n(small.plans)} series.`,
    `- Latencies are measured on clinic 1 (${n(m.sessions)} sessions), one connection, after a warm-up; p50/p95 are nearest-rank`,
    `  over every 2xx response time autocannon recorded. Preview and day sheet alternate between the two data sets in ${ROUNDS} rounds,`,
    '  each set served by its own service process. Booking: each request books the demo series for a patient without one;',
    '  series/s counts 201s over the time to the last response. The baseline inserts those same series into a twin clinic',
    '  (same seeded layout) by plain SQL: plan row + one multi-row INSERT of its sessions per transaction, same constraints and triggers.',
    '',
    table(rows),
    '',
  ].join('\n');
}

/** Writes the table over the head of bench/results.md. */
export function writeResults(markdown: string): void {
  // This table replaces the head of results.md; the sections bench:fill appends below it stay.
  const file = path.join(PROJECT_ROOT, 'bench', 'results.md');
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const kept = previous.indexOf('\n## Fill benchmark');
  writeFileSync(file, kept < 0 ? markdown : `${markdown.trimEnd()}\n${previous.slice(kept)}`);
}
