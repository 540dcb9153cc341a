import fc from 'fast-check';
import { DateTime } from 'luxon';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { API_ROLES } from '../../src/api-keys/entities/api-key.entity.js';
import { ROLE_MATRIX, type Access } from '../../src/common/auth/role-matrix.js';
import { encodeCursor } from '../../src/common/paging/cursor.js';
import {
  makeClinic,
  makePatient,
  makeStaff,
  persistClinicWithKeys,
  persistOperatorKey,
  weekdays,
} from '../factories/clinic.factory.js';
import { publishProtocol } from '../factories/protocol.factory.js';
import { bookPlan, setupClinic, SHORT_STEPS, type ClinicSetup } from '../factories/series.factory.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// ---------------------------------------------------------------------------------------------
// Bad input (issue 8, item 5): fast-check sends random and hostile bodies, query strings, headers
// and path parameters to every write route of the role matrix (and to the list routes that take
// query strings). Every answer must be a 2xx (a mutation that happens to be valid; counted) or a
// 4xx problem+json whose `status` is the HTTP status and which carries a `code` — never a 5xx. After
// every 4xx the database must be exactly as before (row count and content of every table in the
// public schema, audit_events included), and at the end the schedule's invariants still hold.
//
// FUZZ_SEED=<n> replays a run; FUZZ_RUNS=<n> changes the number of requests per route.
// ---------------------------------------------------------------------------------------------

type Json = Record<string, any>;
type Path = (string | number)[];

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env.FUZZ_RUNS ?? 28);
const GET_RUNS = Math.max(4, Math.round(RUNS / 2));

const API_ROLE_SET = new Set<Access>(API_ROLES);
const isApiRoute = (who: readonly Access[]) => who.some((a) => API_ROLE_SET.has(a));

/** Every POST/PUT/PATCH/DELETE of the role matrix that an API key may call: a new route is fuzzed without touching this file. */
const WRITE_ROUTES = Object.entries(ROLE_MATRIX)
  .filter(([route, who]) => /^(POST|PUT|PATCH|DELETE) /.test(route) && isApiRoute(who))
  .map(([route]) => route)
  // Routes that take away what the others need (revoking, retiring, deleting, re-timing the clinic) go last.
  .sort((a, b) => Number(destructive(a)) - Number(destructive(b)));

function destructive(route: string): boolean {
  return route.startsWith('DELETE ') || route.endsWith('/retire') || route === 'PATCH /v1/clinics/:clinicId';
}

/** Every GET an API key may call gets hostile query strings; the list routes in the fixture's `queries` start from valid ones. */
const GET_ROUTES = Object.entries(ROLE_MATRIX)
  .filter(([route, who]) => route.startsWith('GET /v1/') && isApiRoute(who))
  .map(([route]) => route);

// ----------------------------------------------------------------------------- hostile values

const HUGE_UNITS = ['x', 'é', '😀', "'", '<', '\\', '"', '\u0000', ' '];
const hugeString = fc
  .tuple(fc.integer({ min: 10_000, max: 200_000 }), fc.constantFrom(...HUGE_UNITS))
  .map(([n, unit]) => unit.repeat(Math.ceil(n / unit.length)));

function nest(depth: number, leaf: unknown, asArray: boolean): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asArray ? [v] : { a: v };
  return v;
}
/** Values a later mutation of the same body must not descend into (two 2,500-level values stacked overflow JSON.stringify). */
const OPAQUE = new WeakSet<object>();
const opaque = <T extends object>(v: T): T => (OPAQUE.add(v), v);
const deepNest = fc
  .tuple(fc.constantFrom(33, 50, 500, 2500), fc.boolean())
  .map(([d, arr]) => opaque(nest(d, 'deep', arr) as object));
const bigArray = fc
  .constantFrom<unknown>(1, 'x', null, {}, { weekday: 1, start: '08:00', end: '09:00' }, '2026-12-24', -1)
  .map((item) => opaque(Array.from({ length: 10_000 }, () => structuredClone(item))));

/** A JSON object whose own keys include `__proto__`/`constructor` (a literal would set the prototype instead). */
const pollution = fc
  .constantFrom(
    '{"__proto__": {"isAdmin": true, "role": "admin"}}',
    '{"constructor": {"prototype": {"polluted": true}}}',
    '{"__proto__": null}',
    '{"prototype": {"toString": 1}}',
  )
  .map((text) => JSON.parse(text) as unknown);

const HOSTILE_CONSTANTS: unknown[] = [
  // numbers of every awkward kind
  -1,
  0,
  -0.5,
  1.5,
  0.0001,
  1e-7,
  -1e-7,
  1.5e-7,
  5e-324,
  1e21,
  1e308,
  -1e308,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 53 + 2,
  Number.MAX_SAFE_INTEGER,
  0.1 + 0.2,
  999_999_999_999,
  'NaN',
  'Infinity',
  '-Infinity',
  '1e308',
  '-1',
  '0',
  '1',
  '01',
  '0x10',
  ' 1',
  '1.0',
  '١٢',
  // wrong types
  null,
  true,
  false,
  'true',
  'false',
  'null',
  'undefined',
  [],
  {},
  [null],
  [[]],
  [{}],
  { $gt: '' },
  { $ne: null },
  ['a', 'b'],
  // empty and blank
  '',
  ' ',
  '\t\n',
  '\u200b',
  '\ufeff',
  // injection
  "'; DROP TABLE sessions; --",
  "1' OR '1'='1",
  'Robert"); DELETE FROM plans; --',
  '$1',
  '%s%s%s%n',
  '{{7*7}}',
  '${jndi:ldap://x/a}',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  'javascript:alert(1)',
  '../../../../etc/passwd',
  '..\\..\\windows',
  '%00',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff\ud800',
  'e\u0301',
  '😀',
  'Ω≈ç√∫',
  'ＡＢＣ',
  '\u202eevil',
  'BEGIN:VEVENT\r\nEND:VEVENT',
  'x\r\nSet-Cookie: a=b',
  // dates, instants and times that are wrong, odd or out of range
  '2026-02-30',
  '2026-02-29',
  '2028-02-29',
  '9999-99-99',
  '0000-00-00',
  '0000-01-01',
  '0001-01-01',
  '9999-12-31',
  '2026-13-01',
  '2026-1-1',
  '20261201',
  '2026-12-01T10:00',
  '2026-12-01T10:00:00',
  '2026-12-01T10:00:00Z',
  '2026-12-01T24:00:00Z',
  '2026-12-01T10:00:00+99:00',
  '2026-12-01T10:00:00.123456789-05:00',
  '+275760-09-13T00:00:00.000Z',
  '-271821-04-20T00:00:00Z',
  '+999999-01-01T00:00:00Z',
  '1969-12-31T23:59:59Z',
  '1900-01-01T00:00:00-05:00',
  '9999-12-31T23:59:59.999Z',
  '2027-03-14T02:30:00',
  '2026-11-01T01:30:00',
  '2027-03-14T02:30:00-05:00',
  '2026-W49-3',
  '2026-335',
  'P1D',
  'now',
  'today',
  'Tuesday',
  '24:00',
  '23:60',
  '7:00',
  '07:00:00',
  '-01:00',
  '99:99',
  '00:00',
  '23:59',
  '12:00 PM',
  // time zones
  'Mars/Olympus',
  'America/New_York; DROP',
  'america/new_york',
  'AMERICA/NEW_YORK',
  'America/New_York ',
  'UTC',
  'Etc/GMT+14',
  'Etc/GMT-14',
  'Pacific/Kiritimati',
  'Asia/Kathmandu',
  'Australia/Lord_Howe',
  'EST5EDT',
  'Factory',
  'localtime',
  'US/Pacific-New',
  '+05:00',
  'UTC+3',
  'Z',
  // uuids that are not quite
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '{3fa85f64-5717-4562-b3fc-2c963f66afa6}',
  '3FA85F64-5717-4562-B3FC-2C963F66AFA6',
  '3fa85f6457174562b3fc2c963f66afa6',
  '3fa85f64-5717-4562-b3fc-2c963f66afa6 ',
  'msg_',
  'msg_zz',
  // enum-ish words from elsewhere in the API
  'admin',
  'operator',
  'cancelled',
  'completed',
  'deleted',
  'chair',
  'clinic',
  'patient',
  'mg/kg',
  'days',
  'hours',
  'reschedule',
  'cancel_remaining',
  // urls
  'http://127.0.0.1:9/hook',
  'http://169.254.169.254/latest/meta-data',
  'file:///etc/passwd',
  'http://user:pw@example.org/',
  'http://[::1]/x',
  'ftp://x',
  'https://example.org/#frag',
  'http://0x7f000001/',
  'http://example.org:99999/',
];

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  // A fresh copy each time: mutations edit bodies in place, and must not edit the constants.
  {
    weight: 10,
    arbitrary: fc
      .constantFrom(...HOSTILE_CONSTANTS)
      .map((v) => (v !== null && typeof v === 'object' ? structuredClone(v) : v)),
  },
  { weight: 2, arbitrary: hugeString },
  { weight: 1, arbitrary: deepNest },
  { weight: 1, arbitrary: bigArray },
  { weight: 1, arbitrary: pollution },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.maxSafeInteger()),
  },
  { weight: 1, arbitrary: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()) },
);

