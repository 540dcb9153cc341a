/**
 * The report of `npm run bench:fill`: the outcome and latency tables, where the time goes by
 * Server-Timing phase, levelling off and on side by side (with heat maps written next to
 * results.md), and the targets checked.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DateTime } from 'luxon';
import type { Outcome, Sample } from './fill-stream.js';
import { SEED, SPREAD_DAYS, TARGET, WINDOW } from './fill-workload.js';
import { heatMapSvg } from './levelling-metrics.js';
import { percentile } from './load.js';
import { PROJECT_ROOT } from './service.js';

const ms = (x: number) => (Number.isNaN(x) ? '–' : x < 10 ? x.toFixed(2) : x.toFixed(1));

const BANDS: [string, number, number][] = [
  ['0–25 %', 0, 0.25],
  ['25–50 %', 0.25, 0.5],
  ['50–75 %', 0.5, 0.75],
  ['75–90 %', 0.75, 0.9],
  ['90–100 %', 0.9, 1.01],
];

function latencyRows(o: Outcome): string[] {
  const rows: string[] = [];
  const cell = (xs: number[]) =>
    xs.length ? `${ms(percentile(xs, 50))} / ${ms(percentile(xs, 95))} (n=${xs.length})` : '–';
  for (const [band, lo, hi] of BANDS) {
    const of = (kind: Sample['kind']) =>
      o.samples
        .filter(
          (s) => s.kind === kind && s.before / Math.max(o.booked, 1) >= lo && s.before / Math.max(o.booked, 1) < hi,
        )
        .map((s) => s.ms);
    rows.push(`| ${o.label} | ${band} | ${cell(of('preview'))} | ${cell(of('booking'))} | ${cell(of('refusal'))} |`);
  }
  const all = (kind: Sample['kind']) => o.samples.filter((s) => s.kind === kind).map((s) => s.ms);
  rows.push(`| ${o.label} | all | ${cell(all('preview'))} | ${cell(all('booking'))} | ${cell(all('refusal'))} |`);
  return rows;
}

const PHASES = ['auth', 'reads', 'cache', 'bookings', 'engine', 'bookings-ahead', 'earliest', 'audit', 'total'];

/** Where the time goes: per kind, the p50 (p95) of each Server-Timing entry the service reported. */
function phaseRows(o: Outcome): string[] {
  return (['preview', 'booking', 'refusal'] as const).flatMap((kind) => {
    const of = o.samples.filter((s) => s.kind === kind);
    if (of.length === 0) return [];
    const cell = (xs: number[]) => (xs.length ? `${ms(percentile(xs, 50))} (${ms(percentile(xs, 95))})` : '–');
    const phase = (name: string) => of.map((s) => s.server[name]).filter((x): x is number => x !== undefined);
    return [
      `| ${o.label} | ${kind} | ${cell(of.map((s) => s.ms))} | ${PHASES.map((p) => cell(phase(p))).join(' | ')} |`,
    ];
  });
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** Median and p90 (type 7) of a list, in days. */
function quantiles(xs: number[]): string {
  if (xs.length === 0) return '–';
  const sorted = [...xs].sort((a, b) => a - b);
  const q = (p: number) => {
    const h = (sorted.length - 1) * p;
    const lo = Math.floor(h);
    return sorted[lo] + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? sorted[lo]) - sorted[lo]);
  };
  return `${q(0.5).toFixed(1)} / ${q(0.9).toFixed(1)}`;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, x) => a + x, 0) / xs.length : NaN);

/**
 * Levelling off and on side by side, per shape: the table, the heat maps (SVG files next to
 * results.md, linked), and the targets of issue 17 checked.
 */
