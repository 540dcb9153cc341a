/**
 * What an update changed, for the audit trail: for each field the request sets, its value before
 * and after, only where it differs. `{}` on both sides when nothing changed.
 */
export function changedFields(
  before: object,
  patch: object,
): { before: Record<string, unknown>; after: Record<string, unknown> } {
  const old = before as Record<string, unknown>;
  const out = { before: {} as Record<string, unknown>, after: {} as Record<string, unknown> };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (JSON.stringify(old[key] ?? null) === JSON.stringify(value ?? null)) continue;
    out.before[key] = old[key] ?? null;
    out.after[key] = value;
  }
  return out;
}
