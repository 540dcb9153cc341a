import { DateTime } from 'luxon';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, get } from '../api.js';
import { formatDose } from '../lib/diff.js';
import { fieldErrors, pendingWeightText } from '../lib/problems.js';
import { can, useApp } from '../state.js';
import type { Page, Patient, Plan } from '../types.js';
import { Dialog, ErrorBox, Field, Spinner, STATUS_LABEL } from '../ui/kit.js';

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

interface Observation {
  id: string;
  sessionRef: string;
  sessionLabel: string;
  recordedAt: string;
  craving: number | null;
  cows: number | null;
  phq9: number | null;
  gad7: number | null;
}
interface Adjustment {
  planVersion?: number;
  type: string;
  reason?: string | null;
  createdAt?: string;
  at?: string;
  [k: string]: unknown;
}

export function PatientPage({ patientId }: { patientId: string }) {
  const { me, go } = useApp();
  const zone = me.clinic.timezone;
  const [patient, setPatient] = useState<{ p: Patient; etag: string | null } | null>(null);
  const [plans, setPlans] = useState<Plan[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [editing, setEditing] = useState(false);
  useEffect(() => {
    call<Patient>('GET', `/patients/${patientId}`)
      .then((r) => setPatient({ p: r.data, etag: r.etag }))
      .catch(setError);
    get<Page<Plan>>(`/patients/${patientId}/plans`).then((r) => setPlans(r.items), setError);
  }, [patientId]);
  if (!patient) return error ? <ErrorBox error={error} /> : <Spinner />;
  const p = patient.p;
  return (
    <section aria-labelledby="patient-title">
      <div class="toolbar">
        <h1 id="patient-title">{p.fullName}</h1>
        <div class="controls">
          <button type="button" onClick={() => setEditing(true)}>
            Edit
          </button>
          <button type="button" class="primary" onClick={() => go({ name: 'book', patientId: p.id })}>
            Book a series
          </button>
        </div>
      </div>
      <dl class="facts">
        <dt>Date of birth</dt>
        <dd>{p.dateOfBirth}</dd>
        <dt>Phone</dt>
        <dd>{p.phone ?? '—'}</dd>
        <dt>Email</dt>
        <dd>{p.email ?? '—'}</dd>
        <dt>Weight</dt>
        <dd>
          <WeightView patient={p} etag={patient.etag} onConfirmed={(np, etag) => setPatient({ p: np, etag })} />
        </dd>
        <dt>Preferred times</dt>
        <dd>
          {p.preferredTimes.length
            ? p.preferredTimes.map((t) => `${WEEKDAYS[t.weekday - 1]} ${t.start}–${t.end}`).join(', ')
            : '—'}
        </dd>
      </dl>
      <ErrorBox error={error} />
      <h2>Plans</h2>
      {!plans ? <Spinner /> : null}
      {plans && !plans.length ? <p class="muted">No plans yet.</p> : null}
      {plans?.map((plan) => (
        <PlanCard key={plan.id} plan={plan} zone={zone} />
      ))}
      {editing ? (
        <PatientForm
          patient={p}
          etag={patient.etag}
          onClose={() => setEditing(false)}
          onSaved={(np, etag) => {
            setPatient({ p: np, etag });
            setEditing(false);
          }}
        />
      ) : null}
    </section>
  );
}

export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

function PlanCard({ plan, zone }: { plan: Plan; zone: string }) {
  const { me, go } = useApp();
  const [log, setLog] = useState<Adjustment[] | null>(null);
  const [obs, setObs] = useState<Observation[] | null>(null);
  useEffect(() => {
    get<{ items: Adjustment[] }>(`/plans/${plan.id}/adjustments`).then(
      (r) => setLog(r.items),
      () => setLog([]),
    );
    if (can.observe(me.role))
      get<{ items: Observation[] }>(`/plans/${plan.id}/observations`).then(
        (r) => setObs(r.items),
        () => setObs([]),
      );
  }, [plan.id]);
  return (
    <article class="card plan" data-plan={plan.id}>
      <header class="toolbar">
        <h3>
          Protocol version {plan.protocolVersion} · from {plan.earliestStart} · <span class="badge">{plan.status}</span>
        </h3>
        {plan.status === 'active' ? (
          <button type="button" onClick={() => go({ name: 'adjust', planId: plan.id })}>
            Adjust plan…
          </button>
        ) : null}
      </header>
      <table class="list compact">
        <caption class="sr-only">Sessions</caption>
        <thead>
          <tr>
            <th scope="col">Session</th>
            <th scope="col">When ({zone})</th>
            <th scope="col">Chair</th>
            <th scope="col">Staff</th>
            <th scope="col">Dose</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {plan.sessions.map((s) => (
            <tr key={s.id}>
              <td>{s.label}</td>
              <td>
                <button type="button" class="link" onClick={() => go({ name: 'day', date: s.localDate })}>
                  {DateTime.fromISO(s.start).setZone(zone).toFormat('ccc d LLL yyyy, HH:mm')}
                </button>
              </td>
              <td>{s.chair?.name ?? '—'}</td>
              <td>{s.staff?.name ?? '—'}</td>
              <td>{formatDose(s.dose)}</td>
              <td>
                <span class={`chip st-${s.status}`}>{STATUS_LABEL[s.status]}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h4>Adjustment log</h4>
      {log && !log.length ? <p class="muted">No adjustments.</p> : null}
      <ul>
        {log?.map((a, i) => (
          <li key={i}>
            {a.createdAt || a.at
              ? DateTime.fromISO(String(a.createdAt ?? a.at))
                  .setZone(zone)
                  .toFormat('d LLL yyyy HH:mm') + ' · '
              : ''}
            <strong>{String(a.type).replace(/_/g, ' ')}</strong>
            {a.reason ? ` — ${a.reason}` : ''}
            {a.planVersion ? <span class="muted"> (plan version {a.planVersion})</span> : null}
          </li>
        ))}
      </ul>
      {can.observe(me.role) ? (
        <>
          <h4>Observations by session</h4>
          {obs && !obs.length ? <p class="muted">No observations recorded.</p> : null}
          {obs && obs.length ? (
            <div class="charts">
              {(
                [
                  ['craving', 'Craving (0–10)', 10],
                  ['cows', 'COWS (0–48)', 48],
                  ['phq9', 'PHQ-9 (0–27)', 27],
                  ['gad7', 'GAD-7 (0–21)', 21],
                ] as const
              ).map(([k, label, max]) => (
                <Sparkline
                  key={k}
                  label={label}
                  max={max}
                  points={obs.filter((o) => o[k] != null).map((o) => ({ x: o.sessionRef, y: o[k] as number }))}
                />
              ))}
            </div>
          ) : null}
        </>
      ) : null}
    </article>
  );
}

/** A small line chart of one score by session (SVG, with a text equivalent). */
export function Sparkline({ label, max, points }: { label: string; max: number; points: { x: string; y: number }[] }) {
  const w = 220;
  const h = 70;
  const step = points.length > 1 ? (w - 20) / (points.length - 1) : 0;
  const xy = points.map((p, i) => [10 + i * step, h - 10 - (p.y / max) * (h - 20)] as const);
  return (
    <figure class="spark">
      <figcaption>{label}</figcaption>
      <svg
        width={w}
        height={h}
        role="img"
        aria-label={`${label}: ${points.map((p) => `${p.x} ${p.y}`).join(', ') || 'no values'}`}
      >
        <line x1="10" y1={h - 10} x2={w - 10} y2={h - 10} class="axis" />
        {xy.length > 1 ? <polyline points={xy.map(([x, y]) => `${x},${y}`).join(' ')} class="line" /> : null}
        {xy.map(([x, y], i) => (
          <circle key={i} cx={x} cy={y} r="3" class="dot">
            <title>{`${points[i].x}: ${points[i].y}`}</title>
          </circle>
        ))}
      </svg>
    </figure>
  );
}
