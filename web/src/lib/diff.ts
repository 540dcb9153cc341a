import { DateTime } from 'luxon';

/** One change of an adjustment preview or commit (AdjustmentResultDto.changes). */
export interface SessionChange {
  sessionId: string | null;
  ref: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown>;
}

export interface DiffRow {
  ref: string;
  sessionId: string | null;
  kind: 'moved' | 'cancelled' | 'added' | 'changed';
  /** field → [before, after] as text, only the fields that differ. */
  fields: { field: string; before: string; after: string }[];
}

const LABELS: Record<string, string> = {
  start: 'start',
  chairId: 'chair',
  staffId: 'staff',
  dose: 'dose',
  status: 'status',
  statusReason: 'reason',
};

/**
 * A preview's changes as before/after rows: moved sessions first (in their new order), only the
 * fields that differ, times in the clinic's zone, chairs and staff by name.
 */
export function diffRows(
  changes: readonly SessionChange[],
  zone: string,
  names: Record<string, string> = {},
): DiffRow[] {
  const rows = changes.map((c): DiffRow => {
    const keys = [...new Set([...Object.keys(c.before ?? {}), ...Object.keys(c.after)])];
    const fields = keys
      .filter((k) => JSON.stringify(c.before?.[k] ?? null) !== JSON.stringify(c.after[k] ?? null))
      .map((k) => ({
        field: LABELS[k] ?? k,
        before: c.before ? show(k, c.before[k], zone, names) : '—',
        after: show(k, c.after[k], zone, names),
      }));
    const kind: DiffRow['kind'] = !c.before
      ? 'added'
      : c.after.status === 'cancelled'
        ? 'cancelled'
        : fields.some((f) => f.field === 'start')
          ? 'moved'
          : 'changed';
    return { ref: c.ref, sessionId: c.sessionId, kind, fields };
  });
  const order = { moved: 0, added: 1, changed: 2, cancelled: 3 };
  return rows.sort((a, b) => order[a.kind] - order[b.kind] || startOf(changes, a) - startOf(changes, b));
}

function startOf(changes: readonly SessionChange[], row: DiffRow): number {
  const c = changes.find((x) => x.ref === row.ref && x.sessionId === row.sessionId);
  const s = c?.after.start ?? c?.before?.start;
  return typeof s === 'string' ? Date.parse(s) : 0;
}

function show(key: string, v: unknown, zone: string, names: Record<string, string>): string {
  if (v === null || v === undefined) return '—';
  if (key === 'start' && typeof v === 'string') return formatInstant(v, zone);
  if ((key === 'chairId' || key === 'staffId') && typeof v === 'string') return names[v] ?? v.slice(0, 8);
  if (key === 'dose' && typeof v === 'object') return formatDose(v as Dose);
  return String(v);
}

export interface Dose {
  amount: number;
  unit: string;
  drug?: string;
  totalMg?: number | null;
}

export function formatDose(d: Dose | null | undefined): string {
  if (!d) return '—';
  return `${d.amount} ${d.unit}${d.totalMg ? ` (${d.totalMg} mg)` : ''}`;
}

/** "Fri 4 Dec, 09:00 EST": an instant in the clinic's zone, labelled. */
export function formatInstant(iso: string, zone: string): string {
  const t = DateTime.fromISO(iso, { setZone: false }).setZone(zone);
  return t.isValid ? t.toFormat('ccc d LLL, HH:mm ZZZZ') : iso;
}
