import { ApiError, type Problem } from './lib/problems.js';

export { ApiError };

/**
 * The one way the app talks to the server: /v1 with the key as a Bearer token, the picked
 * clinic as `Chairside-Clinic`, JSON in and out, problem+json turned into `ApiError`.
 * The key lives in memory and in sessionStorage (this tab, this session only; never the URL
 * or localStorage). No patient data is ever stored.
 */
const KEY = 'chairside.key';
const CLINIC = 'chairside.clinic';

let apiKey: string | null = sessionStorage.getItem(KEY);
let clinicId: string | null = sessionStorage.getItem(CLINIC);

export function storedKey(): string | null {
  return apiKey;
}
export function setKey(key: string | null): void {
  apiKey = key;
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
}
export function setClinic(id: string | null): void {
  clinicId = id;
  if (id) sessionStorage.setItem(CLINIC, id);
  else sessionStorage.removeItem(CLINIC);
}
export function storedClinic(): string | null {
  return clinicId;
}

export interface Reply<T> {
  data: T;
  etag: string | null;
  status: number;
  headers: Headers;
}

export interface CallOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | null>;
  ifMatch?: string | null;
  idempotencyKey?: string;
  signal?: AbortSignal;
  /** Send no Chairside-Clinic header (the sign-in probes). */
  noClinic?: boolean;
}

export async function call<T>(method: string, path: string, opts: CallOptions = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (apiKey) headers.Authorization = `Bearer ${apiKey}`;
  if (clinicId && !opts.noClinic) headers['Chairside-Clinic'] = clinicId;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  if (opts.ifMatch) headers['If-Match'] = opts.ifMatch;
  if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey;
  let url = `/v1${path}`;
  if (opts.query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    const s = q.toString();
    if (s) url += `?${s}`;
  }
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, {
      title: 'The server cannot be reached',
      detail: 'Check that Chairside is running, then try again.',
    });
  }
  const text = await res.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: text.slice(0, 300) };
    }
  }
  if (!res.ok) throw new ApiError(res.status, (data as Problem) ?? { title: res.statusText });
  return { data: data as T, etag: res.headers.get('ETag'), status: res.status, headers: res.headers };
}

export const get = <T>(path: string, query?: CallOptions['query'], signal?: AbortSignal) =>
  call<T>('GET', path, { query, signal }).then((r) => r.data);

/** A fresh Idempotency-Key for one user intent (kept across retries and double clicks of it). */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}
