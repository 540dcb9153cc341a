import { Injectable } from '@nestjs/common';
import { DateTime } from 'luxon';
import { AuditService } from '../audit/audit.service.js';
import { ClinicError, ClinicErrorCode } from '../clinics/clinics.errors.js';
import type { Actor } from '../common/auth/actor.js';
import { Clock } from '../common/clock/clock.js';
import { ValidationFailedError } from '../common/errors/common.errors.js';
import { ProtocolError, ProtocolErrorCode } from '../protocols/protocols.errors.js';
import { timed, timedSync } from '../common/http/server-timing.js';
import { Lru } from '../scheduling/engine/lru.js';
import { operationsFromAggregates, versionFromAggregates, type AggregateRow } from './domain/aggregates.js';
import { aggregateCohort, numberPatients, type CohortPlan } from './domain/cohort.js';
import { operationsRows, outcomesRows, toCsv } from './domain/csv.js';
import { measureReportBundle } from './domain/fhir.js';
import type { OperationsRow } from './domain/operations.js';
import type { VersionOutcomes } from './domain/report.js';
import { QUANTILE_METHOD, SUPPRESSION_THRESHOLD } from './domain/stats.js';
import type { OperationsQueryDto, OutcomesQueryDto } from './dto/outcomes.dto.js';
import { OutcomesRepository, type CohortMonth, type CohortQuery } from './outcomes.repository.js';

export type ReportFormat = 'json' | 'csv' | 'fhir';

/** What a report answers with: its media type and body (an object for JSON, text for CSV). */
export interface Rendered {
  contentType: string;
  body: unknown;
}

/** The choice by the Accept header: CSV or FHIR JSON when asked for, else JSON. */
export function reportFormat(accept: string | undefined): ReportFormat {
  const a = (accept ?? '').toLowerCase();
  if (a.includes('text/csv')) return 'csv';
  if (a.includes('application/fhir+json')) return 'fhir';
  return 'json';
}

export const METHOD = {
  cohort: 'Plans whose first session (its planned start) falls within the period, in local dates of the clinic',
  quantiles: QUANTILE_METHOD,
  suppression: `Cells describing fewer than ${SUPPRESSION_THRESHOLD} distinct patients are shown as { "suppressed": true }; zero counts are shown; when one part of a partition shown with its total is suppressed, the smallest other part is suppressed too; a share is suppressed when fewer than ${SUPPRESSION_THRESHOLD} patients have, or do not have, the outcome; end-early reasons and adverse-event terms of fewer than ${SUPPRESSION_THRESHOLD} patients are grouped as "other"`,
  infusion:
    "Infusion n is the patient's n-th completed session of kind infusion in the plan (by start); scores are each session's latest recorded value",
  adherence:
    'For every completed occurrence of a repeating step: the gap to the previous completed occurrence of that step (days: local calendar days between actual starts, planned start when none was recorded; hours: end to start), minus the tailored spacing target, in absolute days',
  change:
    'Per plan with at least two scores: last minus first over its completed infusions; craving halved: last ≤ first / 2 among plans whose first craving is above 0',
};

export interface OutcomesReport {
  protocolId: string;
  protocolName: string;
  timezone: string;
  period: { from: string; to: string };
  generatedAt: string;
  method: typeof METHOD;
  versions: VersionOutcomes[];
}

export interface OperationsReport {
  clinicId: string;
  timezone: string;
  period: { from: string; to: string };
  generatedAt: string;
  method: {
    cohort: string;
    suppression: string;
    quantiles: string;
    noShowRate: string;
    chairHours: string;
    bookingToFirst: string;
  };
  rows: OperationsRow[];
}

const MAX_PERIOD_DAYS = 3660;
/** Reports (cohorts: protocol, versions, period) whose aggregates an instance keeps. */
const MAX_KEPT_REPORTS = 100;
/**
 * Months of cohorts whose parsed facts an instance keeps (about 1.2 kB a plan, measured: 120 months
 * of 400 plans hold 57 MB).
 */