const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '',
  ' ',
  'a.b',
  '$where',
  'id',
  'clinicId',
  'version',
  'status',
  '0',
  'x'.repeat(5000),
];

// ----------------------------------------------------------------------------- mutations

/** Every path into a body, down to the depth of real bodies (a 2,500-level hostile value is one path, not 2,500). */
function pathsOf(v: unknown, prefix: Path = []): Path[] {
  const out: Path[] = [prefix];
  if (prefix.length >= 6 || (v !== null && typeof v === 'object' && OPAQUE.has(v))) return out;
  if (Array.isArray(v)) v.slice(0, 100).forEach((x, i) => out.push(...pathsOf(x, [...prefix, i])));
  else if (v !== null && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) out.push(...pathsOf(x, [...prefix, k]));
  return out;
}

function defineKey(obj: Json, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

interface Mutation {
  path: number;
  op: 'replace' | 'delete' | 'addKey';
  key: string;
  value: unknown;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  path: fc.nat(),
  op: fc.oneof(
    { weight: 6, arbitrary: fc.constant('replace' as const) },
    { weight: 2, arbitrary: fc.constant('delete' as const) },
    { weight: 2, arbitrary: fc.constant('addKey' as const) },
  ),
  key: fc.constantFrom(...HOSTILE_KEYS),
  value: hostileValue,
});

/** Applies one mutation to a (cloned) JSON value: one field replaced, removed or a hostile key added. */
function mutate(root: unknown, m: Mutation): unknown {
  const paths = pathsOf(root);
  // Prefer real fields: the root itself is chosen only when the body has nothing else.
  const path = paths.length > 1 ? paths[1 + (m.path % (paths.length - 1))] : paths[0];
  if (path.length === 0) {
    if (m.op === 'addKey' && root !== null && typeof root === 'object' && !Array.isArray(root)) {
      defineKey(root as Json, m.key, m.value);
      return root;
    }
    return m.value;
  }
  const parent = path.slice(0, -1).reduce<any>((node, k) => node[k], root);
  const last = path[path.length - 1];
  const target = parent[last];
  if (m.op === 'delete') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else if (m.op === 'addKey' && target !== null && typeof target === 'object') {
    if (Array.isArray(target)) target.push(m.value);
    else defineKey(target, m.key, m.value);
  } else if (Array.isArray(parent)) {
    parent[last as number] = m.value;
  } else {
    defineKey(parent, String(last), m.value);
  }
  return root;
}

/** Query values are strings: hostile values as the text a client would put in a URL. */
function queryText(v: unknown): string {
  const s = typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v);
  return s.length > 3000 ? s.slice(0, 3000) : s;
}

/**
 * encodeURIComponent for any string: a lone surrogate (which it refuses) becomes U+FFFD, as a browser
 * would send it, and ' ( ) * ! are escaped here (the HTTP client would, making the URL longer than counted).
 */
const encode = (s: string) =>
  encodeURIComponent(
    s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'),
  ).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * Node's HTTP parser answers a request line plus headers over 16 KB with a bare 431 before the app
 * sees it; the fuzz stays below that (drops query pairs, then shortens a huge If-Match).
 */
const HEADER_BUDGET = 15_000;
function withinHeaderLimit(path: string, pairs: string[], headers: Record<string, string>): string {
  const headerBytes = () => Object.entries(headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 400);
  const url = () => (pairs.length ? `${path}?${pairs.join('&')}` : path);
  while (pairs.length > 0 && url().length + headerBytes() > HEADER_BUDGET) pairs.pop();
  if (headers['If-Match'] && url().length + headerBytes() > HEADER_BUDGET)
    headers['If-Match'] = headers['If-Match'].slice(0, 1000);
  return url();
}

// ----------------------------------------------------------------------------- requests

type ActorName = 'admin' | 'clinician' | 'frontDesk' | 'operator' | 'otherClinicAdmin';

interface Fixture {
  A: ClinicSetup;
  keys: Record<ActorName, string>;
  ids: Record<string, string[]>;
  templates: Record<string, Template[]>;
  queries: Record<string, Record<string, string>[]>;
  cursors: string[];
  syncTokens: string[];
}

interface Template {
  body?: unknown;
  query?: Record<string, string>;
  headers?: Record<string, string>;
}

interface FuzzRequest {
  actor: ActorName;
  method: string;
  url: string;
  headers: Record<string, string>;
  /** A JSON value (sent as application/json) or raw bytes with their own Content-Type. */
  body?: { json: unknown } | { raw: string | Buffer; contentType?: string };
}

/** Path parameters that are URL-safe only when sent as they are (the router must refuse them, not trip on them). */
const RAW_PARAMS = [
  '..',
  '.',
  '%00',
  '%zz',
  '%',
  '%E0%A4%A',
  '%2F',
  '%2e%2e%2f',
  '%252e',
  '%C0%AE',
  '%FF%FE',
  ';',
  ',',
  '*',
  '~',
  '$',
];
const HOSTILE_PARAMS = [
  '',
  ' ',
  'null',
  'undefined',
  '0',
  '-1',
  '1e308',
  'NaN',
  '../../etc/passwd',
  "1' OR '1'='1",
  '1; DROP TABLE sessions; --',
  '<script>alert(1)</script>',
  '😀',
  'Ω',
  '\u0000',
  'x'.repeat(3000),
  '1'.repeat(400),
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '{3fa85f64-5717-4562-b3fc-2c963f66afa6}',
  '3fa85f6457174562b3fc2c963f66afa6',
  '3fa85f64-5717-4562-b3fc-2c963f66afa6x',
  'msg_',
  'msg_' + 'f'.repeat(32),
  'msg_' + 'F'.repeat(32),
  'msg_' + 'g'.repeat(32),
  'msg_' + '0'.repeat(31),
  'cfd_x.ics',
  '1.5',
  '01',
  '999999999',
  '1000000000',
  '2147483648',
  '0x1',
  ' 1',
];

