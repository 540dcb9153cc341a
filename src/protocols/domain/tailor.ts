import type { Gap, ProtocolStep, StepDose, StepKind, StepStaffRole } from './protocol-step.js';
import { MAX_REPEAT } from './protocol-step.js';
import { doseAt, type Issue } from './validate-steps.js';
import type {
  PlannedDose as EnginePlannedDose,
  SessionConstraint as EngineSessionConstraint,
  SessionToPlace as EngineSessionToPlace,
} from '../../scheduling/engine/types.js';

/** Bounds a patient's plan may narrow a template gap to (each within the template's own). */
export interface GapOverride {
  min?: number;
  target?: number;
  max?: number;
}

export interface StepTailoring {
  /** The dose of the first occurrence, within the template's range (escalation then applies). */
  amount?: number;
  /** How many occurrences, within the step's repeatMin…repeatMax. */
  occurrences?: number;
  spacing?: GapOverride;
  after?: GapOverride;
}

export interface Tailoring {
  /** Needed for mg/kg doses. */
  weightKg?: number | null;
  /** Per step key. */
  steps?: Record<string, StepTailoring>;
}

/** How one session must sit relative to an earlier-listed session. */
export interface SessionConstraint extends EngineSessionConstraint {
  /** The other session's ref, e.g. `infusion#2`. */
  ref: string;
  /** `after`: this session follows `ref`; `before`: it precedes it. */
  relation: 'after' | 'before';
  gap: Gap;
  sameDay: boolean;
}

export interface PlannedDose extends EnginePlannedDose {
  drug: string;
  amount: number;
  unit: StepDose['unit'];
  infusionMinutes: number;
  /** The absolute amount for this patient: amount × weight for mg/kg, else amount. */
  totalMg: number;
}

/** One concrete session the scheduler must place: the engine's shape, in the protocol model's terms. */
export interface SessionToPlace extends EngineSessionToPlace {
  /** `<stepKey>#<occurrence>`: stable within a plan. */
  ref: string;
  stepKey: string;
  occurrence: number;
  occurrences: number;
  kind: StepKind;
  label: string;
  durationMinutes: number;
  recoveryMinutes: number;
  needsChair: boolean;
  staffRole: StepStaffRole | null;
  dose: PlannedDose | null;
  sameTimeOfDay: boolean;
  weekdays: number[] | null;
  /** Every constraint refers to a session listed earlier in the result. */
  constraints: SessionConstraint[];
}

export type TailorResult = { ok: true; sessions: SessionToPlace[] } | { ok: false; errors: Issue[] };

function narrow(base: Gap, override: GapOverride | undefined, field: string, errors: Issue[]): Gap {
  if (!override) return base;
  for (const k of ['min', 'target', 'max'] as const) {
    const v = override[k];
    if (v !== undefined && !Number.isFinite(v)) {
      errors.push({ field: `${field}.${k}`, message: `${k} must be a finite number` });
      return base;
    }
  }
  const gap: Gap = {
    min: override.min ?? base.min,
    max: override.max ?? base.max,
    target: override.target ?? base.target,
    unit: base.unit,
  };
  if (gap.min < base.min)
    errors.push({
      field: `${field}.min`,
      message: `min (${gap.min}) is below the template's ${base.min} ${base.unit}`,
    });
  if (gap.max > base.max)
    errors.push({
      field: `${field}.max`,
      message: `max (${gap.max}) is above the template's ${base.max} ${base.unit}`,
    });
  if (gap.max < gap.min)
    errors.push({ field: `${field}.max`, message: `max (${gap.max}) must not be below min (${gap.min})` });
  else if (override.target === undefined && (gap.target < gap.min || gap.target > gap.max)) {
    // The template's target no longer fits the narrowed range: move it to the nearest bound.
    gap.target = Math.min(Math.max(gap.target, gap.min), gap.max);
  } else if (gap.target < gap.min || gap.target > gap.max) {
    errors.push({
      field: `${field}.target`,
      message: `target (${gap.target}) must lie within [${gap.min}, ${gap.max}]`,
    });
  }
  return gap;
}

// Round to 0.1 mg after removing binary floating-point noise (0.15 × 31 is 4.6499999999999995).
const round1 = (x: number) => Math.round(Number((x * 10).toPrecision(12))) / 10;

/**
 * Turns a published template and one patient's tailoring into the concrete sessions to place,
 * in dependency order, with their gap constraints. Refuses (with every problem, each naming its
 * field under `steps.<key>` or `weightKg`) tailoring outside the template's bounds.
 */