const MAX_KEPT_MONTHS = 120;

interface KeptMonth {
  month: string;
  signature: string;
  plans: readonly CohortPlan<string>[];
}

/** Outcomes by protocol version and clinic operations, from the clinic's own records; no patient identifiers leave it. */
@Injectable()
export class OutcomesService {
  constructor(
    private readonly repo: OutcomesRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** Each report's aggregates with the signatures of the cohort's months they were computed from. */
  private readonly kept = new Lru<string, { signatures: Map<string, string>; rows: readonly AggregateRow[] }>(
    'outcomes.reports',
    MAX_KEPT_REPORTS,
  );
  /** The facts of each report's cohort by month, parsed, with the month's signature. */
  private readonly keptMonths = new Lru<string, KeptMonth>('outcomes.cohort-months', MAX_KEPT_MONTHS);

  private period(timezone: string, from?: string, to?: string): { from: string; to: string } {
    const end = to ?? this.clock.now().setZone(timezone).toISODate()!;
    const start = from ?? DateTime.fromISO(end, { zone: timezone }).minus({ years: 1 }).plus({ days: 1 }).toISODate()!;
    const days = DateTime.fromISO(end).diff(DateTime.fromISO(start), 'days').days;
    if (days < 0) throw new ValidationFailedError([{ field: 'to', message: 'to must not be before from' }]);
    if (days > MAX_PERIOD_DAYS)
      throw new ValidationFailedError([
        { field: 'from', message: `the period may span at most ${MAX_PERIOD_DAYS} days` },
      ]);
    return { from: start, to: end };
  }

  async outcomes(actor: Actor, protocolId: string, q: OutcomesQueryDto, format: ReportFormat): Promise<Rendered> {
    const head = await this.repo.protocol(protocolId, actor.clinicId);
    if (!head) throw new ProtocolError(ProtocolErrorCode.PROTOCOL_NOT_FOUND, 'No such protocol.');
    const published = head.versions.map((v) => v.version);
    const wanted = q.versions ? [...new Set(q.versions.split(',').map(Number))].sort((a, b) => a - b) : published;
    const missing = wanted.filter((v) => !published.includes(v));
    if (missing.length)
      throw new ProtocolError(
        ProtocolErrorCode.PROTOCOL_VERSION_NOT_FOUND,
        `The protocol has no published version ${missing.join(', ')}.`,
      );
    const period = this.period(head.timezone, q.from, q.to);

    const [rows] = await Promise.all([
      this.aggregates({ clinicId: head.clinicId, protocolId: head.id, versions: wanted, ...period }, head.timezone),
      // A report holds no patient data, but reading it is a read of the clinic's records.
      this.audit.recordRead(actor, {
        clinicId: head.clinicId,
        action: 'outcomes.read',
        entityType: 'protocol',
        entityId: head.id,
      }),
    ]);
    const versions = wanted.map((v) => versionFromAggregates(v, rows));
    const generatedAt = this.clock.now().setZone(head.timezone).toISO({ suppressMilliseconds: true })!;
    if (format === 'csv') return { contentType: 'text/csv; charset=utf-8', body: toCsv(outcomesRows(versions)) };
    if (format === 'fhir') {
      return {
        contentType: 'application/fhir+json; charset=utf-8',
        body: measureReportBundle(
          { protocolId: head.id, protocolName: head.name, generatedAt, period: { start: period.from, end: period.to } },
          versions,
        ),
      };
    }
    const report: OutcomesReport = {
      protocolId: head.id,
      protocolName: head.name,
      timezone: head.timezone,
      period,
      generatedAt,
      method: METHOD,
      versions,
    };
    return { contentType: 'application/json; charset=utf-8', body: report };
  }

  /**
   * The cohort's aggregates. The cohort is read by month of the first session, each month with its
   * signature (`OutcomesRepository.cohortMonths`): the aggregates kept for the same cohort serve
   * while no month's signature changed; otherwise only the changed months' facts are read (the
   * others' are kept, parsed) and the aggregates computed again from every month. Signatures and the
   * months read come from one snapshot, so the figures are those of one moment, never stale.
   */
  private async aggregates(q: CohortQuery, timezone: string): Promise<readonly AggregateRow[]> {
    // Months are named with their cut, so that a month is the same whatever period it is read for.
    const cohort = [q.clinicId, q.protocolId, q.versions.join(','), timezone].join('|');
    const key = `${cohort}|${q.from}|${q.to}`;
    const held = new Map<string, KeptMonth>();
    for (const entry of this.keptMonths.keys())
      if (entry.startsWith(cohort + '|')) {
        const m = this.keptMonths.peek(entry)!;
        held.set(m.month, m);
      }
    const months = await timed('outcomes-cohort', () => this.repo.cohortMonths(q, held));
    const report = this.kept.get(key);
    const unchanged = (m: CohortMonth) => m.plans === null && report?.signatures.get(m.month) === m.signature;
    if (report && months.length === report.signatures.size && months.every(unchanged)) return report.rows;

    const plans: CohortPlan<string>[] = [];
    for (const m of months) {
      const kept = m.plans === null ? held.get(m.month)! : { month: m.month, signature: m.signature, plans: m.plans };
      this.keptMonths.set(`${cohort}|${m.month}`, kept);
      plans.push(...kept.plans);
    }
    const rows = timedSync('outcomes-aggregate', () => aggregateCohort(numberPatients(plans), SUPPRESSION_THRESHOLD));
    // Shared by every later read of the report: frozen, so that nothing can change them.
    for (const row of rows) Object.freeze(row);
    this.kept.set(key, { signatures: new Map(months.map((m) => [m.month, m.signature])), rows: Object.freeze(rows) });
    return rows;
  }

  async operations(actor: Actor, q: OperationsQueryDto, format: ReportFormat): Promise<Rendered> {
    let clinicId = actor.clinicId;
    if (clinicId === null) {
      if (!q.clinicId)
        throw new ValidationFailedError([{ field: 'clinicId', message: 'clinicId is required with an operator key' }]);
      clinicId = q.clinicId;
    } else if (q.clinicId !== undefined && q.clinicId !== clinicId) {
      throw new ClinicError(ClinicErrorCode.CLINIC_NOT_FOUND, 'No such clinic.');
    }
    const timezone = await this.repo.timezone(clinicId);
    if (timezone === null) throw new ClinicError(ClinicErrorCode.CLINIC_NOT_FOUND, 'No such clinic.');
    const period = this.period(timezone, q.from, q.to);
    const [protocols, aggregates] = await Promise.all([
      this.repo.protocolNames(clinicId),
      this.repo.operations(clinicId, period.from, period.to),
      this.audit.recordRead(actor, { clinicId, action: 'operations.read', entityType: 'clinic', entityId: clinicId }),
    ]);
    const rows = operationsFromAggregates(protocols, aggregates);
    if (format === 'csv') return { contentType: 'text/csv; charset=utf-8', body: toCsv(operationsRows(rows)) };
    const report: OperationsReport = {
      clinicId,
      timezone,
      period,
      generatedAt: this.clock.now().setZone(timezone).toISO({ suppressMilliseconds: true })!,
      method: {
        cohort: METHOD.cohort + '; month: that of the first session',
        suppression: METHOD.suppression,
        quantiles: QUANTILE_METHOD,
        noShowRate: 'no-shows among sessions due (completed or no-show)',
        chairHours:
          'per completed plan: chair time (start to the end of recovery, as booked) of its completed sessions, in hours',
        bookingToFirst: 'local calendar days from the booking to the first session',
      },
      rows,
    };
    return { contentType: 'application/json; charset=utf-8', body: report };
  }
}
