import { DateTime } from 'luxon';
import { formatDose } from '../lib/diff.js';
import type { SessionView, Step } from '../types.js';

/** What the clinician typed for one step's tailoring (strings as in the inputs; empty = the template's). */
export interface Tail {
  amount: string;
  occurrences: string;
  min: string;
  target: string;
  max: string;
}

/** The gap from one session to the previous, in words ("+2 days", "+1 h 10 min"). */
export function gapText(prev: SessionView | undefined, s: SessionView, zone: string): string {
  if (!prev) return 'first';
  const a = DateTime.fromISO(prev.start).setZone(zone);
  const b = DateTime.fromISO(s.start).setZone(zone);
  const days = Math.round(b.startOf('day').diff(a.startOf('day'), 'days').days);
  if (days >= 1) return `+${days} day${days === 1 ? '' : 's'}`;
  const mins = Math.round(b.diff(DateTime.fromISO(prev.occupiedUntil), 'minutes').minutes);
  return mins >= 60 ? `+${Math.floor(mins / 60)} h ${mins % 60} min after` : `+${mins} min after`;
}

/** The request's `tailoring.steps`: one entry per step with something typed, numbers as numbers. */
export function tailoredSteps(tail: Record<string, Tail>): Record<string, unknown>[] {
  return Object.entries(tail)
    .map(([step, t]) => {
      const o: Record<string, unknown> = { step };
      if (t.amount) o.amount = Number(t.amount);
      if (t.occurrences) o.occurrences = Number(t.occurrences);
      if (t.min || t.target || t.max)
        o.spacing = {
          ...(t.min ? { min: Number(t.min) } : {}),
          ...(t.target ? { target: Number(t.target) } : {}),
          ...(t.max ? { max: Number(t.max) } : {}),
        };
      return o;
    })
    .filter((o) => Object.keys(o).length > 1);
}

/** Per step: dose, occurrences and spacing, each with the template's value as its placeholder. */
export function TailoringTable({
  steps,
  tail,
  setTail,
}: {
  steps: Step[];
  tail: Record<string, Tail>;
  setTail: (t: Record<string, Tail>) => void;
}) {
  return (
    <table class="list compact">
      <thead>
        <tr>
          <th scope="col">Step</th>
          <th scope="col">Dose</th>
          <th scope="col">Occurrences</th>
          <th scope="col">Spacing min</th>
          <th scope="col">target</th>
          <th scope="col">max</th>
        </tr>
      </thead>
      <tbody>
        {steps.map((s) => {
          const t = tail[s.key] ?? { amount: '', occurrences: '', min: '', target: '', max: '' };
          const set = (k: keyof Tail) => (e: Event) =>
            setTail({ ...tail, [s.key]: { ...t, [k]: (e.target as HTMLInputElement).value } });
          return (
            <tr key={s.key}>
              <th scope="row">{s.label}</th>
              <td>
                {s.dose ? (
                  <input
                    aria-label={`${s.label} dose (${s.dose.unit}, ${s.dose.min ?? ''}–${s.dose.max ?? ''})`}
                    type="number"
                    step="0.01"
                    placeholder={String(s.dose.amount)}
                    value={t.amount}
                    onInput={set('amount')}
                  />
                ) : (
                  '—'
                )}
              </td>
              <td>
                {s.repeat > 1 || s.repeatMax ? (
                  <input
                    aria-label={`${s.label} occurrences`}
                    type="number"
                    min={s.repeatMin ?? 1}
                    max={s.repeatMax ?? s.repeat}
                    placeholder={String(s.repeat)}
                    value={t.occurrences}
                    onInput={set('occurrences')}
                  />
                ) : (
                  '—'
                )}
              </td>
              {(['min', 'target', 'max'] as const).map((k) => (
                <td key={k}>
                  {s.spacing ? (
                    <input
                      aria-label={`${s.label} spacing ${k} (${s.spacing.unit})`}
                      type="number"
                      placeholder={String(s.spacing[k])}
                      value={t[k]}
                      onInput={set(k)}
                    />
                  ) : (
                    '—'
                  )}
                </td>
              ))}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** The previewed sessions in order, each with its gap from the previous one, in the clinic's zone. */
export function PreviewStrip({ sessions, zone }: { sessions: SessionView[]; zone: string }) {
  return (
    <ol class="strip" data-testid="preview-strip">
      {sessions.map((s, i) => {
        const t = DateTime.fromISO(s.start).setZone(zone);
        return (
          <li key={s.ref} class={`strip-item kind-${s.kind}`}>
            <span class="gap">{gapText(sessions[i - 1], s, zone)}</span>
            <strong>{t.toFormat('ccc d LLL')}</strong>
            <span>{t.toFormat('HH:mm ZZZZ')}</span>
            <span>{s.label}</span>
            <span class="small">{[s.chair?.name, s.staff?.name].filter(Boolean).join(' · ')}</span>
            {s.dose ? <span class="small">{formatDose(s.dose)}</span> : null}
          </li>
        );
      })}
    </ol>
  );
}