function levellingSection(outcomes: Outcome[]): string[] {
  const lines: string[] = [
    '### Levelling off and on, the same stream (issue 17)',
    '',
    'Each shape is filled twice by the same seeded stream: a clinic with levelling off, then its twin with `levelling: "balanced"`; both with start',
    'staggering set (the demo clinic: 2 infusion starts per quarter hour, 1 per nurse; 20 chairs: 5 and 1). Occupancy: chair-minutes held (recovery',
    'included) ÷ chair-minutes open, per weekday and local hour over the 10 weeks; peak-to-mean over Monday–Friday 09:00–17:00.',
    "Days to first session: from the request's earliest start to its plan's first session. Gap deviation: |gap − target| in days over every day-unit gap of every booked plan.",
    '',
    '| clinic | levelling | booked | chair use at the first true refusal | bottleneck use at the first true refusal | chair use at the end | bottleneck use at the end | peak-to-mean chair occupancy, Mon–Fri 09–17 | most infusion starts in a quarter hour: clinic / one nurse (limit) | days to first session: median / p90 | mean \\|gap − target\\| (days) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const o of outcomes) {
    const first = o.atFirstRefusal;
    lines.push(
      `| ${o.shape.name} | ${o.levelling} | ${o.booked} of ${o.requests} | ${first ? pct(first.chairUse) : '– (none)'} | ${first ? `${first.bottleneck.role} ${pct(first.bottleneck.use)}` : '–'} | ${pct(o.chairUse)} | ${o.bottleneck.role} ${pct(o.bottleneck.use)} | ${o.occupancy.peakToMean.toFixed(2)} | ${o.busiest.clinic} / ${o.busiest.nurse} (${o.shape.limits.maxStartsPerSlot} / ${o.shape.limits.maxStartsPerNursePerSlot}) | ${quantiles(o.daysToFirst)} | ${mean(o.gapOff).toFixed(2)} |`,
    );
  }
  lines.push('');
  const shapes = [...new Set(outcomes.map((o) => o.shape))];
  for (const shape of shapes) {
    const off = outcomes.find((o) => o.shape === shape && o.levelling === 'off');
    const on = outcomes.find((o) => o.shape === shape && o.levelling === 'balanced');
    if (!off || !on) continue;
    // One colour scale for both maps of a shape, so that they compare at a glance.
    const scale = Math.max(0.05, ...[off, on].flatMap((o) => o.occupancy.share.flat().filter((x) => !Number.isNaN(x))));
    const links: string[] = [];
    for (const o of [off, on]) {
      const file = `fill-occupancy-${shape.slug}-${o.levelling}.svg`;
      writeFileSync(
        path.join(PROJECT_ROOT, 'bench', file),
        heatMapSvg(
          `${shape.name}: levelling ${o.levelling}`,
          `chair occupancy % by weekday and hour, ${o.booked} series booked; peak-to-mean Mon–Fri 09–17: ${o.occupancy.peakToMean.toFixed(2)}`,
          o.occupancy,
          scale,
        ),
      );
      links.push(`![${shape.name}, levelling ${o.levelling}](${file})`);
    }
    lines.push(`${shape.name}, occupancy by weekday × hour (off, then balanced):`, '', ...links, '');
    const first = (o: Outcome) => o.atFirstRefusal?.chairUse ?? o.chairUse;
    const firstRole = (o: Outcome) => o.atFirstRefusal?.bottleneck.use ?? o.bottleneck.use;
    const median = (o: Outcome) => Number(quantiles(o.daysToFirst).split(' / ')[0]);
    const check = (ok: boolean, what: string) => `${ok ? 'met' : '**not met**'}: ${what}`;
    lines.push(
      `Targets for ${shape.name}:`,
      `- ${check(first(on) >= first(off) && firstRole(on) >= firstRole(off), `utilisation at the first true refusal with levelling ≥ without (chairs ${pct(first(on))} vs ${pct(first(off))}, bottleneck ${pct(firstRole(on))} vs ${pct(firstRole(off))})`)}`,
      `- ${check(on.occupancy.peakToMean <= 1.25, `peak-to-mean chair occupancy ≤ 1.25 with levelling (${on.occupancy.peakToMean.toFixed(2)}; off ${off.occupancy.peakToMean.toFixed(2)})`)}`,
      `- ${check(
        [off, on].every(
          (o) =>
            o.busiest.clinic <= shape.limits.maxStartsPerSlot &&
            o.busiest.nurse <= shape.limits.maxStartsPerNursePerSlot,
        ),
        `no quarter hour over the stagger limit (busiest: off ${off.busiest.clinic} / ${off.busiest.nurse}, balanced ${on.busiest.clinic} / ${on.busiest.nurse})`,
      )}`,
      `- ${check(median(on) <= median(off) + 1, `median days to first session at most 1 day more than off (${median(on).toFixed(1)} vs ${median(off).toFixed(1)})`)}`,
      '',
    );
  }
  return lines;
}