function paramArb(fx: Fixture, name: string): fc.Arbitrary<{ text: string; raw: boolean }> {
  const real = fx.ids[name] ?? [];
  const enc = (a: fc.Arbitrary<string>) => a.map((text) => ({ text, raw: false }));
  const options: fc.WeightedArbitrary<{ text: string; raw: boolean }>[] = [
    { weight: 3, arbitrary: enc(fc.constantFrom(...HOSTILE_PARAMS)) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_PARAMS).map((text) => ({ text, raw: true })) },
    { weight: 1, arbitrary: enc(fc.uuid()) },
    { weight: 1, arbitrary: enc(fc.string({ unit: 'binary', maxLength: 30 })) },
  ];
  if (real.length > 0) {
    options.push({ weight: 10, arbitrary: enc(fc.constantFrom(...real)) });
    options.push({ weight: 1, arbitrary: enc(fc.constantFrom(...real).map((id) => id.toUpperCase())) });
  }
  return fc.oneof(...options);
}

function actorsFor(who: readonly Access[]): fc.Arbitrary<ActorName> {
  const options: fc.WeightedArbitrary<ActorName>[] = [];
  if (who.includes('admin')) {
    options.push({ weight: 5, arbitrary: fc.constant('admin') });
    options.push({ weight: 1, arbitrary: fc.constant('operator') });
    options.push({ weight: 1, arbitrary: fc.constant('otherClinicAdmin') });
  }
  if (who.includes('clinician')) options.push({ weight: 2, arbitrary: fc.constant('clinician') });
  if (who.includes('front_desk')) options.push({ weight: 2, arbitrary: fc.constant('frontDesk') });
  return fc.oneof(...options);
}

const IF_MATCH = [
  '*',
  '"p1"',
  '"p2"',
  '"d1"',
  '"d2"',
  '"v1"',
  'W/"p1"',
  '"p' + 'x'.repeat(10_000) + '"',
  'garbage',
  '""',
  ',,,',
  '"p-1"',
  '"p1e308"',
  '"p99999999999999999999"',
  '"p1", *',
  ' ',
  '"\x80\xff"',
];
const IDEMPOTENCY_KEYS = [
  'k'.repeat(10_000),
  'k'.repeat(201),
  'k'.repeat(200),
  '',
  ' ',
  'a b',
  '\x80\xff',
  '../',
  "'; DROP TABLE idempotency_keys; --",
  'fuzz-key-1',
  'fuzz-key-1',
];
const CONTENT_TYPES = [
  'text/plain',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/json; charset=iso-8859-1',
  'application/json; charset=',
  'application/json; charset=utf-8',
  'application/merge-patch+json',
  'application/vnd.api+json',
  'application/json',
  'garbage',
  'application/json;;;',
  'text/html; charset=utf-8',
];
const INVALID_JSON = [
  '{',
  '{"a":',
  "{'a': 1}",
  '[1,2',
  'nul',
  'undefined',
  '{"a":1}}',
  '\u0000',
  '\ufeff{}',
  '   ',
  '',
  'true',
  '"string"',
  '42',
  'null',
  '[]',
  '[{}]',
  '{"a":1,"a":2}',
  '{"a": NaN}',
  '{"a": Infinity}',
  '{"a": 1e999}',
  '{"a": -1e999}',
  '{"a": "\\ud800"}',
  '{"a": "\\u0000"}',
  '['.repeat(100_000),
  '{"a":'.repeat(20_000),
  '<?xml version="1.0"?><a/>',
  'a=1&b=2',
  '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--',
];

interface HeaderChoice {
  ifMatch?: string;
  idempotencyKey?: string;
  contentEncoding?: string;
  accept?: string;
}

/** Turns a template into a request: the valid body itself, a mutation of it, junk, or raw bytes, with or without hostile headers and queries. */
function requestArb(fx: Fixture, route: string): fc.Arbitrary<FuzzRequest> {
  const [method, pattern] = route.split(' ');
  const names = [...pattern.matchAll(/:(\w+)/g)].map((m) => m[1]);
  const templates = fx.templates[route] ?? [{}];
  const bodyArb: fc.Arbitrary<{ tpl: number; body: FuzzRequest['body'] }> = fc.oneof(
    // one to three fields of a valid body replaced, removed, or a hostile key added: the mutations that reach the service
    {
      weight: 12,
      arbitrary: fc.tuple(fc.nat(), fc.array(mutationArb, { minLength: 1, maxLength: 3 })).map(([tpl, ms]) => {
        const t = templates[tpl % templates.length];
        let body: unknown = structuredClone(t.body ?? {});
        for (const m of ms) body = mutate(body, m);
        return { tpl, body: { json: body } };
      }),
    },
    // the valid body as it is (the baseline, and what the hostile headers and queries ride on)
    {
      weight: 2,
      arbitrary: fc.nat().map((tpl) => ({
        tpl,
        body:
          templates[tpl % templates.length].body === undefined
            ? undefined
            : { json: structuredClone(templates[tpl % templates.length].body) },
      })),
    },
    // anything at all
    { weight: 2, arbitrary: fc.tuple(fc.nat(), hostileValue).map(([tpl, v]) => ({ tpl, body: { json: v } })) },
    // raw bytes: invalid JSON, the valid body under the wrong Content-Type or charset, numbers JSON.stringify cannot write
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          fc.nat(),
          fc.constantFrom(...CONTENT_TYPES, undefined),
          fc.oneof(
            fc.constantFrom(...INVALID_JSON),
            fc.constant('valid'),
            fc.constant('latin1'),
            fc.constantFrom(
              '1e999',
              '-1e999',
              '1e-999',
              '-0',
              '1.0000000000000000001',
              '123456789012345678901234567890',
            ),
          ),
        )
        .map(([tpl, contentType, kind]) => {
          const valid = JSON.stringify(templates[tpl % templates.length].body ?? {});
          let raw: string | Buffer = kind;
          if (kind === 'valid') raw = valid;
          else if (kind === 'latin1') raw = Buffer.from(valid.replace(/"([A-Za-z ]+)"/, '"$1\xe9\xff"'), 'latin1');
          else if (/^[-\d]/.test(kind)) raw = valid.replace(/-?\d+(\.\d+)?/, kind);
          return { tpl, body: { raw, contentType: contentType ?? 'application/json' } };
        }),
    },
  );
  const headerArb = fc.record(
    {
      ifMatch: fc.constantFrom(...IF_MATCH),
      idempotencyKey: fc.constantFrom(...IDEMPOTENCY_KEYS),
      contentEncoding: fc.constantFrom('gzip', 'br', 'deflate', 'identity', 'x-unknown'),
      accept: fc.constantFrom('application/xml', 'text/html', '*/*', 'application/problem+json'),
    },
    { requiredKeys: [] },
  );
  const extraQuery = fc.array(
    fc.tuple(fc.constantFrom('preview', ...HOSTILE_KEYS, 'a[b]', 'constructor[prototype][x]'), hostileValue),
    { maxLength: 3 },
  );
  return fc
    .record({
      actor: actorsFor(ROLE_MATRIX[route]),
      params: fc.tuple(...names.map((n) => paramArb(fx, n))),
      body: bodyArb,
      headers: fc.oneof(
        { weight: 3, arbitrary: fc.constant({} as HeaderChoice) },
        { weight: 2, arbitrary: headerArb as fc.Arbitrary<HeaderChoice> },
      ),
      query: fc.oneof(
        { weight: 4, arbitrary: fc.constant([] as [string, unknown][]) },
        { weight: 1, arbitrary: extraQuery },
      ),
      templateQuery: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: mutationArb }),
    })
    .map(({ actor, params, body, headers, query, templateQuery }) => {
      let i = 0;
      const path = pattern.replace(/:(\w+)/g, () => {
        const p = params[i++];
        return p.raw ? p.text : encode(p.text);
      });
      const t = templates[body.tpl % templates.length];
      let q: Json = structuredClone(t.query ?? {});
      if (templateQuery && Object.keys(q).length > 0) q = mutate(q, templateQuery) as Json;
      const pairs = [...Object.entries(q), ...query].map(([k, v]) => `${encode(k)}=${encode(queryText(v))}`);
      const h: Record<string, string> = { ...(t.headers ?? {}) };
      if (headers.ifMatch !== undefined) h['If-Match'] = headers.ifMatch;
      if (headers.idempotencyKey !== undefined) h['Idempotency-Key'] = headers.idempotencyKey;
      if (headers.contentEncoding !== undefined) h['Content-Encoding'] = headers.contentEncoding;
      if (headers.accept !== undefined) h.Accept = headers.accept;
      return { actor, method, url: withinHeaderLimit(path, pairs, h), headers: h, body: body.body };
    });
}