export function tailor(steps: ProtocolStep[], tailoring: Tailoring = {}): TailorResult {
  const errors: Issue[] = [];
  const needWeight: string[] = [];
  const byKey = new Map(steps.map((s) => [s.key, s]));
  if (
    tailoring.weightKg !== undefined &&
    tailoring.weightKg !== null &&
    !(Number.isFinite(tailoring.weightKg) && tailoring.weightKg > 0 && tailoring.weightKg < 500)
  ) {
    errors.push({ field: 'weightKg', message: 'weightKg must be a number of kilograms above 0 and below 500' });
  }
  for (const key of Object.keys(tailoring.steps ?? {})) {
    if (!byKey.has(key)) errors.push({ field: `steps.${key}`, message: `the template has no step '${key}'` });
  }

  const counts = new Map<string, number>();
  const sessions: SessionToPlace[] = [];

  for (const step of steps) {
    const t = tailoring.steps?.[step.key] ?? {};
    const f = `steps.${step.key}`;

    let count: number;
    if (step.attachedTo) {
      if (t.occurrences !== undefined)
        errors.push({
          field: `${f}.occurrences`,
          message: `occurs once per '${step.attachedTo.step}'; tailor that step instead`,
        });
      if (t.spacing || t.after)
        errors.push({ field: f, message: 'an attached step has no spacing or after gap to tailor' });
      count = counts.get(step.attachedTo.step) ?? 0;
    } else {
      const lo = step.repeatMin ?? step.repeat;
      const hi = Math.min(step.repeatMax ?? step.repeat, MAX_REPEAT);
      count = t.occurrences ?? step.repeat;
      if (!Number.isInteger(count) || count < lo || count > hi) {
        errors.push({ field: `${f}.occurrences`, message: `occurrences must be between ${lo} and ${hi}` });
        count = step.repeat;
      }
    }
    counts.set(step.key, count);

    let dose: StepDose | undefined = step.dose;
    if (t.amount !== undefined) {
      if (!step.dose) errors.push({ field: `${f}.amount`, message: `step '${step.key}' has no dose` });
      else if (!Number.isFinite(t.amount) || t.amount < step.dose.min || t.amount > step.dose.max) {
        errors.push({
          field: `${f}.amount`,
          message: `amount (${t.amount} ${step.dose.unit}) must lie within [${step.dose.min}, ${step.dose.max}]`,
        });
      } else dose = { ...step.dose, amount: t.amount };
    }
    if (dose?.unit === 'mg/kg' && !(tailoring.weightKg && tailoring.weightKg > 0)) needWeight.push(step.key);

    const spacing = step.spacing ? narrow(step.spacing, t.spacing, `${f}.spacing`, errors) : undefined;
    if (t.spacing && !step.spacing)
      errors.push({ field: `${f}.spacing`, message: `step '${step.key}' has no spacing to tailor` });
    const after = step.after
      ? { step: step.after.step, gap: narrow(step.after.gap, t.after, `${f}.after`, errors) }
      : undefined;
    if (t.after && !step.after)
      errors.push({ field: `${f}.after`, message: `step '${step.key}' has no after gap to tailor` });

    for (let n = 1; n <= count; n++) {
      let planned: PlannedDose | null = null;
      if (dose) {
        const amount = doseAt(dose.amount, dose.escalationPerOccurrence, n);
        if (amount < dose.min || amount > dose.max) {
          errors.push({
            field: `${f}.occurrences`,
            message: `escalation reaches ${amount} ${dose.unit} at occurrence ${n}, outside [${dose.min}, ${dose.max}]`,
          });
          break;
        }
        const weight = tailoring.weightKg ?? 0;
        planned = {
          drug: dose.drug,
          amount,
          unit: dose.unit,
          infusionMinutes: dose.infusionMinutes,
          totalMg: dose.unit === 'mg/kg' ? round1(amount * weight) : amount,
        };
      }
      const constraints: SessionConstraint[] = [];
      if (step.attachedTo) {
        constraints.push({
          ref: `${step.attachedTo.step}#${n}`,
          relation: step.attachedTo.position,
          gap: step.attachedTo.gap,
          sameDay: step.attachedTo.sameDay ?? false,
        });
      } else if (n === 1 && after) {
        const anchorCount = counts.get(after.step) ?? 0;
        if (anchorCount > 0)
          constraints.push({ ref: `${after.step}#${anchorCount}`, relation: 'after', gap: after.gap, sameDay: false });
      } else if (n > 1 && spacing) {
        constraints.push({ ref: `${step.key}#${n - 1}`, relation: 'after', gap: spacing, sameDay: false });
      }
      sessions.push({
        ref: `${step.key}#${n}`,
        stepKey: step.key,
        occurrence: n,
        occurrences: count,
        kind: step.kind,
        label: count > 1 ? `${step.label} ${n}/${count}` : step.label,
        durationMinutes: step.durationMinutes,
        recoveryMinutes: step.recoveryMinutes,
        needsChair: step.needsChair,
        staffRole: step.staffRole,
        dose: planned,
        sameTimeOfDay: step.sameTimeOfDay ?? false,
        weekdays: step.weekdays ?? null,
        constraints,
      });
    }
  }
  // Several steps may need the weight; say it once, naming them all.
  if (needWeight.length) {
    errors.push({
      field: 'weightKg',
      message: `the patient's weight is needed for the mg/kg doses of ${needWeight.map((k) => `'${k}'`).join(', ')}`,
    });
  }
  return errors.length ? { ok: false, errors } : { ok: true, sessions };
}