/** The markdown bench:fill prints and appends to bench/results.md (writing the heat maps on the way). */
export function fillReport(outcomes: Outcome[], start: DateTime, t0: number): string[] {
  const levelling = levellingSection(outcomes);
  const p95 = (kind: Sample['kind']) =>
    Math.max(
      0,
      ...outcomes
        .map((o) =>
          percentile(
            o.samples.filter((s) => s.kind === kind).map((s) => s.ms),
            95,
          ),
        )
        .filter((x) => !Number.isNaN(x)),
    );
  const lines = [
    `## Fill benchmark (npm run bench:fill)`,
    '',
    `${new Date().toUTCString()} · ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}) · load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(
        ' ',
      )} at the end · Node ${process.version} · seed ${SEED} · whole run ${((performance.now() - t0) / 1000).toFixed(0)} s`,
    '',
    `Requests: a new patient each (random weekly unavailability, unavailable date, preferred times), the demo protocol (75 %) or a short variant,`,
    `earliest start spread over ${SPREAD_DAYS / 7} weeks from ${start.toISODate()}, ${WINDOW}-day window; previewed, then booked when it plans; the service and this client share the machine.`,
    `A refusal is false when asking its request again one day at a time across its window finds a plan. Utilisation: hours held (recovery included) ÷ hours open`,
    `(chairs) or seat-hours available (staff) over the ${SPREAD_DAYS / 7} weeks. Latency: p50 / p95 in ms by fill (bookings made before the request ÷ the clinic's final bookings).`,
    '',
    '| clinic | requests | booked | refused | false refusals | wrong earliest start | SEARCH_LIMIT | chair use | bottleneck role use | stopped by |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...outcomes.map(
      (o) =>
        `| ${o.label} | ${o.requests} | ${o.booked} | ${o.refused} | ${o.falseRefusals} | ${o.wrongEarliest} | ${o.searchLimit} | ${(o.chairUse * 100).toFixed(1)} % | ${o.bottleneck.role} ${(o.bottleneck.use * 100).toFixed(1)} % | ${o.stoppedBy} |`,
    ),
    '',
    '| clinic | fill | preview p50 / p95 | booking p50 / p95 | refusal p50 / p95 |',
    '| --- | --- | --- | --- | --- |',
    ...outcomes.flatMap(latencyRows),
    '',
    "Where the time goes (the service's Server-Timing, p50 (p95) in ms; `audit` overlaps the engine, `total` is the service's own):",
    '',
    `| clinic | kind | client | ${PHASES.join(' | ')} |`,
    `| --- | --- | --- | ${PHASES.map(() => '---').join(' | ')} |`,
    ...outcomes.flatMap(phaseRows),
    '',
    ...levelling,
    `Targets: preview p95 ≤ ${TARGET.previewP95} ms (${ms(p95('preview'))} ms: ${p95('preview') <= TARGET.previewP95 ? 'met' : '**not met**'}), refusal p95 ≤ ${TARGET.refusalP95} ms (${ms(p95('refusal'))} ms: ${p95('refusal') <= TARGET.refusalP95 ? 'met' : '**not met**'}); false refusals 0 (${outcomes.reduce((a, o) => a + o.falseRefusals, 0)}).`,
    '',
  ];
  return lines;
}
