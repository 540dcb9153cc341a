import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, call, get, setClinic, setKey, storedClinic, storedKey } from './api.js';
import { AppContext, can, ROLE_LABEL, type Me, type Screen } from './state.js';
import type { Chair, Clinic, Closure, Page, Role, Staff } from './types.js';
import { ErrorBox, Field, Spinner } from './ui/kit.js';
import { DayBoard } from './screens/day-board.js';
import { PatientPage } from './screens/patient-page.js';
import { Patients } from './screens/patients.js';
import { BookSeries } from './screens/book.js';
import { AdjustPlan } from './screens/adjust.js';
import { Protocols } from './screens/protocols.js';
import { Admin } from './screens/admin.js';

const ZERO = '00000000-0000-4000-8000-000000000000';

/**
 * The key's role, asked of the API itself: admin keys may list keys; clinicians may read
 * observations (a made-up session answers 404 to them, 403 to the front desk).
 */
async function probeRole(): Promise<Role> {
  try {
    await call('GET', '/api-keys', { query: { limit: 1 }, noClinic: true });
    return 'admin';
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 403) throw e;
  }
  try {
    await call('GET', `/sessions/${ZERO}/observations`, { noClinic: true });
    return 'clinician';
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return 'clinician';
    if (e instanceof ApiError && e.status === 403) return 'front_desk';
    throw e;
  }
}

async function loadClinicSetup(clinicId: string): Promise<{ chairs: Chair[]; staff: Staff[]; closures: Closure[] }> {
  const [chairs, staff, closures] = await Promise.all([
    get<Page<Chair>>(`/clinics/${clinicId}/chairs`),
    get<Page<Staff>>(`/clinics/${clinicId}/staff`),
    get<Page<Closure>>(`/clinics/${clinicId}/closures`),
  ]);
  return {
    chairs: chairs.items.filter((c) => c.active),
    staff: staff.items.filter((s) => s.active),
    closures: closures.items,
  };
}

async function signIn(): Promise<Omit<Me, 'clinic' | 'chairs' | 'staff' | 'closures'>> {
  const clinics: Clinic[] = [];
  let cursor: string | null | undefined;
  do {
    const page = (await call<Page<Clinic>>('GET', '/clinics', { query: { limit: 100, cursor }, noClinic: true })).data;
    clinics.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && clinics.length < 1000);
  const role = await probeRole();
  return { role, clinics };
}

