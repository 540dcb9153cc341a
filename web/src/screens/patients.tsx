import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, get } from '../api.js';
import { fieldErrors, pendingWeightText } from '../lib/problems.js';
import { can, useApp } from '../state.js';
import type { Page, Patient } from '../types.js';
import { Dialog, ErrorBox, Field, Spinner } from '../ui/kit.js';

/** Search as you type (debounced), over the API's patient search. */
export function usePatientSearch(q: string): { items: Patient[] | null; error: unknown } {
  const [items, setItems] = useState<Patient[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const ctl = new AbortController();
    const t = setTimeout(() => {
      get<Page<Patient>>('/patients', { q: q.trim() || undefined, limit: 50 }, ctl.signal)
        .then((p) => (setItems(p.items), setError(null)))
        .catch((e) => (e as Error).name !== 'AbortError' && setError(e));
    }, 200);
    return () => (clearTimeout(t), ctl.abort());
  }, [q]);
  return { items, error };
}

/**
 * The confirmed weight and, when the front desk entered one that waits, that one too; clinicians
 * and admins get a button confirming it (PATCH `weightKg` = the pending value, with If-Match).
 */
export function WeightView({
  patient,
  etag,
  onConfirmed,
}: {
  patient: Patient;
  etag?: string | null;
  onConfirmed: (p: Patient, etag: string | null) => void;
}) {
  const { me } = useApp();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const pending = patient.pendingWeightKg;
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await call<Patient>('PATCH', `/patients/${patient.id}`, { body: { weightKg: pending }, ifMatch: etag });
      onConfirmed(r.data, r.etag);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <span data-testid="weight">{patient.weightKg != null ? `${patient.weightKg} kg` : '—'}</span>
      {pending != null ? (
        <>
          {' '}
          <span class="pending" data-testid="pending-weight">
            ({pendingWeightText(pending)})
          </span>
          {can.confirmWeight(me.role) ? (
            <>
              {' '}
              <button
                type="button"
                class="small"
                disabled={busy}
                aria-label={`Confirm weight ${pending} kg for ${patient.fullName}`}
                onClick={() => void confirm()}
              >
                Confirm weight
              </button>
            </>
          ) : null}
        </>
      ) : null}
      <ErrorBox error={error} />
    </>
  );
}

