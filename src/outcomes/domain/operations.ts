import type { PlanFact } from './facts.js';
import { countOf, shareCell, summarize, type Cell, type CountCell, type ShareCell, type SummaryCell } from './stats.js';

/** Operations of one protocol version in one month (of the plans' first sessions), or over the whole period (`month: 'all'`). */
export interface OperationsRow {
  protocolId: string;
  protocolName: string;
  version: number;
  month: string;
  plansStarted: Cell<CountCell>;
  /** Sessions missed among those due (completed or no-show). */
  noShowRate: Cell<ShareCell>;
  /** Per completed series: hours of chair time (start to the end of recovery) of its completed sessions. */
  chairHoursPerCompletedSeries: Cell<SummaryCell>;
  /** Local calendar days from booking to the first session. */
  daysBookingToFirstSession: Cell<SummaryCell>;
}

export interface ProtocolPlans {
  protocolId: string;
  protocolName: string;
  plans: PlanFact[];
}

function row(
  protocolId: string,
  protocolName: string,
  version: number,
  month: string,
  plans: PlanFact[],
): OperationsRow {
  const due: { patient: string; hit: boolean }[] = [];
  for (const p of plans) {
    for (const c of p.statusCounts) {
      if (c.status !== 'completed' && c.status !== 'no_show') continue;
      for (let i = 0; i < c.n; i++) due.push({ patient: p.patient, hit: c.status === 'no_show' });
    }
  }
  const chair = plans
    .filter((p) => p.status === 'completed')
    .map((p) => ({
      patient: p.patient,
      value: p.statusCounts.reduce((sum, c) => sum + (c.status === 'completed' ? c.chairMinutes : 0), 0) / 60,
    }));
  return {
    protocolId,
    protocolName,
    version,
    month,
    plansStarted: countOf(plans),
    noShowRate: shareCell(due),
    chairHoursPerCompletedSeries: summarize(chair),
    daysBookingToFirstSession: summarize(plans.map((p) => ({ patient: p.patient, value: p.firstDay - p.bookedDay }))),
  };
}

/** Rows per protocol, version and month, then the version over the whole period; in that order. */
export function operations(protocols: ProtocolPlans[]): OperationsRow[] {
  const out: OperationsRow[] = [];
  for (const pr of protocols) {
    const versions = [...new Set(pr.plans.map((p) => p.version))].sort((a, b) => a - b);
    for (const v of versions) {
      const plans = pr.plans.filter((p) => p.version === v);
      const months = [...new Set(plans.map((p) => p.month))].sort();
      for (const m of months)
        out.push(
          row(
            pr.protocolId,
            pr.protocolName,
            v,
            m,
            plans.filter((p) => p.month === m),
          ),
        );
      out.push(row(pr.protocolId, pr.protocolName, v, 'all', plans));
    }
  }
  return out;
}