export function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [pending, setPending] = useState<Omit<Me, 'clinic' | 'chairs' | 'staff' | 'closures'> | null>(null);
  const [screen, setScreenState] = useState<Screen>({ name: 'day' });
  // Each visit of a screen starts fresh (clicking "Book a series" again clears the form).
  const [visit, setVisit] = useState(0);
  const setScreen = useCallback((s: Screen) => {
    setScreenState(s);
    setVisit((n) => n + 1);
  }, []);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const enterClinic = useCallback(
    async (base: Omit<Me, 'clinic' | 'chairs' | 'staff' | 'closures'>, clinic: Clinic) => {
      setClinic(clinic.id);
      const setup = await loadClinicSetup(clinic.id);
      setMe({ ...base, clinic, ...setup });
      setPending(null);
      setScreen({ name: 'day' });
    },
    [],
  );

  const start = useCallback(
    async (key: string) => {
      setBusy(true);
      setError(null);
      setKey(key);
      try {
        const base = await signIn();
        if (!base.clinics.length) throw new Error('This key sees no clinic.');
        const kept = base.clinics.find((c) => c.id === storedClinic());
        if (base.clinics.length === 1 || kept) await enterClinic(base, kept ?? base.clinics[0]);
        else setPending(base);
      } catch (e) {
        setKey(null);
        setClinic(null);
        setError(
          e instanceof ApiError && e.status === 401
            ? new Error('This key is not recognised (or has been revoked).')
            : e,
        );
      } finally {
        setBusy(false);
      }
    },
    [enterClinic],
  );

  useEffect(() => {
    const k = storedKey();
    if (k) void start(k);
  }, [start]);

  const signOut = () => {
    setKey(null);
    setClinic(null);
    setMe(null);
    setPending(null);
  };

  if (!me) {
    return (
      <main class="signin" id="main">
        <h1>Chairside</h1>
        {pending ? (
          <ClinicPicker clinics={pending.clinics} onPick={(c) => void enterClinic(pending, c).catch(setError)} />
        ) : (
          <SignIn busy={busy || (!!storedKey() && !error)} onKey={start} />
        )}
        <ErrorBox error={error} />
      </main>
    );
  }

  const refreshClinic = async () => {
    const setup = await loadClinicSetup(me.clinic.id);
    setMe({ ...me, ...setup });
  };
  const nav: { name: Screen['name']; label: string; show: boolean }[] = [
    { name: 'day', label: 'Day board', show: true },
    { name: 'patients', label: 'Patients', show: true },
    { name: 'book', label: 'Book a series', show: true },
    { name: 'protocols', label: 'Protocols', show: true },
    { name: 'admin', label: 'Calendars & keys', show: can.admin(me.role) },
  ];
  const active = screen.name === 'patient' ? 'patients' : screen.name === 'adjust' ? 'patients' : screen.name;
  return (
    <AppContext.Provider value={{ me, go: setScreen, refreshClinic }}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Chairside</span>
        <nav aria-label="Main">
          {nav
            .filter((n) => n.show)
            .map((n) => (
              <button
                type="button"
                key={n.name}
                class={active === n.name ? 'tab active' : 'tab'}
                aria-current={active === n.name ? 'page' : undefined}
                onClick={() => setScreen({ name: n.name } as Screen)}
              >
                {n.label}
              </button>
            ))}
        </nav>
        <div class="who" data-testid="who">
          {me.clinics.length > 1 ? (
            <label>
              <span class="sr-only">Clinic</span>
              <select
                value={me.clinic.id}
                onChange={(e) =>
                  void enterClinic(
                    me,
                    me.clinics.find((c) => c.id === (e.target as HTMLSelectElement).value)!,
                  ).catch(setError)
                }
              >
                {me.clinics.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
              </select>
            </label>
          ) : (
            <span>{me.clinic.name}</span>
          )}
          <span class="badge" data-testid="role">
            {ROLE_LABEL[me.role]}
          </span>
          <span class="muted small">{me.clinic.timezone}</span>
          <button type="button" class="ghost" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1} key={visit}>
        <ErrorBox error={error} />
        {screen.name === 'day' && <DayBoard initialDate={screen.date} />}
        {screen.name === 'patients' && <Patients />}
        {screen.name === 'patient' && <PatientPage key={screen.patientId} patientId={screen.patientId} />}
        {screen.name === 'book' && <BookSeries initialPatientId={screen.patientId} />}
        {screen.name === 'adjust' && (
          <AdjustPlan key={screen.planId} planId={screen.planId} sessionId={screen.sessionId} />
        )}
        {screen.name === 'protocols' && <Protocols initialId={screen.protocolId} />}
        {screen.name === 'admin' && can.admin(me.role) && <Admin />}
      </main>
    </AppContext.Provider>
  );
}

function SignIn({ onKey, busy }: { onKey: (key: string) => void; busy: boolean }) {
  const [key, setValue] = useState('');
  return (
    <form
      class="card"
      onSubmit={(e) => {
        e.preventDefault();
        if (key.trim()) onKey(key.trim());
      }}
    >
      <h2>Sign in</h2>
      <p class="muted">Paste your API key. It is kept for this browser tab only and forgotten when you close it.</p>
      <Field label="API key">
        {(id) => (
          <input
            id={id}
            type="password"
            autoComplete="off"
            spellcheck={false}
            value={key}
            onInput={(e) => setValue((e.target as HTMLInputElement).value)}
            required
          />
        )}
      </Field>
      <button type="submit" class="primary" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
      {busy ? <Spinner label="Checking the key…" /> : null}
    </form>
  );
}

function ClinicPicker({ clinics, onPick }: { clinics: Clinic[]; onPick: (c: Clinic) => void }) {
  return (
    <div class="card">
      <h2>Pick a clinic</h2>
      <p class="muted">This key may act in several clinics.</p>
      <ul class="plain">
        {clinics.map((c) => (
          <li key={c.id}>
            <button type="button" onClick={() => onPick(c)}>
              {c.name} <span class="muted">({c.timezone})</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
