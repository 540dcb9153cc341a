/**
 * What the outcomes report is computed from: compact per-plan facts read by the repository in
 * one statement. Patient ids here are opaque keys used only to count distinct patients; they never
 * reach a report.
 */

export type PlanStatus = 'active' | 'completed' | 'ended_early';

/**
 * A session's status as the report sees it: `cancelled` is split by why — `skipped` (a skip
 * adjustment), `ended` (cancelled when the plan was ended early) and `cancelled` (anything else).
 */
export type ReportStatus = 'scheduled' | 'checked_in' | 'completed' | 'no_show' | 'cancelled' | 'skipped' | 'ended';

export const MEASURES = ['craving', 'cows', 'phq9', 'gad7'] as const;
export type Measure = (typeof MEASURES)[number];

export interface DoseFact {
  amount: number;
  unit: string;
}

/** A completed session the statistics look into: an infusion, or an occurrence of a repeating step. */
export interface SessionFact {
  stepKey: string;
  kind: string;
  status: ReportStatus;
  /** Local calendar day (days since 1970-01-01 in the clinic's zone) of the actual start, else the planned start. */
  day: number;
  /** Epoch minutes of the actual start (else planned) and actual end (else planned end, recovery excluded). */
  startMin: number;
  endMin: number;
  planned: DoseFact | null;
  given: DoseFact | null;
  /** Per measure, the latest value recorded for the session (a correction is a later observation). */
  scores: Partial<Record<Measure, number>>;
  /** Distinct adverse events recorded for the session: normalised term and severity. */
  adverse: { term: string; severity: string }[];
}

export interface GapTarget {
  target: number;
  unit: 'days' | 'hours';
}

export interface PlanFact {
  version: number;
  patient: string;
  status: PlanStatus;
  /** The reason given when the plan was ended early (latest `cancel_remaining`), else null. */
  endReason: string | null;
  /** Local calendar day the plan was booked, and the month (`YYYY-MM`) of its first session. */
  bookedDay: number;
  firstDay: number;
  month: string;
  /** Spacing targets per repeating step, after the plan's tailoring. */
  spacing: Record<string, GapTarget>;
  /** How many sessions of each kind are in each status, and the chair minutes of each group. */
  statusCounts: { kind: string; status: ReportStatus; n: number; chairMinutes: number }[];
  /** The completed sessions the statistics look into (infusions, repeating steps), in order of start. */
  sessions: SessionFact[];
}