/** Hostile query strings on a GET: its own valid queries mutated, plus junk keys, repeated keys and forged cursors and tokens. */
function getRequestArb(fx: Fixture, route: string): fc.Arbitrary<FuzzRequest> {
  const [method, pattern] = route.split(' ');
  const names = [...pattern.matchAll(/:(\w+)/g)].map((m) => m[1]);
  const queries = fx.queries[route] ?? [{ limit: '10' }, { cursor: fx.cursors[0] }];
  const valueArb = fc.oneof(
    { weight: 4, arbitrary: hostileValue },
    { weight: 2, arbitrary: fc.constantFrom<unknown>(...fx.cursors, ...fx.syncTokens) },
  );
  const qMutation = fc.record({
    path: fc.nat(),
    op: mutationArb.map((m) => m.op),
    key: fc.constantFrom(...HOSTILE_KEYS, 'cursor', 'limit', 'syncToken', 'pageToken', 'a[b]'),
    value: valueArb,
  });
  return fc
    .record({
      actor: actorsFor(ROLE_MATRIX[route]),
      params: fc.tuple(...names.map((n) => paramArb(fx, n))),
      tpl: fc.nat(),
      ms: fc.oneof(
        { weight: 1, arbitrary: fc.constant([]) },
        { weight: 4, arbitrary: fc.array(qMutation, { minLength: 1, maxLength: 3 }) },
      ),
      // Mostly the valid query with one to three values changed; sometimes a repeated key (an array) or raw junk.
      repeat: fc.oneof(
        { weight: 4, arbitrary: fc.constant(null) },
        {
          weight: 1,
          arbitrary: fc.tuple(
            fc.constantFrom('from', 'to', 'limit', 'cursor', 'status', 'q', 'syncToken', 'durationMinutes'),
            fc.constantFrom('1', '2026-12-01', 'x'),
          ),
        },
      ),
      raw: fc.oneof(
        { weight: 4, arbitrary: fc.constant(null) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            'a=%zz',
            '%=%',
            '&&&',
            '=',
            '==1',
            '?',
            'limit=1&limit',
            '__proto__[x]=1',
            'from',
            'limit=%00',
            `q=${'%F0%9F'.repeat(10)}`,
          ),
        },
      ),
    })
    .map(({ actor, params, tpl, ms, repeat, raw }) => {
      let i = 0;
      const path = pattern.replace(/:(\w+)/g, () => {
        const p = params[i++];
        return p.raw ? p.text : encode(p.text);
      });
      let q: unknown = structuredClone(queries[tpl % queries.length]);
      for (const m of ms) q = mutate(q, m);
      const entries: [string, unknown][] =
        q !== null && typeof q === 'object' && !Array.isArray(q) ? Object.entries(q) : [['q', q]];
      const parts = entries.map(([k, v]) => `${encode(k)}=${encode(queryText(v))}`);
      if (repeat) parts.unshift(`${repeat[0]}=${repeat[1]}`, `${repeat[0]}=${repeat[1]}`);
      if (raw) parts.unshift(raw);
      return { actor, method, url: withinHeaderLimit(path, parts, {}), headers: {} };
    });
}

function send(t: TestApp, fx: Fixture, r: FuzzRequest): Promise<request.Response> {
  const agent = request(t.http) as unknown as Record<string, (url: string) => request.Test>;
  let req = agent[r.method.toLowerCase()](r.url).set(bearer(fx.keys[r.actor])).timeout({ deadline: 15_000 });
  for (const [k, v] of Object.entries(r.headers)) req = req.set(k, v);
  if (r.body && 'json' in r.body) {
    // Serialized here so that superagent sends exactly these bytes (and a Content-Type of JSON).
    const text = JSON.stringify(r.body.json);
    if (text !== undefined) req = req.set('Content-Type', 'application/json').send(text);
  } else if (r.body && 'raw' in r.body) {
    if (r.body.contentType) req = req.set('Content-Type', r.body.contentType);
    req = req.send(r.body.raw as string);
  }
  return req;
}

const clip = (s: string, n = 600) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

function describeRequest(r: FuzzRequest): string {
  let body: string;
  try {
    body = !r.body
      ? '(none)'
      : 'json' in r.body
        ? clip(JSON.stringify(r.body.json) ?? 'undefined')
        : `${r.body.contentType}: ${clip(r.body.raw.toString())}`;
  } catch (err) {
    body = `(not printable: ${(err as Error).message})`;
  }
  const headers = Object.entries(r.headers)
    .map(([k, v]) => `${k}: ${clip(v, 80)}`)
    .join('; ');
  return `${r.method} ${clip(r.url, 300)} as ${r.actor}\n  headers: ${headers || '(none)'}\n  body: ${body}`;
}

/** What is wrong with an answer, if anything: only 2xx, or 4xx problem+json with its status and a code. */
function answerProblem(res: request.Response): string | undefined {
  if (res.status >= 200 && res.status < 300) return undefined;
  if (res.status < 400 || res.status >= 500) return `status ${res.status}`;
  if (!/^application\/problem\+json/.test(String(res.headers['content-type'])))
    return `4xx with content-type ${res.headers['content-type']}`;
  if (res.body?.status !== res.status) return `problem status ${res.body?.status} ≠ HTTP ${res.status}`;
  if (typeof res.body?.code !== 'string' || res.body.code === '') return 'problem without a code';
  return undefined;
}

// ----------------------------------------------------------------------------- the database

type Snapshot = Map<string, { n: number; h: string }>;

async function publicTables(t: TestApp): Promise<string[]> {
  const rows: { table_name: string }[] = await t.dataSource.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  return rows.map((r) => r.table_name);
}

/** Row count and a digest of the content of every table: a refused request must leave both alone. */
async function snapshot(t: TestApp, tables: string[]): Promise<Snapshot> {
  const sql = tables
    .map(
      (name) =>
        `SELECT '${name}' AS t, count(*)::int AS n, md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) AS h FROM "${name}" x`,
    )
    .join(' UNION ALL ');
  const rows: { t: string; n: number; h: string }[] = await t.dataSource.query(sql);
  return new Map(rows.map((r) => [r.t, { n: r.n, h: r.h }]));
}

function diff(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = [];
  for (const [name, a] of after) {
    const b = before.get(name);
    if (!b || b.h !== a.h)
      out.push(`${name}: ${b?.n ?? 0} → ${a.n} rows${b && b.n === a.n ? ' (content changed)' : ''}`);
  }
  return out;
}

// ----------------------------------------------------------------------------- the fixture