export function Patients() {
  const { go } = useApp();
  const [q, setQ] = useState('');
  const [registering, setRegistering] = useState(false);
  const { items: found, error } = usePatientSearch(q);
  const [updated, setUpdated] = useState<Record<string, Patient>>({});
  const items = found?.map((p) => updated[p.id] ?? p) ?? null;
  return (
    <section aria-labelledby="patients-title">
      <div class="toolbar">
        <h1 id="patients-title">Patients</h1>
        <button type="button" class="primary" onClick={() => setRegistering(true)}>
          Register a patient
        </button>
      </div>
      <Field label="Search by name">
        {(id) => (
          <input
            id={id}
            type="search"
            value={q}
            autoComplete="off"
            onInput={(e) => setQ((e.target as HTMLInputElement).value)}
            placeholder="Type a name…"
          />
        )}
      </Field>
      <ErrorBox error={error} />
      {!items ? <Spinner /> : null}
      {items ? (
        <table class="list" data-testid="patient-list">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Date of birth</th>
              <th scope="col">Phone</th>
              <th scope="col">Weight</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((p) => (
              <tr key={p.id}>
                <td>
                  <button type="button" class="link" onClick={() => go({ name: 'patient', patientId: p.id })}>
                    {p.fullName}
                  </button>
                </td>
                <td>{p.dateOfBirth}</td>
                <td>{p.phone ?? '—'}</td>
                <td>
                  <WeightView patient={p} onConfirmed={(np) => setUpdated({ ...updated, [np.id]: np })} />
                </td>
                <td>
                  <button type="button" onClick={() => go({ name: 'book', patientId: p.id })}>
                    Book a series
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {items && !items.length ? <p class="muted">No patient matches.</p> : null}
      {registering ? (
        <PatientForm
          onClose={() => setRegistering(false)}
          onSaved={(p) => {
            setRegistering(false);
            go({ name: 'patient', patientId: p.id });
          }}
        />
      ) : null}
    </section>
  );
}

type Field = 'fullName' | 'dateOfBirth' | 'phone' | 'email' | 'weightKg' | 'notes';

/** Register (POST) or edit (PATCH with If-Match) a patient; server field errors beside their fields. */
export function PatientForm({
  patient,
  etag,
  onClose,
  onSaved,
}: {
  patient?: Patient;
  etag?: string | null;
  onClose: () => void;
  onSaved: (p: Patient, etag: string | null) => void;
}) {
  const { me } = useApp();
  const frontDesk = !can.confirmWeight(me.role);
  // The front desk sees (and edits) the weight it entered that waits; a clinician the confirmed one.
  const shownWeight = frontDesk && patient?.pendingWeightKg != null ? patient.pendingWeightKg : patient?.weightKg;
  const [v, setV] = useState<Record<Field, string>>({
    fullName: patient?.fullName ?? '',
    dateOfBirth: patient?.dateOfBirth ?? '',
    phone: patient?.phone ?? '',
    email: patient?.email ?? '',
    weightKg: shownWeight != null ? String(shownWeight) : '',
    notes: patient?.notes ?? '',
  });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const errs = error instanceof ApiError ? fieldErrors(error.problem) : {};
  const set = (k: Field) => (e: Event) => setV({ ...v, [k]: (e.target as HTMLInputElement).value });
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body: Record<string, unknown> = { fullName: v.fullName.trim(), dateOfBirth: v.dateOfBirth };
    const opt = (k: 'phone' | 'email' | 'notes') => (v[k].trim() ? v[k].trim() : patient ? null : undefined);
    body.phone = opt('phone');
    body.email = opt('email');
    body.notes = opt('notes');
    // The weight is sent only when it was changed: resending it would settle (clinician) or
    // withdraw (front desk) a weight that waits for confirmation.
    const weight = v.weightKg.trim() ? Number(v.weightKg) : null;
    if (!patient) body.weightKg = weight ?? undefined;
    else if (weight !== (shownWeight ?? null)) body.weightKg = weight;
    try {
      const r = patient
        ? await call<Patient>('PATCH', `/patients/${patient.id}`, { body, ifMatch: etag })
        : await call<Patient>('POST', '/patients', { body });
      onSaved(r.data, r.etag);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog title={patient ? `Edit ${patient.fullName}` : 'Register a patient'} onClose={onClose}>
      <form onSubmit={submit} class="grid-form" noValidate>
        <Field label="Full name" error={errs.fullName}>
          {(id, d) => <input id={id} aria-describedby={d} value={v.fullName} onInput={set('fullName')} required />}
        </Field>
        <Field label="Date of birth" error={errs.dateOfBirth}>
          {(id, d) => (
            <input
              id={id}
              aria-describedby={d}
              type="date"
              value={v.dateOfBirth}
              onInput={set('dateOfBirth')}
              required
            />
          )}
        </Field>
        <Field label="Phone" error={errs.phone}>
          {(id, d) => <input id={id} aria-describedby={d} type="tel" value={v.phone} onInput={set('phone')} />}
        </Field>
        <Field label="Email" error={errs.email}>
          {(id, d) => <input id={id} aria-describedby={d} type="email" value={v.email} onInput={set('email')} />}
        </Field>
        <Field
          label="Weight (kg)"
          error={errs.weightKg}
          hint={
            frontDesk
              ? 'A weight you enter waits for a clinician to confirm it; doses use only the confirmed weight.'
              : undefined
          }
        >
          {(id, d) => (
            <input id={id} aria-describedby={d} type="number" step="0.1" value={v.weightKg} onInput={set('weightKg')} />
          )}
        </Field>
        <Field label="Notes" error={errs.notes}>
          {(id, d) => <textarea id={id} aria-describedby={d} value={v.notes} onInput={set('notes')} />}
        </Field>
        <ErrorBox error={error && !Object.keys(errs).length ? error : null} />
        {error instanceof ApiError && error.status === 412 ? (
          <p class="error">Someone else changed this patient meanwhile: close and reopen to see their changes.</p>
        ) : null}
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            {patient ? 'Save changes' : 'Register'}
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** ISO weekdays 1–7 as short names (index 0 is Monday). */
export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
