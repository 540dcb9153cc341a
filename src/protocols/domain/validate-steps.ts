import { gapDays, MAX_TEMPLATE_SPAN_DAYS, type Gap, type ProtocolStep } from './protocol-step.js';

/** One problem with one field of a template, e.g. `{ field: 'steps.2.spacing.max', message }`. */
export interface Issue {
  field: string;
  message: string;
}

function checkGap(gap: Gap, field: string, issues: Issue[]): void {
  if (gap.max < gap.min)
    issues.push({ field: `${field}.max`, message: `max (${gap.max}) must not be below min (${gap.min})` });
  else if (gap.target < gap.min || gap.target > gap.max) {
    issues.push({
      field: `${field}.target`,
      message: `target (${gap.target}) must lie within [${gap.min}, ${gap.max}]`,
    });
  }
}

/** The dose of each occurrence, 1-based, given escalation. */
export function doseAt(base: number, escalation: number | undefined, occurrence: number): number {
  return Math.round((base + (escalation ?? 0) * (occurrence - 1)) * 1000) / 1000;
}

/**
 * The rules a template must satisfy beyond the shape of each field: gap bounds, dose ranges,
 * unique keys, references only to earlier steps (so no cycles), repeat ranges, and a total span
 * within {@link MAX_TEMPLATE_SPAN_DAYS}. Returns every problem found, each naming its field.
 */
export function validateProtocolSteps(steps: ProtocolStep[]): Issue[] {
  const issues: Issue[] = [];
  const indexByKey = new Map<string, number>();
  steps.forEach((s, i) => {
    if (!indexByKey.has(s.key)) indexByKey.set(s.key, i);
  });

  const reference = (from: number, key: string, field: string): number | undefined => {
    const at = indexByKey.get(key);
    if (key === steps[from].key) {
      issues.push({
        field,
        message: `a step cannot depend on itself ('${key}'); use spacing for the gap between its occurrences`,
      });
      return undefined;
    }
    if (at === undefined) {
      issues.push({ field, message: `refers to an unknown step '${key}'` });
      return undefined;
    }
    if (at > from) {
      issues.push({
        field,
        message: `depends on '${key}', which comes later; list steps so that each depends only on earlier ones`,
      });
      return undefined;
    }
    return at;
  };

  steps.forEach((s, i) => {
    const f = `steps.${i}`;
    const first = indexByKey.get(s.key);
    if (first !== i) issues.push({ field: `${f}.key`, message: `duplicate key '${s.key}' (also step ${first})` });

    const repeatMin = s.repeatMin ?? s.repeat;
    const repeatMax = s.repeatMax ?? s.repeat;
    if (repeatMin > s.repeat)
      issues.push({
        field: `${f}.repeatMin`,
        message: `repeatMin (${repeatMin}) must not exceed repeat (${s.repeat})`,
      });
    if (repeatMax < s.repeat)
      issues.push({
        field: `${f}.repeatMax`,
        message: `repeatMax (${repeatMax}) must not be below repeat (${s.repeat})`,
      });

    if (s.dose) {
      const d = s.dose;
      if (d.max < d.min)
        issues.push({ field: `${f}.dose.max`, message: `max (${d.max}) must not be below min (${d.min})` });
      else if (d.amount < d.min || d.amount > d.max) {
        issues.push({
          field: `${f}.dose.amount`,
          message: `amount (${d.amount} ${d.unit}) must lie within the allowed range [${d.min}, ${d.max}]`,
        });
      } else if (d.escalationPerOccurrence) {
        const last = doseAt(d.amount, d.escalationPerOccurrence, Math.max(repeatMax, 1));
        if (last < d.min || last > d.max) {
          issues.push({
            field: `${f}.dose.escalationPerOccurrence`,
            message: `escalation reaches ${last} ${d.unit} at occurrence ${repeatMax}, outside [${d.min}, ${d.max}]`,
          });
        }
      }
      if (d.infusionMinutes > s.durationMinutes) {
        issues.push({
          field: `${f}.dose.infusionMinutes`,
          message: `infusionMinutes (${d.infusionMinutes}) must fit in durationMinutes (${s.durationMinutes})`,
        });
      }
    }

    if (s.attachedTo) {
      const a = s.attachedTo;
      const target = reference(i, a.step, `${f}.attachedTo.step`);
      if (target !== undefined && steps[target].attachedTo) {
        issues.push({
          field: `${f}.attachedTo.step`,
          message: `'${a.step}' is itself attached; attach to the step it follows`,
        });
      }
      checkGap(a.gap, `${f}.attachedTo.gap`, issues);
      if (a.sameDay && a.gap.unit === 'days' && a.gap.min > 0) {
        issues.push({ field: `${f}.attachedTo.sameDay`, message: 'sameDay contradicts a gap of at least one day' });
      }
      if (s.repeat !== 1 || s.repeatMin !== undefined || s.repeatMax !== undefined) {
        issues.push({
          field: `${f}.repeat`,
          message: `an attached step occurs once per occurrence of '${a.step}'; leave repeat at 1`,
        });
      }
      if (s.after) issues.push({ field: `${f}.after`, message: 'an attached step is timed by attachedTo, not after' });
      if (s.spacing)
        issues.push({ field: `${f}.spacing`, message: 'an attached step is timed by attachedTo, not spacing' });
    } else {
      if (s.after) {
        reference(i, s.after.step, `${f}.after.step`);
        checkGap(s.after.gap, `${f}.after.gap`, issues);
      }
      if (s.spacing) checkGap(s.spacing, `${f}.spacing`, issues);
      else if (repeatMax > 1)
        issues.push({ field: `${f}.spacing`, message: 'spacing is required for a step that can occur more than once' });
    }
  });

  if (issues.length === 0) {
    const span = templateSpanDays(steps);
    if (span > MAX_TEMPLATE_SPAN_DAYS) {
      issues.push({
        field: 'steps',
        message: `the template can span up to ${span} days; the limit is ${MAX_TEMPLATE_SPAN_DAYS}`,
      });
    }
  }
  return issues;
}

/**
 * The longest the template can take, in days, with every gap at its maximum and every step at
 * its most occurrences. Assumes references are valid (earlier steps only).
 */
export function templateSpanDays(steps: ProtocolStep[]): number {
  const lastEnd = new Map<string, number>();
  let span = 0;
  for (const s of steps) {
    let start = 0;
    let end: number;
    if (s.attachedTo) {
      const anchorEnd = lastEnd.get(s.attachedTo.step) ?? 0;
      end =
        s.attachedTo.position === 'after'
          ? anchorEnd + gapDays(s.attachedTo.gap.max, s.attachedTo.gap.unit)
          : anchorEnd;
    } else {
      if (s.after) start = (lastEnd.get(s.after.step) ?? 0) + gapDays(s.after.gap.max, s.after.gap.unit);
      const repeats = (s.repeatMax ?? s.repeat) - 1;
      end = start + (s.spacing && repeats > 0 ? repeats * gapDays(s.spacing.max, s.spacing.unit) : 0);
    }
    lastEnd.set(s.key, end);
    span = Math.max(span, end);
  }
  return span;
}
