/** RFC 9457 problem+json as the API sends it (see src/common/http/problem.dto.ts). */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  errors?: { field: string; message: string }[];
  [extra: string]: unknown;
}

/** A failed API call: the status and the problem the server answered. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problemMessage(problem, status));
    this.name = 'ApiError';
  }
}

/** One readable sentence for a problem: its detail, else its title, else the status. */
export function problemMessage(p: Problem | undefined, status?: number): string {
  const text = p?.detail || p?.title;
  if (text) return text;
  return status ? `The server answered ${status}.` : 'Something went wrong.';
}

/**
 * Field errors keyed for a form: `errors[].field` as the server names it (`steps.2.dose.min`),
 * several messages on one field joined. `prefix` strips a wrapper the form does not show
 * (`tailoring.` on the booking form), `aliases` maps server names to the form's own.
 */
export function fieldErrors(
  p: Problem | undefined,
  opts: { prefix?: string; aliases?: Record<string, string> } = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of p?.errors ?? []) {
    if (!e || typeof e.field !== 'string') continue;
    let field = e.field;
    if (opts.prefix && field.startsWith(opts.prefix)) field = field.slice(opts.prefix.length);
    field = opts.aliases?.[field] ?? field;
    const message = humanize(e.field, String(e.message ?? 'is invalid'));
    out[field] = out[field] ? `${out[field]}; ${message}` : message;
  }
  return out;
}

/** class-validator repeats the property name at the start of each message: say it once, readably. */
function humanize(field: string, message: string): string {
  const leaf = field.split('.').pop() ?? field;
  const rest = message.startsWith(leaf + ' ')
    ? message.slice(leaf.length + 1)
    : message.startsWith(field + ' ')
      ? message.slice(field.length + 1)
      : message;
  return rest.charAt(0).toUpperCase() + rest.slice(1);
}

/**
 * Field errors of a table (the protocol editor's steps): `steps.<row>.<path>` → row → path → message.
 * Errors naming a whole row (`steps.3`) go under the path `''`.
 */
export function rowErrors(errors: Record<string, string>, table: string): Map<number, Record<string, string>> {
  const rows = new Map<number, Record<string, string>>();
  for (const [field, message] of Object.entries(errors)) {
    const m = new RegExp(`^${table}\\.(\\d+)(?:\\.(.+))?$`).exec(field);
    if (!m) continue;
    const row = Number(m[1]);
    const cell = rows.get(row) ?? {};
    cell[m[2] ?? ''] = message;
    rows.set(row, cell);
  }
  return rows;
}

/** The words for a weight the front desk entered and no clinician has confirmed yet. */
export function pendingWeightText(kg: number): string {
  return `${kg} kg entered by front desk, awaiting clinician confirmation`;
}

/**
 * A booking refused because the patient's weight awaits confirmation (409 WEIGHT_UNCONFIRMED), in
 * plain words for who is looking: the server's detail names an API call, which helps nobody at the
 * front desk. Null for any other problem.
 */
export function weightRefusal(
  p: Problem | undefined,
  frontDesk: boolean,
  patient?: { fullName: string; pendingWeightKg?: number | null },
): { title: string; message: string } | null {
  if (p?.code !== 'WEIGHT_UNCONFIRMED') return null;
  const who = patient ? `${patient.fullName}'s weight` : "The patient's weight";
  const kg = patient?.pendingWeightKg != null ? ` (${patient.pendingWeightKg} kg)` : '';
  const why = `${who}${kg} was entered by the front desk and no clinician has confirmed it yet. This protocol doses by weight (mg/kg), so it cannot be booked until the weight is confirmed.`;
  return {
    title: 'Weight not confirmed',
    message: frontDesk
      ? `${why} A clinician must confirm the weight on the patient page; then preview again.`
      : `${why} Confirm the weight on the patient page, or give a weight for this plan under Tailoring.`,
  };
}
