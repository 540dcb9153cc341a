import { outcomesRows } from './csv.js';
import type { VersionOutcomes } from './report.js';

/**
 * The report as FHIR R4 `MeasureReport`s (type `summary`), one per protocol version, in a
 * `collection` Bundle. Each figure of the report is a group (code `<section>.<measure>`); its
 * cells are strata with two components, the breakdown (a step kind, an infusion number, a reason…)
 * and the statistic (`count`, `mean`, `median`, `q1`, `q3`, `p90`, `min`, `max`, `share`,
 * `per100`), each with its n as the `initial-population` count. A suppressed cell carries the
 * standard data-absent-reason extension with `masked` and no figure.
 */
export const MEASURE_CODE_SYSTEM = 'urn:chairside:outcome-measure';
export const DATA_ABSENT_REASON = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';
const POPULATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/measure-population';

type Json = Record<string, unknown>;

const population = (code: 'initial-population' | 'numerator' | 'denominator', count: number): Json => ({
  code: { coding: [{ system: POPULATION_SYSTEM, code }] },
  count,
});

const component = (what: string, value: string): Json => ({ code: { text: what }, value: { text: value } });

export interface FhirContext {
  protocolId: string;
  protocolName: string;
  /** ISO 8601 instant with offset. */
  generatedAt: string;
  period: { start: string; end: string };
}

export function measureReport(ctx: FhirContext, v: VersionOutcomes): Json {
  const groups = new Map<string, Json[]>();
  for (const r of outcomesRows([v])) {
    const code = `${r.section}.${r.measure}`;
    const strata = groups.get(code) ?? [];
    groups.set(code, strata);
    const breakdown = r.breakdown === '' ? 'all' : String(r.breakdown);
    const stratum = (statistic: string, extra: Json): Json => ({
      component: [component('breakdown', breakdown), component('statistic', statistic)],
      ...extra,
    });
    if (r.suppressed) {
      strata.push(stratum('suppressed', { extension: [{ url: DATA_ABSENT_REASON, valueCode: 'masked' }] }));
    } else if (r.section === 'plans' || r.section === 'sessions') {
      strata.push(stratum('count', { population: [population('initial-population', Number(r.count))] }));
    } else if (r.measure === 'craving_halved') {
      strata.push(
        stratum('share', {
          population: [population('denominator', Number(r.n)), population('numerator', Number(r.count))],
          measureScore: { value: r.value },
        }),
      );
    } else if (r.section === 'adverse_events') {
      strata.push(
        stratum('per100', {
          population: [population('denominator', Number(r.n)), population('numerator', Number(r.count))],
          measureScore: { value: r.value },
        }),
      );
    } else {
      for (const s of ['mean', 'median', 'q1', 'q3', 'p90', 'min', 'max'] as const) {
        strata.push(
          stratum(s, { population: [population('initial-population', Number(r.n))], measureScore: { value: r[s] } }),
        );
      }
    }
  }
  return {
    resourceType: 'MeasureReport',
    id: `${ctx.protocolId}-v${v.version}`,
    status: 'complete',
    type: 'summary',
    // The protocol version the figures describe, as a canonical with its version.
    measure: `urn:uuid:${ctx.protocolId}|${v.version}`,
    date: ctx.generatedAt,
    period: ctx.period,
    group: [...groups.entries()].map(([code, stratum]) => ({
      code: { coding: [{ system: MEASURE_CODE_SYSTEM, code }], text: `${ctx.protocolName} v${v.version}: ${code}` },
      stratifier: [{ code: [{ text: 'breakdown' }, { text: 'statistic' }], stratum }],
    })),
  };
}

export function measureReportBundle(ctx: FhirContext, versions: VersionOutcomes[]): Json {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    timestamp: ctx.generatedAt,
    entry: versions.map((v) => ({ resource: measureReport(ctx, v) })),
  };
}
