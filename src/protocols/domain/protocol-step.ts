/**
 * The protocol template model: plain data, no framework imports. A published version's step
 * list is stored as this JSON and never changes.
 */

export const STEP_KINDS = ['consult', 'infusion', 'therapy', 'assessment', 'follow_up', 'booster'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

export const STEP_STAFF_ROLES = ['nurse', 'physician', 'therapist'] as const;
export type StepStaffRole = (typeof STEP_STAFF_ROLES)[number];

export const DOSE_UNITS = ['mg/kg', 'mg'] as const;
export type DoseUnit = (typeof DOSE_UNITS)[number];

export const GAP_UNITS = ['hours', 'days'] as const;
export type GapUnit = (typeof GAP_UNITS)[number];

/**
 * A gap between two sessions. In `days`: whole local calendar days between the two sessions'
 * dates (Monday → Wednesday is 2). In `hours`: elapsed time from the end of the earlier session
 * (its recovery included) to the start of the later one.
 */
export interface Gap {
  min: number;
  target: number;
  max: number;
  unit: GapUnit;
}

export interface StepDose {
  drug: string;
  /** Planned amount per occurrence, in `unit`. */
  amount: number;
  unit: DoseUnit;
  /** How long the drug runs; within the step's duration. */
  infusionMinutes: number;
  /** The allowed range that tailoring and adjustments must respect. */
  min: number;
  max: number;
  /** Optional escalation: added to the amount at each further occurrence (may be negative). */
  escalationPerOccurrence?: number;
}

/** Attaches a step to every occurrence of an earlier step ("therapy 0–24 h after each infusion"). */
export interface StepAttachment {
  step: string;
  position: 'after' | 'before';
  gap: Gap;
  /** Must fall on the same local day as the session it is attached to. */
  sameDay?: boolean;
}

export interface ProtocolStep {
  key: string;
  kind: StepKind;
  label: string;
  durationMinutes: number;
  /** Chair time after the session (monitored recovery). */
  recoveryMinutes: number;
  needsChair: boolean;
  staffRole: StepStaffRole | null;
  dose?: StepDose;
  /** Occurrences by default, and the range tailoring may choose from (defaults: repeat). */
  repeat: number;
  repeatMin?: number;
  repeatMax?: number;
  /** First occurrence relative to the last occurrence of an earlier step. */
  after?: { step: string; gap: Gap };
  /** Between consecutive occurrences of this step (needed when it can repeat). */
  spacing?: Gap;
  /** Prefer the same local time of day for every occurrence. */
  sameTimeOfDay?: boolean;
  /** Allowed ISO weekdays (1 = Monday … 7 = Sunday); all when absent. */
  weekdays?: number[];
  /** Repeats with an earlier step instead of on its own (then `repeat` is that step's). */
  attachedTo?: StepAttachment;
}

export const MAX_REPEAT = 52;
export const MAX_TEMPLATE_SPAN_DAYS = 365;

/** A gap's bound in days (hours rounded up), for span arithmetic. */
export function gapDays(value: number, unit: GapUnit): number {
  return unit === 'days' ? value : Math.ceil(value / 24);
}

const STEP_FIELD_ORDER: (keyof ProtocolStep)[] = [
  'key',
  'kind',
  'label',
  'durationMinutes',
  'recoveryMinutes',
  'needsChair',
  'staffRole',
  'dose',
  'repeat',
  'repeatMin',
  'repeatMax',
  'after',
  'spacing',
  'sameTimeOfDay',
  'weekdays',
  'attachedTo',
];

/** A step with its fields in the documented order (jsonb does not keep key order). */
export function presentStep(step: ProtocolStep): ProtocolStep {
  const out: Record<string, unknown> = {};
  for (const k of STEP_FIELD_ORDER) if (step[k] !== undefined) out[k] = step[k];
  return out as unknown as ProtocolStep;
}
