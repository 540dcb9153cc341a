import { useEffect, useState } from 'preact/hooks';
import { call, get } from '../api.js';
import { useApp } from '../state.js';
import type { Page, Patient } from '../types.js';
import { ErrorBox, Field } from '../ui/kit.js';
import { usePatientSearch } from './patients.js';

interface Feed {
  id: string;
  scope: string;
  name?: string | null;
  url?: string;
  createdAt?: string;
  revokedAt?: string | null;
  [k: string]: unknown;
}
interface Key {
  id: string;
  name: string;
  role: string;
  clinicId: string | null;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt?: string | null;
}
interface Webhook {
  id: string;
  url: string;
  events?: string[];
  enabled?: boolean;
  disabledAt?: string | null;
  [k: string]: unknown;
}

function CopyButton({ text }: { text: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      onClick={() =>
        void navigator.clipboard?.writeText(text).then(
          () => setDone(true),
          () => setDone(false),
        )
      }
    >
      {done ? 'Copied' : 'Copy'}
    </button>
  );
}

export function Admin() {
  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">Calendars and keys</h1>
      <Feeds />
      <Keys />
      <Webhooks />
    </section>
  );
}

function Feeds() {
  const { me } = useApp();
  const [feeds, setFeeds] = useState<Feed[] | null>(null);
  const [scope, setScope] = useState('clinic');
  const [target, setTarget] = useState('');
  const [q, setQ] = useState('');
  const [patient, setPatient] = useState<Patient | null>(null);
  const search = usePatientSearch(scope === 'patient' ? q : '');
  const [created, setCreated] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () => get<Page<Feed>>('/calendar/feeds', { limit: 100 }).then((r) => setFeeds(r.items), setError);
  useEffect(() => void load(), []);
  const create = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const body: Record<string, unknown> = { scope };
    if (scope === 'chair') body.chairId = target;
    if (scope === 'staff') body.staffId = target;
    if (scope === 'patient') body.patientId = patient?.id;
    try {
      const r = await call<Feed>('POST', '/calendar/feeds', { body });
      const url = String(r.data.url ?? '');
      setCreated(url.startsWith('http') ? url : `${location.origin}${url}`);
      void load();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <article class="card">
      <h2>Calendar feeds</h2>
      <form class="row" onSubmit={create}>
        <Field label="Feed of">
          {(id) => (
            <select
              id={id}
              value={scope}
              onChange={(e) => (setScope((e.target as HTMLSelectElement).value), setTarget(''))}
            >
              <option value="clinic">the whole clinic</option>
              <option value="chair">a chair</option>
              <option value="staff">a staff member</option>
              <option value="patient">a patient</option>
            </select>
          )}
        </Field>
        {scope === 'chair' || scope === 'staff' ? (
          <Field label={scope === 'chair' ? 'Chair' : 'Staff member'}>
            {(id) => (
              <select
                id={id}
                value={target}
                onChange={(e) => setTarget((e.target as HTMLSelectElement).value)}
                required
              >
                <option value="">Choose…</option>
                {(scope === 'chair' ? me.chairs : me.staff).map((x) => (
                  <option key={x.id} value={x.id}>
                    {x.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        ) : null}
        {scope === 'patient' ? (
          patient ? (
            <p>
              {patient.fullName}{' '}
              <button type="button" class="ghost" onClick={() => setPatient(null)}>
                Change
              </button>
            </p>
          ) : (
            <div>
              <Field label="Patient">
                {(id) => (
                  <input id={id} type="search" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
                )}
              </Field>
              <ul class="plain picks">
                {search.items?.slice(0, 5).map((p) => (
                  <li key={p.id}>
                    <button type="button" onClick={() => setPatient(p)}>
                      {p.fullName}
                    </button>
                  </li>
                ))}
              </ul>
            </div>
          )
        ) : null}
        <button type="submit" class="primary">
          Create feed
        </button>
      </form>
      {created ? (
        <p class="success" role="status">
          Feed URL (shown once; subscribe to it in a calendar app): <code data-testid="feed-url">{created}</code>{' '}
          <CopyButton text={created} />
        </p>
      ) : null}
      <ErrorBox error={error} />
      <table class="list compact">
        <thead>
          <tr>
            <th scope="col">Feed</th>
            <th scope="col">Scope</th>
            <th scope="col">Created</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {feeds?.map((f) => (
            <tr key={f.id}>
              <td>{String(f.name ?? f.id.slice(0, 8))}</td>
              <td>{f.scope}</td>
              <td>{String(f.createdAt ?? '').slice(0, 10)}</td>
              <td>
                {f.revokedAt ? (
                  'revoked'
                ) : (
                  <button
                    type="button"
                    onClick={() => void call('DELETE', `/calendar/feeds/${f.id}`).then(load, setError)}
                  >
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </article>
  );
}

function Keys() {
  const [keys, setKeys] = useState<Key[] | null>(null);
  const [name, setName] = useState('');
  const [role, setRole] = useState('front_desk');
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () => get<Page<Key>>('/api-keys', { limit: 100 }).then((r) => setKeys(r.items), setError);
  useEffect(() => void load(), []);
  return (
    <article class="card">
      <h2>API keys</h2>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          setError(null);
          void call<{ key: string }>('POST', '/api-keys', { body: { name, role } }).then((r) => {
            setSecret(r.data.key);
            setName('');
            void load();
          }, setError);
        }}
      >
        <Field label="Name">
          {(id) => (
            <input
              id={id}
              value={name}
              required
              onInput={(e) => setName((e.target as HTMLInputElement).value)}
              placeholder="Front desk tablet"
            />
          )}
        </Field>
        <Field label="Role">
          {(id) => (
            <select id={id} value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
              <option value="front_desk">Front desk</option>
              <option value="clinician">Clinician</option>
              <option value="admin">Admin</option>
            </select>
          )}
        </Field>
        <button type="submit" class="primary">
          Create key
        </button>
      </form>
      {secret ? (
        <p class="success" role="status">
          The new key (shown once — copy it now): <code data-testid="new-key">{secret}</code>{' '}
          <CopyButton text={secret} />
        </p>
      ) : null}
      <ErrorBox error={error} />
      <table class="list compact">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Role</th>
            <th scope="col">Created</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {keys?.map((k) => (
            <tr key={k.id}>
              <td>{k.name}</td>
              <td>{k.role}</td>
              <td>{k.createdAt.slice(0, 10)}</td>
              <td>
                {k.revokedAt ? (
                  'revoked'
                ) : (
                  <button
                    type="button"
                    onClick={() =>
                      confirm(`Revoke "${k.name}"? It stops working at once.`) &&
                      void call('DELETE', `/api-keys/${k.id}`).then(load, setError)
                    }
                  >
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </article>
  );
}

function Webhooks() {
  const [hooks, setHooks] = useState<Webhook[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => void get<Page<Webhook>>('/webhooks', { limit: 100 }).then((r) => setHooks(r.items), setError), []);
  return (
    <article class="card">
      <h2>Webhooks</h2>
      <ErrorBox error={error} />
      {hooks && !hooks.length ? (
        <p class="muted">No webhook endpoints. Create them through the API (POST /v1/webhooks).</p>
      ) : null}
      <ul>
        {hooks?.map((h) => (
          <li key={h.id}>
            <code>{h.url}</code> {h.events?.length ? `· ${h.events.join(', ')}` : ''} {h.disabledAt ? '· disabled' : ''}
          </li>
        ))}
      </ul>
    </article>
  );
}
