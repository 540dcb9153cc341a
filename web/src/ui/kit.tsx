import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { ApiError } from '../api.js';
import { problemMessage } from '../lib/problems.js';

/** An error from the server (problem+json) or the app, in plain words, with its field errors. */
export function ErrorBox({
  error,
  children,
  title: givenTitle,
  message,
}: {
  error: unknown;
  children?: ComponentChildren;
  title?: string;
  message?: string;
}) {
  if (!error) return null;
  const p = error instanceof ApiError ? error.problem : undefined;
  const status = error instanceof ApiError ? error.status : undefined;
  const title =
    givenTitle ??
    (p?.title && p.detail ? p.title : status === 409 ? 'Conflict' : status === 412 ? 'Changed meanwhile' : 'Not done');
  return (
    <div class="error" role="alert">
      <strong>
        {title}
        {status ? ` (${status})` : ''}:{' '}
      </strong>
      {message ??
        (error instanceof ApiError
          ? problemMessage(p, status)
          : error instanceof Error
            ? error.message
            : String(error))}
      {p?.errors?.length ? (
        <ul>
          {p.errors.map((e) => (
            <li key={e.field}>
              <code>{e.field}</code>: {e.message}
            </li>
          ))}
        </ul>
      ) : null}
      {children}
    </div>
  );
}

let fieldSeq = 0;
/** A labelled form field with its server error next to it (aria-describedby). */
export function Field({
  label,
  error,
  children,
  hint,
}: {
  label: string;
  error?: string;
  hint?: string;
  children: (id: string, describedBy: string | undefined) => JSX.Element;
}) {
  const id = useRef(`f${++fieldSeq}`).current;
  const describedBy = error ? `${id}-err` : hint ? `${id}-hint` : undefined;
  return (
    <div class={`field${error ? ' invalid' : ''}`}>
      <label for={id}>{label}</label>
      {children(id, describedBy)}
      {hint && !error ? <small id={`${id}-hint`}>{hint}</small> : null}
      {error ? (
        <small class="field-error" id={`${id}-err`}>
          {error}
        </small>
      ) : null}
    </div>
  );
}

/** A modal dialog (native <dialog>: focus kept inside, Esc closes). */
export function Dialog({
  title,
  onClose,
  children,
  wide,
}: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      class={wide ? 'wide' : ''}
      aria-labelledby="dialog-title"
      onCancel={(e) => (e.preventDefault(), onClose())}
    >
      <header>
        <h2 id="dialog-title">{title}</h2>
        <button type="button" class="ghost" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </header>
      {children}
    </dialog>
  );
}

export function Spinner({ label = 'Loading…' }: { label?: string }) {
  return (
    <p class="muted" role="status">
      {label}
    </p>
  );
}

export const STATUS_LABEL: Record<string, string> = {
  scheduled: 'Scheduled',
  checked_in: 'Checked in',
  completed: 'Completed',
  no_show: 'No-show',
  cancelled: 'Cancelled',
};