async function buildFixture(t: TestApp): Promise<Fixture> {
  const http = t.http;
  const A = await setupClinic(t.app, http, 'Fuzz', { chairs: 2 });
  const otherKeys = await persistClinicWithKeys(t.app, { name: 'Other clinic' });
  const operator = await persistOperatorKey(t.app);
  const admin = bearer(A.keys.admin);
  const ok = (res: request.Response, status: number, what: string) => {
    if (res.status !== status) throw new Error(`fixture: ${what} answered ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as Json;
  };

  // A webhook first, so that the booking below leaves messages to retry.
  const webhook = await request(http)
    .post('/v1/webhooks')
    .set(admin)
    .send({ url: 'http://127.0.0.1:9/hook', eventTypes: ['session.created', 'plan.booked'] });
  const webhookIds = webhook.status === 201 ? [webhook.body.id as string] : [];
  const planA = await bookPlan(http, A, { protocolId: A.shortProtocolId, earliestStart: '2026-12-01' });
  const planB = await bookPlan(http, A, { protocolId: A.shortProtocolId, earliestStart: '2026-12-07' });
  const patientId = planA.patientId as string;
  const patientB = planB.patientId as string;
  const sessions = [...planA.sessions, ...planB.sessions] as Json[];
  const infusion = (planA.sessions as Json[]).find((s) => s.ref === 'infusion#2') ?? planA.sessions[1];
  let moved = DateTime.fromISO(infusion.start as string, { zone: A.timezone }).plus({ days: 1 });
  if (moved.weekday === 7) moved = moved.plus({ days: 1 });

  const messageIds: string[] = [];
  for (const id of webhookIds) {
    const page = ok(await request(http).get(`/v1/webhooks/${id}/messages`).set(admin), 200, 'messages');
    messageIds.push(...(page.items as Json[]).map((m) => m.id as string));
  }
  const nurse2 = ok(
    await request(http)
      .post(`/v1/clinics/${A.keys.clinicId}/staff`)
      .set(admin)
      .send(makeStaff({ name: 'Second nurse' })),
    201,
    'nurse',
  ).id as string;
  const closure = ok(
    await request(http)
      .post(`/v1/clinics/${A.keys.clinicId}/closures`)
      .set(admin)
      .send({ startDate: '2027-01-01', reason: 'New year' }),
    201,
    'closure',
  );
  const feed = await request(http).post('/v1/calendar/feeds').set(admin).send({ scope: 'clinic' });
  const feedIds = feed.status === 201 ? [feed.body.id as string] : [];
  const victimKeys: string[] = [];
  for (const role of ['front_desk', 'clinician', 'admin']) {
    victimKeys.push(
      ok(
        await request(http)
          .post('/v1/api-keys')
          .set(admin)
          .send({ name: `victim ${role}`, role }),
        201,
        'api key',
      ).id as string,
    );
  }
  // A protocol of its own for the protocol routes (publishing and retiring it leaves the booking protocols alone).
  const fuzzProtocolId = await publishProtocol(http, A.keys.clinician, { name: 'Fuzz protocol', steps: SHORT_STEPS });

  // Real cursors and sync tokens, for the query fuzz to reuse, truncate and splice.
  const cursors: string[] = [];
  const firstPage = ok(await request(http).get('/v1/patients?limit=1').set(admin), 200, 'patients page');
  if (firstPage.nextCursor) cursors.push(firstPage.nextCursor as string);
  const auditPage = ok(await request(http).get('/v1/audit?limit=1').set(admin), 200, 'audit page');
  if (auditPage.nextCursor) cursors.push(auditPage.nextCursor as string);
  cursors.push(
    ...cursors.map((c) => c.slice(0, -2)),
    encodeCursor(['0000-01-01T00:00:00Z', randomUUID()]),
    encodeCursor(['9999-12-31T23:59:59.999999Z', randomUUID()]),
    encodeCursor(['+275760-09-13T00:00:00Z', randomUUID()]),
    encodeCursor(['a\u0000b', randomUUID()]),
    encodeCursor(['x'.repeat(1000), randomUUID()]),
    encodeCursor([randomUUID()]),
    encodeCursor(['2026-11-25T15:00:00Z', randomUUID(), 'extra']),
    encodeCursor([]),
    Buffer.from('{"id":{"$gt":""}}').toString('base64url'),
    Buffer.from('[1,2]').toString('base64url'),
    Buffer.from('[null,null]').toString('base64url'),
    'not-base64!!',
    '',
  );
  const syncTokens: string[] = [];
  const sync = ok(await request(http).get('/v1/sync/sessions?limit=1').set(admin), 200, 'sync');
  for (const tok of [sync.nextSyncToken, sync.nextPageToken]) {
    if (typeof tok !== 'string') continue;
    const [body, sig] = tok.split('.');
    syncTokens.push(tok, `${body}.${sig.slice(0, -1)}A`, `${body}x.${sig}`, body, `${tok}.x`, tok.toUpperCase());
  }
  syncTokens.push(
    `${Buffer.from(JSON.stringify({ v: 1, k: 'sync', c: A.keys.clinicId, w: '18446744073709551616', iat: '2026-11-25T15:00:00Z' })).toString('base64url')}.AAAA`,
    'a.b',
    '.',
  );

  const clinicId = A.keys.clinicId;
  const chairId = A.chairs[0].id;
  const staffIds = [A.nurse.id, A.physician.id, A.therapist.id, nurse2];
  const sessionIds = sessions.filter((s) => s.status === 'scheduled').map((s) => s.id as string);
  const interval = weekdays([1, 2, 3, 4, 5], '09:00', '17:00');

  const templates: Record<string, Template[]> = {
    'POST /v1/api-keys': [
      { body: { name: 'Fuzz key', role: 'front_desk' } },
      { body: { name: 'Fuzz key', role: 'clinician', clinicId } },
    ],
    'POST /v1/clinics': [{ body: makeClinic({ name: 'Fuzzed clinic' }) }],
    'PATCH /v1/clinics/:clinicId': [
      { body: { name: 'Fuzz (renamed)' } },
      { body: { timezone: 'America/New_York', openingHours: weekdays([1, 2, 3, 4, 5, 6], '08:00', '18:00') } },
    ],
    'POST /v1/clinics/:clinicId/chairs': [{ body: { name: 'Fuzz chair', active: true } }],
    'PATCH /v1/clinics/:clinicId/chairs/:chairId': [
      { body: { name: 'Fuzz chair (renamed)' } },
      { body: { active: true } },
    ],
    'POST /v1/clinics/:clinicId/staff': [
      { body: makeStaff({ name: 'Fuzz nurse' }) },
      { body: makeStaff({ name: 'Fuzz physician', role: 'physician', availability: interval, active: true }) },
    ],
    'PATCH /v1/clinics/:clinicId/staff/:staffId': [
      { body: { maxConcurrentPatients: 3 } },
      { body: { name: 'Renamed', availability: weekdays([1, 2, 3, 4, 5], '08:00', '18:00'), active: true } },
    ],
    'POST /v1/clinics/:clinicId/closures': [
      { body: { startDate: '2026-12-24', endDate: '2026-12-26', reason: 'Holidays' } },
      {
        body: {
          startDate: '2026-12-02',
          endDate: '2026-12-02',
          startTime: '13:00',
          endTime: '15:00',
          reason: 'Staff meeting',
        },
      },
    ],
    'POST /v1/patients': [
      { body: makePatient({ fullName: 'Fuzz Patient' }) },
      {
        body: makePatient({
          fullName: 'Fuzz Patient Two',
          email: 'fuzz@example.org',
          phone: '+1 (555) 010-0101',
          notes: 'Prefers mornings',
          unavailable: [{ weekday: 3, start: '08:00', end: '12:00' }],
          unavailableDates: ['2026-12-24'],
          preferredTimes: [{ weekday: 1, start: '09:00', end: '12:00' }],
          clinicId,
        }),
      },
    ],
    'PATCH /v1/patients/:patientId': [
      { body: { fullName: 'Fuzz Renamed', weightKg: 80.5 } },
      { body: { email: null, phone: '+15550100', unavailableDates: ['2026-12-31'], preferredTimes: interval } },
    ],
    'POST /v1/protocols': [
      { body: { name: 'Fuzz draft', indication: 'Fuzzing', description: 'x', steps: SHORT_STEPS } },
    ],
    'PUT /v1/protocols/:protocolId/draft': [
      {
        body: { name: 'Fuzz draft', indication: 'Fuzzing', description: null, steps: SHORT_STEPS },
        headers: { 'If-Match': '*' },
      },
    ],
    'POST /v1/protocols/:protocolId/publish': [{ headers: { 'If-Match': '*' } }, {}],
    'POST /v1/protocols/:protocolId/versions/:version/retire': [{}],
    'POST /v1/plans/preview': [
      { body: { patientId, protocolId: A.shortProtocolId, earliestStart: '2026-12-14', startWithinDays: 14 } },
      {
        body: {
          patientId: patientB,
          protocolId: A.shortProtocolId,
          protocolVersion: 1,
          tailoring: {
            weightKg: 70,
            steps: [{ step: 'infusion', amount: 0.6, occurrences: 2, spacing: { min: 1, target: 2, max: 4 } }],
          },
          preferredTimes: [{ weekday: 2, start: '09:00', end: '15:00' }],
        },
      },
    ],
    'POST /v1/plans': [
      {
        body: { patientId, protocolId: A.shortProtocolId, earliestStart: '2027-01-11' },
        headers: { 'Idempotency-Key': 'fuzz-book-1' },
      },
      {
        body: {
          patientId: patientB,
          protocolId: A.shortProtocolId,
          earliestStart: '2027-02-01',
          startWithinDays: 5,
          tailoring: { steps: [{ step: 'infusion', occurrences: 2 }] },
        },
      },
    ],
    'POST /v1/plans/:planId/adjustments': [
      {
        body: { type: 'reschedule', sessionId: infusion.id, start: moved.toISO(), reason: 'Patient asked' },
        headers: { 'If-Match': '*' },
      },
      {
        body: { type: 'reschedule', sessionId: infusion.id, start: moved.toISO() },
        headers: { 'If-Match': '*' },
        query: { preview: 'true' },
      },
      {
        body: { type: 'change_dose', sessionId: infusion.id, amount: 0.6, reason: 'Tolerated well' },
        headers: { 'If-Match': '*' },
      },
      {
        body: { type: 'change_dose', stepKey: 'infusion', amount: 0.4, reason: 'Nausea' },
        headers: { 'If-Match': '*' },
        query: { preview: 'true' },
      },
      { body: { type: 'skip', sessionId: infusion.id, reason: 'Ill' }, headers: { 'If-Match': '*' } },
      { body: { type: 'change_chair', sessionId: infusion.id, chairId: A.chairs[1].id }, headers: { 'If-Match': '*' } },
      { body: { type: 'change_staff', sessionId: infusion.id, staffId: nurse2 }, headers: { 'If-Match': '*' } },
      { body: { type: 'add', stepKey: 'infusion', amount: 0.5, reason: 'Booster' }, headers: { 'If-Match': '*' } },
      {
        body: { type: 'cancel_remaining', reason: 'Stopped' },
        headers: { 'If-Match': '*' },
        query: { preview: 'true' },
      },
    ],
    'POST /v1/sessions/:sessionId/check-in': [{}],
    'POST /v1/sessions/:sessionId/complete': [
      {
        body: {
          doseGiven: { amount: 0.5, unit: 'mg/kg' },
          actualStart: '2026-11-25T14:00:00Z',
          actualEnd: '2026-11-25T14:40:00-00:00',
        },
      },
      { body: {} },
    ],
    'POST /v1/sessions/:sessionId/no-show': [{ body: { reason: 'No answer on the phone' } }, { body: {} }],
    'POST /v1/sessions/:sessionId/cancel': [{ body: { reason: 'Patient asked' } }],
    'POST /v1/sessions/:sessionId/observations': [
      {
        body: {
          craving: 3,
          cows: 5,
          phq9: 4,
          gad7: 3,
          bloodPressure: { systolic: 128, diastolic: 82 },
          heartRate: 70,
          spo2: 98,
          adverseEvents: [{ term: 'Nausea', severity: 'mild', action: 'Ondansetron 4 mg given' }],
          note: 'Calm',
        },
      },
    ],
    'POST /v1/calendar/feeds': [
      { body: { scope: 'clinic', name: 'Everything' } },
      { body: { scope: 'chair', chairId, name: 'Chair 1' } },
      { body: { scope: 'staff', staffId: A.nurse.id } },
      { body: { scope: 'patient', patientId, clinicId } },
    ],
    'POST /v1/webhooks': [
      { body: { url: 'http://127.0.0.1:9/hook', eventTypes: ['session.created'], description: 'Fuzz' } },
      { body: { url: 'https://example.org/hooks', eventTypes: ['plan.booked', 'session.cancelled'], clinicId } },
    ],
    // No body: the route is the whole request.
    'POST /v1/webhooks/:webhookId/secret': [{}],
    'POST /v1/webhooks/:webhookId/enable': [{}],
  };

  const queries: Record<string, Record<string, string>[]> = {
    'GET /v1/sessions': [
      { from: '2026-12-01', to: '2026-12-31', limit: '50' },
      {
        from: '2026-12-01T00:00:00Z',
        to: '2026-12-08T00:00:00-05:00',
        chairId,
        staffId: A.nurse.id,
        patientId,
        status: 'scheduled',
      },
    ],
    'GET /v1/patients': [
      { q: 'Pat', limit: '10' },
      { clinicId, cursor: cursors[0] ?? '' },
    ],
    'GET /v1/audit': [
      {
        from: '2026-11-01T00:00:00Z',
        to: '2026-12-01T00:00:00+01:00',
        patientId,
        action: 'patient.read',
        entityType: 'patient',
        limit: '20',
      },
      { entityId: planA.id, actorKeyId: victimKeys[0], cursor: cursors[1] ?? '' },
    ],
    'GET /v1/sync/sessions': [
      {},
      { syncToken: syncTokens[0] ?? '' },
      { pageToken: syncTokens[1] ?? '', limit: '1' },
      { limit: '2', clinicId },
    ],
    'GET /v1/clinics/:clinicId/availability': [
      {
        from: '2026-12-01',
        to: '2026-12-14',
        durationMinutes: '40',
        recoveryMinutes: '60',
        role: 'nurse',
        needsChair: 'true',
      },
    ],
    'GET /v1/clinics/:clinicId/closures': [{ from: '2026-12-01', to: '2027-12-31' }],
    'GET /v1/webhooks/:webhookId/messages': [{ status: 'pending', limit: '5' }],
  };

  return {
    A,
    keys: {
      admin: A.keys.admin,
      clinician: A.keys.clinician,
      frontDesk: A.keys.frontDesk,
      operator,
      otherClinicAdmin: otherKeys.admin,
    },
    ids: {
      clinicId: [clinicId],
      chairId: A.chairs.map((c) => c.id),
      staffId: staffIds,
      closureId: [closure.id as string],
      patientId: [patientId, patientB],
      protocolId: [fuzzProtocolId],
      version: ['1', '2'],
      planId: [planA.id as string, planB.id as string],
      sessionId: sessionIds,
      keyId: victimKeys,
      feedId: feedIds,
      webhookId: webhookIds,
      messageId: messageIds,
      token: [],
    },
    templates,
    queries,
    cursors,
    syncTokens,
  };
}

// ----------------------------------------------------------------------------- the tests

describe('bad input: fuzzing every write route never gives a 5xx nor a half-written database', () => {
  let t: TestApp;
  let fx: Fixture;
  let tables: string[];
  const stats = new Map<string, { ok: number; refused: number; codes: Set<string> }>();

  beforeAll(async () => {
    t = await startTestApp();
    fx = await buildFixture(t);
    tables = await publicTables(t);
  }, 60_000);
  afterAll(async () => {
    if (process.env.FUZZ_VERBOSE) {
      const lines = [...stats].map(
        ([route, s]) => `${route}: ${s.ok} 2xx, ${s.refused} 4xx (${[...s.codes].sort().join(', ')})`,
      );
      process.stdout.write(`fuzz seed ${SEED}\n${lines.join('\n')}\n`);
    }
    await t?.close();
  });

  /**
   * The changes a refused request may not explain. A refusal may still have read a patient's data
   * (a preview that finds no plan, 422, has read the patient's times): its read-audit rows, tagged
   * with the answer's request id, are the one thing it may add.
   */
  async function unexplained(
    changed: string[],
    before: Snapshot,
    after: Snapshot,
    res: request.Response,
  ): Promise<string[]> {
    if (changed.length !== 1 || !changed[0].startsWith('audit_events:') || typeof res.body?.requestId !== 'string')
      return changed;
    const rows: { action: string }[] = await t.dataSource.query(
      'SELECT action FROM audit_events WHERE request_id = $1',
      [res.body.requestId],
    );
    const added = after.get('audit_events')!.n - before.get('audit_events')!.n;
    const reads = rows.filter((r) => /\.(read|list|preview|sync)$/.test(r.action));
    return added > 0 && reads.length === rows.length && rows.length === added ? [] : changed;
  }

  /** Sends what fast-check generates, one request at a time; returns what went wrong (empty when all is well). */
  async function fuzz(route: string, arb: fc.Arbitrary<FuzzRequest>, runs: number, seed: number): Promise<string[]> {
    const failures: string[] = [];
    const s = stats.get(route) ?? { ok: 0, refused: 0, codes: new Set<string>() };
    stats.set(route, s);
    let before = await snapshot(t, tables);
    await fc.assert(
      fc.asyncProperty(arb, async (r) => {
        if (failures.length >= 3) return; // enough to go on; the rest of the batch would repeat them
        let res: request.Response;
        try {
          res = await send(t, fx, r);
        } catch (err) {
          failures.push(`${describeRequest(r)}\n  → no answer: ${(err as Error).message}`);
          return;
        }
        const after = await snapshot(t, tables);
        const wrong = answerProblem(res);
        if (wrong) {
          failures.push(`${describeRequest(r)}\n  → ${wrong}: ${clip(res.text ?? '', 800)}`);
        } else if (res.status >= 400) {
          s.refused++;
          s.codes.add(`${res.status} ${res.body.code}`);
          const changed = await unexplained(diff(before, after), before, after, res);
          if (changed.length > 0)
            failures.push(
              `${describeRequest(r)}\n  → ${res.status} ${res.body.code}, but the database changed: ${changed.join('; ')}`,
            );
        } else {
          s.ok++;
          s.codes.add(String(res.status));
        }
        before = after;
      }),
      { numRuns: runs, seed, endOnFailure: true },
    );
    return failures.map((f) => `${f}\n  (replay: FUZZ_SEED=${SEED})`);
  }

  it('fuzzes every write route of the role matrix, each one that takes a body starting from a valid example of it', () => {
    expect(WRITE_ROUTES.length).toBeGreaterThanOrEqual(29);
    for (const route of [
      'POST /v1/plans',
      'POST /v1/plans/:planId/adjustments',
      'DELETE /v1/webhooks/:webhookId',
      'POST /v1/sessions/:sessionId/cancel',
    ]) {
      expect(WRITE_ROUTES).toContain(route);
    }
    // A write route without a valid example body is still fuzzed, but only with junk; say which.
    const bare = WRITE_ROUTES.filter((r) => !fx.templates[r] && !/^DELETE |\/check-in$|\/retry$/.test(r));
    expect(bare).toEqual([]);
  });

  it('regressions: inputs the fuzz found giving a 500 are 400 problem+json, and write nothing', async () => {
    const before = await snapshot(t, tables);
    const admin = bearer(fx.keys.admin);
    const deep = (n: number) => nest(n, 'x', false);
    const cases: [string, () => request.Test, string][] = [
      // class-validator's IsNumber({ maxDecimalPlaces }) threw a TypeError on numbers printed in exponent form.
      [
        'weightKg 1e-7',
        () =>
          request(t.http)
            .post('/v1/patients')
            .set(admin)
            .send(makePatient({ weightKg: 1e-7 })),
        'VALIDATION_FAILED',
      ],
      ['limit=1e-7', () => request(t.http).get('/v1/patients?limit=1e-7').set(admin), 'VALIDATION_FAILED'],
      [
        'dose 5e-324',
        () =>
          request(t.http)
            .post(`/v1/plans/${fx.ids.planId[0]}/adjustments`)
            .set(admin)
            .set('If-Match', '*')
            .send({ type: 'change_dose', stepKey: 'infusion', amount: 5e-324, reason: 'x' }),
        'VALIDATION_FAILED',
      ],
      // 10,000 invalid steps gave 160,000 field errors, spread into one push(...) call: a RangeError.
      [
        '10,000 steps',
        () =>
          request(t.http)
            .post('/v1/protocols')
            .set(admin)
            .send({ name: 'x', indication: 'y', steps: Array.from({ length: 10_000 }, () => ({})) }),
        'VALIDATION_FAILED',
      ],
      // @ValidateNested() let a missing gap through (`after: { step }`), and the template checks read gap.min of undefined.
      [
        'after without gap',
        () =>
          request(t.http)
            .post('/v1/protocols')
            .set(admin)
            .send({
              name: 'x',
              indication: 'y',
              steps: [SHORT_STEPS[0], { ...SHORT_STEPS[1], after: { step: SHORT_STEPS[0].key } }],
            }),
        'VALIDATION_FAILED',
      ],
      // validator.js's isEmail threw a URIError on an unpaired surrogate; such text is refused before validation.
      [
        'email \\ud800',
        () => request(t.http).patch(`/v1/patients/${fx.ids.patientId[0]}`).set(admin).send({ email: '\ud800' }),
        'MALFORMED_REQUEST',
      ],
      [
        'a key \\udc00',
        () =>
          request(t.http)
            .post('/v1/patients')
            .set(admin)
            .send({ ...makePatient(), ['x\udc00']: 1 }),
        'MALFORMED_REQUEST',
      ],
      // …and took an array for an object: `after: []` passed with nothing in it (FUZZ_SEED=242441094).
      [
        'after: []',
        () =>
          request(t.http)
            .post('/v1/protocols')
            .set(admin)
            .send({ name: 'x', indication: 'y', steps: [SHORT_STEPS[0], { ...SHORT_STEPS[1], after: [] }] }),
        'VALIDATION_FAILED',
      ],
      // A reschedule to the year 225243 kept the engine (and the event loop) busy for minutes over every day up to it (FUZZ_SEED=58329575).
      [
        'start in the year 225243',
        () =>
          request(t.http)
            .post(`/v1/plans/${fx.ids.planId[0]}/adjustments?preview=true`)
            .set(admin)
            .set('If-Match', '*')
            .send({
              type: 'reschedule',
              sessionId: fx.ids.sessionId[0],
              start: '+225243-08-06T12:47:02.532Z',
            }),
        'VALIDATION_FAILED',
      ],
      // class-transformer overflowed the stack on a body nested a few thousand levels deep.
      [
        '3,000 levels',
        () =>
          request(t.http)
            .post('/v1/patients')
            .set(admin)
            .send(makePatient({ notes: deep(3000) })),
        'MALFORMED_REQUEST',
      ],
      [
        '3,000 levels of arrays',
        () =>
          request(t.http)
            .patch(`/v1/clinics/${fx.A.keys.clinicId}`)
            .set(admin)
            .send({ openingHours: nest(3000, 1, true) }),
        'MALFORMED_REQUEST',
      ],
    ];
    for (const [what, go, code] of cases) {
      const res = await go();
      expect({ what, status: res.status, code: res.body.code, type: res.headers['content-type'] }).toEqual({
        what,
        status: 400,
        code,
        type: expect.stringMatching(/^application\/problem\+json/),
      });
      // However many fields are wrong, the answer lists at most 100 of them and says how many there were.
      if (what === '10,000 steps') {
        expect(res.body.errors).toHaveLength(100);
        expect(res.body.detail).toMatch(/^The request has \d{5,} invalid fields; the first 100 are listed\.$/);
      }
    }
    // Deep enough for every real body (protocol steps nest 4 levels), refused only past 32.
    expect(
      (
        await request(t.http)
          .post('/v1/patients')
          .set(admin)
          .send(makePatient({ notes: deep(31) }))
      ).body.code,
    ).toBe('VALIDATION_FAILED');
    expect(diff(before, await snapshot(t, tables))).toEqual([]);
    // Text with proper surrogate pairs (emoji) is fine.
    expect(
      (
        await request(t.http)
          .patch(`/v1/patients/${fx.ids.patientId[0]}`)
          .set(admin)
          .send({ notes: 'Prefers mornings 🙂' })
      ).status,
    ).toBe(200);
  });

  it('starts from valid requests: each example body, with real ids, is accepted (or refused only for the state it finds)', async () => {
    const refused: string[] = [];
    for (const route of WRITE_ROUTES) {
      const [method, pattern] = route.split(' ');
      for (const tpl of (fx.templates[route] ?? []).filter((x) => x.body !== undefined)) {
        const path = pattern.replace(/:(\w+)/g, (_, name: string) => fx.ids[name]?.[0] ?? randomUUID());
        // Adjustments are checked as previews, so that the plan the fuzz works on stays as booked.
        const query = tpl.query ?? (route.endsWith('/adjustments') ? { preview: 'true' } : {});
        const qs = new URLSearchParams(query).toString();
        const base: FuzzRequest = {
          actor: 'admin',
          method,
          url: qs ? `${path}?${qs}` : path,
          headers: { ...tpl.headers },
          body: { json: tpl.body },
        };
        let res = await send(t, fx, base);
        if (res.status === 403) res = await send(t, fx, { ...base, actor: 'operator' }); // creating a clinic takes an operator key
        // 409/412/422 depend on the state the fuzz left (a session already checked in, a draft unchanged…).
        if (!(res.status < 300 || [409, 412, 422].includes(res.status)))
          refused.push(`${describeRequest(base)}\n  → ${res.status} ${clip(res.text, 400)}`);
      }
    }
    expect(refused).toEqual([]);
  });

  it.each(WRITE_ROUTES.map((route, i) => [route, i] as const))(
    '%s: hostile bodies, params, queries and headers → 2xx or 4xx problem+json, never 5xx; a 4xx writes nothing',
    async (route, i) => {
      const failures = await fuzz(route, requestArb(fx, route), RUNS, SEED + i);
      expect(failures).toEqual([]);
      // The fuzz reached the route's handler (not only the router's 404 or the guard's 401).
      const s = stats.get(route)!;
      expect([...s.codes].some((c) => !/ROUTE_NOT_FOUND|UNAUTHENTICATED/.test(c))).toBe(true);
    },
  );

  it.each(GET_ROUTES.map((route, i) => [route, i] as const))(
    '%s: hostile query strings → 2xx or 4xx problem+json, never 5xx; a 4xx writes nothing',
    async (route, i) => {
      const runs = fx.queries[route] ? RUNS : Math.max(3, Math.round(GET_RUNS / 3));
      const failures = await fuzz(route, getRequestArb(fx, route), runs, SEED + 1000 + i);
      expect(failures).toEqual([]);
    },
  );

  it('the schedule is still consistent after all of it', async () => {
    const q = async (sql: string) => (await t.dataSource.query(sql)) as Json[];
    const ACTIVE = `('scheduled', 'checked_in', 'completed')`;
    // No two active sessions overlap on a chair, for a patient, or on a staff member's seat.
    expect(
      await q(`
        SELECT a.id, b.id AS other FROM sessions a JOIN sessions b ON a.clinic_id = b.clinic_id AND a.id < b.id AND a.during && b.during
         WHERE a.status IN ${ACTIVE} AND b.status IN ${ACTIVE}
           AND (a.chair_id = b.chair_id OR a.patient_id = b.patient_id OR (a.staff_id = b.staff_id AND a.staff_seat = b.staff_seat))`),
    ).toEqual([]);
    // No seat beyond the staff member's capacity, no session outside its own times.
    expect(
      await q(`SELECT s.id FROM sessions s JOIN staff_members m ON m.clinic_id = s.clinic_id AND m.id = s.staff_id
                WHERE s.status IN ${ACTIVE} AND s.staff_seat > m.max_concurrent_patients`),
    ).toEqual([]);
    expect(await q(`SELECT id FROM sessions WHERE NOT (starts_at < ends_at AND ends_at <= occupied_until)`)).toEqual(
      [],
    );
    // Every plan has sessions, all of its own patient; its version counts its adjustments.
    expect(
      await q(
        `SELECT p.id FROM plans p WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.clinic_id = p.clinic_id AND s.plan_id = p.id)`,
      ),
    ).toEqual([]);
    expect(
      await q(
        `SELECT s.id FROM sessions s JOIN plans p ON p.clinic_id = s.clinic_id AND p.id = s.plan_id WHERE s.patient_id <> p.patient_id`,
      ),
    ).toEqual([]);
    expect(
      await q(`SELECT p.id, p.version, count(a.id)::int AS adjustments FROM plans p
                 LEFT JOIN plan_adjustments a ON a.clinic_id = p.clinic_id AND a.plan_id = p.id
                GROUP BY p.clinic_id, p.id, p.version HAVING p.version <> 1 + count(a.id)`),
    ).toEqual([]);
    // The change log follows the sessions: every session's latest change carries its revision, and
    // every change is of a session that exists (or was deleted, and says so).
    expect(
      await q(`SELECT s.id, s.version, max(c.revision) AS logged FROM sessions s
                 LEFT JOIN session_changes c ON c.clinic_id = s.clinic_id AND c.session_id = s.id
                GROUP BY s.clinic_id, s.id, s.version HAVING max(c.revision) IS DISTINCT FROM s.version`),
    ).toEqual([]);
    expect(
      await q(`SELECT c.session_id FROM session_changes c
                WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.clinic_id = c.clinic_id AND s.id = c.session_id)
                  AND NOT EXISTS (SELECT 1 FROM session_changes d WHERE d.clinic_id = c.clinic_id AND d.session_id = c.session_id AND d.change = 'deleted')`),
    ).toEqual([]);
    // A cancelled session says why; no replayable Idempotency-Key holds an error.
    expect(
      await q(`SELECT id FROM sessions WHERE status IN ('cancelled', 'completed', 'checked_in') AND version < 2`),
    ).toEqual([]);
    expect(await q(`SELECT key FROM idempotency_keys WHERE status_code >= 300`)).toEqual([]);
    // Every clinic still has a valid zone and no plan lost its patient or pinned version.
    const zones = await q(`SELECT timezone FROM clinics`);
    for (const z of zones) expect(DateTime.now().setZone(z.timezone).isValid).toBe(true);
  });
});
