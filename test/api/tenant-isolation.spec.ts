import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { ApiRole } from '../../src/api-keys/entities/api-key.entity.js';
import { ROLE_MATRIX } from '../../src/common/auth/role-matrix.js';
import { KETAMINE_PROTOCOL } from '../../src/seed/demo-protocol.js';
import { messagePublicId, parseMessageId } from '../../src/webhooks/webhook-event-types.js';
import { makePatient, makeStaff, persistOperatorKey, type ClinicKeys } from '../factories/clinic.factory.js';
import { bookPlan, setupClinic, type ClinicSetup } from '../factories/series.factory.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';
import { atSessionTime } from '../support/session-clock.js';

// ---------------------------------------------------------------------------------------------
// Tenant isolation (issue 8). Clinic B gets one of everything (chair, staff, closure, patient,
// protocol with a pending draft, a booked plan with a checked-in session and an observation, an
// API key, a calendar feed, a webhook with a failed message). Then every route of the role
// matrix that takes an id in its path is called with clinic A's keys (every role the matrix lets
// in) and B's ids, with a body B's own key would have had accepted: each answers 404, exactly as
// for an id that does not exist, and no response carries anything of B. Ids in bodies and
// queries, list filters and B's sync token are tried too. Afterwards every row of B is as it was
// and no audit event of B came from A. Positive controls: B's own admin and an operator key
// reach every one of those records.
//
// A route added to the matrix with a path parameter fails this file until it has a case in
// CASES; a keyed route without one must be listed in LISTS, BODY_CASES or NO_CLINIC_INPUT.
// ---------------------------------------------------------------------------------------------

type Json = Record<string, any>;

const A_NAME = 'Alpha Isolation Clinic';
const B_NAME = 'Bravo Isolation Clinic';
const B_PATIENT = 'Bartholomew Quillfeather';
const WEBHOOK = { url: 'http://127.0.0.1:9/x', eventTypes: ['session.created'] };

const KEY_ROLES: ApiRole[] = ['front_desk', 'clinician', 'admin'];
const KEY_OF: Record<ApiRole, keyof ClinicKeys> = { front_desk: 'frontDesk', clinician: 'clinician', admin: 'admin' };
const rolesOf = (route: string): ApiRole[] => KEY_ROLES.filter((r) => ROLE_MATRIX[route]?.includes(r));

/** Every keyed route (not public, not the feed token) whose path has a parameter. */
const PARAM_ROUTES = Object.keys(ROLE_MATRIX).filter((route) => /\/:\w/.test(route) && rolesOf(route).length > 0);

interface Fixture {
  A: ClinicSetup;
  B: ClinicSetup;
  a: {
    patientId: string;
    planId: string;
    planEtag: string;
    sessionId: string;
    otherChairId: string;
    webhookId: string;
  };
  b: {
    apiKeyId: string;
    closureId: string;
    patientId: string;
    planId: string;
    planEtag: string;
    /** A checked-in infusion (complete, observations). */
    checkedInId: string;
    /** A scheduled infusion (check-in, no-show, cancel, adjustments). */
    scheduledId: string;
    /** A chair the scheduled infusion could move to. */
    otherChairId: string;
    draftEtag: string;
    feedId: string;
    webhookId: string;
    messageId: string;
    syncToken: string;
  };
}

// ---- path parameters ----

/** B's id for each path parameter. */
const B_PARAM: Record<string, (f: Fixture) => string> = {
  keyId: (f) => f.b.apiKeyId,
  clinicId: (f) => f.B.keys.clinicId,
  chairId: (f) => f.B.chairs[0].id,
  staffId: (f) => f.B.nurse.id,
  closureId: (f) => f.b.closureId,
  patientId: (f) => f.b.patientId,
  protocolId: (f) => f.B.protocolId,
  version: () => '1',
  planId: (f) => f.b.planId,
  sessionId: (f) => f.b.scheduledId,
  feedId: (f) => f.b.feedId,
  webhookId: (f) => f.b.webhookId,
  messageId: (f) => f.b.messageId,
};
/** Parameters that are not ids (kept as they are when ids are replaced by unknown ones). */
const NOT_AN_ID = new Set(['version']);
/** Parents A owns itself: `/clinics/{A}/chairs/{B's chair}` must not reach B's chair either. */
const A_PARENT: Record<string, (f: Fixture) => string> = {
  clinicId: (f) => f.A.keys.clinicId,
  webhookId: (f) => f.a.webhookId,
};
const unknownId = (param: string) => (param === 'messageId' ? messagePublicId(randomUUID()) : randomUUID());

interface Case {
  /** Ids other than B_PARAM's for this route's parameters. */
  params?: (f: Fixture) => Record<string, string>;
  /** A body B's own key would have had accepted (so validation lets A's request through); null for none. */
  body: null | ((f: Fixture, role: ApiRole) => Json);
  headers?: (f: Fixture) => Record<string, string>;
  query?: Json;
}

const DRAFT_BODY = {
  name: 'Taken over',
  indication: KETAMINE_PROTOCOL.indication,
  description: 'Edited by another clinic',
  steps: KETAMINE_PROTOCOL.steps,
};

/** Every parameterised route of the role matrix: the coverage test fails on a missing or stale entry. */
const CASES: Record<string, Case> = {
  'DELETE /v1/api-keys/:keyId': { body: null },

  'GET /v1/clinics/:clinicId': { body: null },
  'PATCH /v1/clinics/:clinicId': { body: () => ({ name: 'Taken over', timezone: 'Europe/London' }) },
  'GET /v1/clinics/:clinicId/chairs': { body: null },
  'POST /v1/clinics/:clinicId/chairs': { body: () => ({ name: 'Intruder chair' }) },
  'PATCH /v1/clinics/:clinicId/chairs/:chairId': { body: () => ({ name: 'Renamed chair', active: false }) },
  'GET /v1/clinics/:clinicId/staff': { body: null },
  'POST /v1/clinics/:clinicId/staff': { body: () => makeStaff({ name: 'Intruder nurse' }) },
  'PATCH /v1/clinics/:clinicId/staff/:staffId': { body: () => ({ maxConcurrentPatients: 3, active: false }) },
  'GET /v1/clinics/:clinicId/closures': { body: null },
  'POST /v1/clinics/:clinicId/closures': { body: () => ({ startDate: '2026-12-01', reason: 'Intruder closure' }) },
  'DELETE /v1/clinics/:clinicId/closures/:closureId': { body: null },
  'GET /v1/clinics/:clinicId/availability': {
    body: null,
    query: { from: '2026-12-01', to: '2026-12-07', durationMinutes: 40, role: 'nurse', needsChair: 'true' },
  },
  'GET /v1/clinics/:clinicId/load': { body: null, query: { from: '2026-12-01', to: '2026-12-07' } },

  'GET /v1/patients/:patientId': { body: null },
  'PATCH /v1/patients/:patientId': {
    body: () => ({ fullName: 'Renamed Patient', weightKg: 90, notes: 'changed by another clinic' }),
  },
  'GET /v1/patients/:patientId/plans': { body: null },

  'GET /v1/protocols/:protocolId': { body: null },
  'PUT /v1/protocols/:protocolId/draft': { body: () => DRAFT_BODY, headers: (f) => ({ 'If-Match': f.b.draftEtag }) },
  // B's draft differs from version 1, so publishing it would succeed.
  'POST /v1/protocols/:protocolId/publish': { body: null, headers: (f) => ({ 'If-Match': f.b.draftEtag }) },
  'GET /v1/protocols/:protocolId/versions/:version': { body: null },
  'POST /v1/protocols/:protocolId/versions/:version/retire': { body: null },
  'GET /v1/protocols/:protocolId/outcomes': { body: null },

  'GET /v1/plans/:planId': { body: null },
  'POST /v1/plans/:planId/adjustments': {
    // The front desk may move sessions but not end a plan (403 before any look-up).
    body: (f, role) =>
      role === 'front_desk'
        ? { type: 'change_chair', sessionId: f.b.scheduledId, chairId: f.b.otherChairId }
        : { type: 'cancel_remaining', reason: 'Ended by another clinic' },
    headers: (f) => ({ 'If-Match': f.b.planEtag }),
  },
  'GET /v1/plans/:planId/adjustments': { body: null },
  'GET /v1/plans/:planId/observations': { body: null },

  'GET /v1/sessions/:sessionId': { body: null },
  'POST /v1/sessions/:sessionId/check-in': { body: null },
  'POST /v1/sessions/:sessionId/complete': {
    params: (f) => ({ sessionId: f.b.checkedInId }),
    body: () => ({ doseGiven: { amount: 0.5, unit: 'mg/kg' } }),
  },
  'POST /v1/sessions/:sessionId/no-show': { body: () => ({ reason: 'Marked by another clinic' }) },
  'POST /v1/sessions/:sessionId/cancel': { body: () => ({ reason: 'Cancelled by another clinic' }) },
  'POST /v1/sessions/:sessionId/observations': {
    params: (f) => ({ sessionId: f.b.checkedInId }),
    body: () => ({ craving: 9, note: 'Written by another clinic' }),
  },
  'GET /v1/sessions/:sessionId/observations': { params: (f) => ({ sessionId: f.b.checkedInId }), body: null },

  'DELETE /v1/calendar/feeds/:feedId': { body: null },

  'GET /v1/webhooks/:webhookId': { body: null },
  'DELETE /v1/webhooks/:webhookId': { body: null },
  'GET /v1/webhooks/:webhookId/messages': { body: null },
  // B's message is failed, so a retry would be accepted.
  'POST /v1/webhooks/:webhookId/messages/:messageId/retry': { body: null },
  'POST /v1/webhooks/:webhookId/secret': { body: null },
  'POST /v1/webhooks/:webhookId/enable': { body: null },
};

interface Call {
  variant: string;
  url: string;
  /** The same call with every foreign id replaced by one that does not exist. */
  unknownUrl: string;
}

const paramsOf = (path: string) => [...path.matchAll(/:(\w+)/g)].map((m) => m[1]);

/** The URLs to try for a route: all of B's ids; and A's own parent with B's child where there is one. */
function callsFor(route: string, f: Fixture): Call[] {
  const c = CASES[route];
  if (!c) throw new Error(`${route} has a path parameter but no case in CASES: add its ids and a valid body`);
  const path = route.split(' ')[1];
  const names = paramsOf(path);
  const ids: Record<string, string> = {};
  for (const n of names) {
    const pick = B_PARAM[n];
    if (!pick) throw new Error(`${route}: no fixture id for :${n}; add it to B_PARAM`);
    ids[n] = pick(f);
  }
  Object.assign(ids, c.params?.(f));
  const fill = (values: Record<string, string>) => path.replace(/:(\w+)/g, (_, n: string) => values[n]);
  const unknown = (values: Record<string, string>, keep: string[]) =>
    Object.fromEntries(
      Object.entries(values).map(([n, v]) => [n, keep.includes(n) || NOT_AN_ID.has(n) ? v : unknownId(n)]),
    );
  const calls: Call[] = [{ variant: "B's ids", url: fill(ids), unknownUrl: fill(unknown(ids, [])) }];
  const idNames = names.filter((n) => !NOT_AN_ID.has(n));
  const parent = A_PARENT[idNames[0]];
  if (idNames.length > 1 && parent) {
    const mixed = { ...ids, [idNames[0]]: parent(f) };
    calls.push({
      variant: `A's ${idNames[0]}, B's ${idNames.slice(1).join(', ')}`,
      url: fill(mixed),
      unknownUrl: fill(unknown(mixed, [idNames[0]])),
    });
  }
  return calls;
}

// ---- ids in bodies and queries ----

/** `pick` gives B's id, or an unknown one for the comparison call. */
type Pick = (bId: string) => string;

interface BodyCase {
  name: string;
  /** The matrix entry (for the roles to try). */
  route: string;
  url: (f: Fixture) => string;
  body: (f: Fixture, pick: Pick, role: ApiRole) => Json;
  headers?: (f: Fixture) => Record<string, string>;
  status: number;
  code: string;
}

const BODY_CASES: BodyCase[] = [
  ...(['POST /v1/plans/preview', 'POST /v1/plans'] as const).flatMap((route): BodyCase[] => [
    {
      name: `${route} with B's patient`,
      route,
      url: () => route.split(' ')[1],
      body: (f, pick) => ({ patientId: pick(f.b.patientId), protocolId: f.A.protocolId, earliestStart: '2026-12-01' }),
      status: 404,
      code: 'PATIENT_NOT_FOUND',
    },
    {
      name: `${route} with B's protocol`,
      route,
      url: () => route.split(' ')[1],
      body: (f, pick) => ({
        patientId: f.a.patientId,
        protocolId: pick(f.B.protocolId),
        protocolVersion: 1,
        earliestStart: '2026-12-01',
      }),
      status: 404,
      code: 'PROTOCOL_NOT_FOUND',
    },
  ]),
  ...(
    [
      ['chair', 'chairId', (f: Fixture) => f.B.chairs[0].id, 'CHAIR_NOT_FOUND'],
      ['staff', 'staffId', (f: Fixture) => f.B.nurse.id, 'STAFF_NOT_FOUND'],
      ['patient', 'patientId', (f: Fixture) => f.b.patientId, 'PATIENT_NOT_FOUND'],
    ] as const
  ).map(([scope, field, id, code]): BodyCase => ({
    name: `POST /v1/calendar/feeds for B's ${scope}`,
    route: 'POST /v1/calendar/feeds',
    url: () => '/v1/calendar/feeds',
    body: (f, pick) => ({ scope, [field]: pick(id(f)) }),
    status: 404,
    code,
  })),
  {
    name: "POST /v1/calendar/feeds in B's clinic",
    route: 'POST /v1/calendar/feeds',
    url: () => '/v1/calendar/feeds',
    body: (f, pick) => ({ scope: 'clinic', clinicId: pick(f.B.keys.clinicId) }),
    status: 404,
    code: 'CLINIC_NOT_FOUND',
  },
  {
    name: "POST /v1/patients in B's clinic",
    route: 'POST /v1/patients',
    url: () => '/v1/patients',
    body: (f, pick) => makePatient({ clinicId: pick(f.B.keys.clinicId), fullName: 'Planted Patient' }),
    status: 404,
    code: 'CLINIC_NOT_FOUND',
  },
  {
    name: "POST /v1/protocols in B's clinic",
    route: 'POST /v1/protocols',
    url: () => '/v1/protocols',
    body: (f, pick) => ({ ...DRAFT_BODY, clinicId: pick(f.B.keys.clinicId) }),
    status: 404,
    code: 'CLINIC_NOT_FOUND',
  },
  {
    name: "POST /v1/webhooks in B's clinic",
    route: 'POST /v1/webhooks',
    url: () => '/v1/webhooks',
    body: (f, pick) => ({ ...WEBHOOK, clinicId: pick(f.B.keys.clinicId) }),
    status: 404,
    code: 'CLINIC_NOT_FOUND',
  },
  {
    name: "POST /v1/api-keys in B's clinic",
    route: 'POST /v1/api-keys',
    url: () => '/v1/api-keys',
    body: (f, pick) => ({ name: 'Planted key', role: 'admin', clinicId: pick(f.B.keys.clinicId) }),
    status: 404,
    code: 'CLINIC_NOT_FOUND',
  },
  // A's own plan, adjusted with B's session, chair or staff member (previews: nothing would be written).
  {
    name: "POST /v1/plans/{A}/adjustments on B's session",
    route: 'POST /v1/plans/:planId/adjustments',
    url: (f) => `/v1/plans/${f.a.planId}/adjustments?preview=true`,
    body: (f, pick) => ({ type: 'change_chair', sessionId: pick(f.b.scheduledId), chairId: f.a.otherChairId }),
    headers: (f) => ({ 'If-Match': f.a.planEtag }),
    status: 404,
    code: 'SESSION_NOT_FOUND',
  },
  {
    name: "POST /v1/plans/{A}/adjustments to B's chair",
    route: 'POST /v1/plans/:planId/adjustments',
    url: (f) => `/v1/plans/${f.a.planId}/adjustments?preview=true`,
    body: (f, pick) => ({ type: 'change_chair', sessionId: f.a.sessionId, chairId: pick(f.b.otherChairId) }),
    headers: (f) => ({ 'If-Match': f.a.planEtag }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: "POST /v1/plans/{A}/adjustments to B's nurse",
    route: 'POST /v1/plans/:planId/adjustments',
    url: (f) => `/v1/plans/${f.a.planId}/adjustments?preview=true`,
    body: (f, pick) => ({ type: 'change_staff', sessionId: f.a.sessionId, staffId: pick(f.B.nurse.id) }),
    headers: (f) => ({ 'If-Match': f.a.planEtag }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: "POST /v1/plans/{A}/adjustments rescheduled into B's chair",
    route: 'POST /v1/plans/:planId/adjustments',
    url: (f) => `/v1/plans/${f.a.planId}/adjustments?preview=true`,
    body: (f, pick) => ({
      type: 'reschedule',
      sessionId: f.a.sessionId,
      start: '2026-12-15T10:00:00-05:00',
      chairId: pick(f.b.otherChairId),
    }),
    headers: (f) => ({ 'If-Match': f.a.planEtag }),
    status: 422,
    code: 'PLAN_INFEASIBLE',
  },
];

// ---- list routes ----

interface ListRoute {
  route: string;
  query?: Json;
  /** Takes `clinicId` (operator keys' filter). */
  clinicFilter: boolean;
}

const LISTS: ListRoute[] = [
  { route: 'GET /v1/api-keys', clinicFilter: false },
  { route: 'GET /v1/clinics', clinicFilter: false },
  { route: 'GET /v1/patients', clinicFilter: true },
  { route: 'GET /v1/protocols', clinicFilter: true },
  { route: 'GET /v1/sessions', query: { from: '2026-11-25', to: '2026-12-24' }, clinicFilter: true },
  { route: 'GET /v1/sync/sessions', clinicFilter: true },
  { route: 'GET /v1/calendar/feeds', clinicFilter: true },
  { route: 'GET /v1/webhooks', clinicFilter: true },
  { route: 'GET /v1/audit', clinicFilter: true },
];

/** Keyed routes without a path parameter that no case above needs to cover, and why. */
const NO_CLINIC_INPUT: Record<string, string> = {
  'POST /v1/clinics': 'creates a clinic: operator keys only (clinic keys get 403)',
  'GET /v1/outcomes/operations':
    "aggregates of the key's own clinic only; another clinic's clinicId is 404 (test/api/outcomes.spec.ts)",
};

describe('tenant isolation: clinic A cannot reach clinic B', () => {
  let t: TestApp;
  let f: Fixture;
  let operator: string;
  /** Every id of B (rows, message ids), its secrets and names: none may reach clinic A. */
  let bSecrets: string[];
  let before: Record<string, { n: number; md5: string }>;
  const api = () => request(t.http);

  const send = (
    method: string,
    url: string,
    key: string,
    opts: { body?: Json | null; headers?: Record<string, string>; query?: Json } = {},
  ) => {
    const agent = api() as unknown as Record<string, (u: string) => request.Test>;
    let req = agent[method.toLowerCase()](url).set(bearer(key));
    if (opts.headers) req = req.set(opts.headers);
    if (opts.query) req = req.query(opts.query);
    return opts.body ? req.send(opts.body) : req;
  };

  /** B's secrets found in a response (headers and body; `instance` only echoes the request path). */
  const leaksIn = (res: request.Response): string[] => {
    const isProblem = /^application\/problem\+json/.test(String(res.headers['content-type'] ?? ''));
    const { instance: _echo, ...rest } = isProblem ? (res.body as Json) : { instance: undefined };
    const text = `${JSON.stringify(res.headers)}\n${isProblem ? JSON.stringify(rest) : (res.text ?? '')}`.toLowerCase();
    return bSecrets.filter((s) => text.includes(s.toLowerCase()));
  };

  /** What an answer says, for comparing B's id with an unknown one. */
  const answer = (res: request.Response) => ({
    status: res.status,
    code: res.body?.code,
    detail: res.body?.detail,
    errors: res.body?.errors,
  });

  /** Row count and digest of every table that holds clinic rows, for one clinic. */
  const fingerprint = async (clinicId: string): Promise<Record<string, { n: number; md5: string }>> => {
    const tables: { table_name: string }[] = await t.dataSource.query(
      `SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'clinic_id' ORDER BY table_name`,
    );
    const out: Record<string, { n: number; md5: string }> = {};
    for (const [table, column] of [['clinics', 'id'], ...tables.map((x) => [x.table_name, 'clinic_id'])]) {
      const [row] = await t.dataSource.query(
        `SELECT count(*)::int AS n, md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) AS md5 FROM "${table}" x WHERE "${column}" = $1`,
        [clinicId],
      );
      out[table] = row;
    }
    return out;
  };

  const keyIdOf = async (key: string): Promise<string> =>
    (await t.dataSource.query('SELECT id FROM api_keys WHERE key_prefix = $1', [key.slice(0, 10)]))[0].id as string;

  beforeAll(async () => {
    t = await startTestApp();
    const A = await setupClinic(t.app, t.http, A_NAME);
    const B = await setupClinic(t.app, t.http, B_NAME);
    operator = await persistOperatorKey(t.app);
    const ok = async (res: request.Response | Promise<request.Response>, status: number): Promise<Json> => {
      const r = await res;
      expect({ status: r.status, body: r.body }).toMatchObject({ status });
      return r;
    };
    const infusionsOf = (plan: Json) =>
      (plan.sessions as Json[])
        .filter((s) => s.stepKey === 'infusion')
        .sort((x, y) => Date.parse(x.start) - Date.parse(y.start));
    const etagOf = async (url: string, key: string) => (await ok(send('GET', url, key), 200)).headers.etag as string;

    // A: its own webhook, feed, patient and plan (for the mixed cases and A's own lists).
    const aWebhook = (await ok(send('POST', '/v1/webhooks', A.keys.admin, { body: WEBHOOK }), 201)).body;
    await ok(send('POST', '/v1/calendar/feeds', A.keys.admin, { body: { scope: 'clinic' } }), 201);
    const aPlan = await bookPlan(t.http, A, {}, { fullName: 'Alice Ownclinic' });
    const aInfusion = infusionsOf(aPlan)[0];

    // B: one of everything. The webhook first, so that booking puts messages in its outbox.
    const bWebhook = (await ok(send('POST', '/v1/webhooks', B.keys.admin, { body: WEBHOOK }), 201)).body;
    const bKey = (
      await ok(send('POST', '/v1/api-keys', B.keys.admin, { body: { name: 'B integration', role: 'front_desk' } }), 201)
    ).body;
    const closure = (
      await ok(
        send('POST', `/v1/clinics/${B.keys.clinicId}/closures`, B.keys.admin, {
          body: { startDate: '2027-06-01', reason: 'Staff training' },
        }),
        201,
      )
    ).body;
    const bPlan = await bookPlan(t.http, B, {}, { fullName: B_PATIENT });
    const [checkedIn, scheduled] = infusionsOf(bPlan);
    // Checked in on its day (check-in waits for it), the clock then back to now.
    await atSessionTime(t, checkedIn.id, () =>
      ok(send('POST', `/v1/sessions/${checkedIn.id}/check-in`, B.keys.frontDesk), 200),
    );
    await ok(
      send('POST', `/v1/sessions/${checkedIn.id}/observations`, B.keys.clinician, {
        body: { craving: 3, note: 'Calm' },
      }),
      201,
    );
    const feed = (await ok(send('POST', '/v1/calendar/feeds', B.keys.admin, { body: { scope: 'clinic' } }), 201)).body;
    const messages = (await ok(send('GET', `/v1/webhooks/${bWebhook.id}/messages`, B.keys.admin), 200)).body
      .items as Json[];
    expect(messages.length).toBeGreaterThan(0);
    // Failed, so that a retry of it would be accepted.
    await t.dataSource.query(
      `UPDATE webhook_messages SET status = 'failed', attempts = 3 WHERE clinic_id = $1 AND id = $2`,
      [B.keys.clinicId, parseMessageId(messages[0].id)],
    );
    // A pending draft, so that publishing would succeed.
    const protocolUrl = `/v1/protocols/${B.protocolId}`;
    const draft = await ok(
      send('PUT', `${protocolUrl}/draft`, B.keys.clinician, {
        body: { ...DRAFT_BODY, name: KETAMINE_PROTOCOL.name, description: 'Revised by B' },
        headers: { 'If-Match': await etagOf(protocolUrl, B.keys.clinician) },
      }),
      200,
    );
    expect(draft.body.draft.changed).toBe(true);
    const sync = (await ok(send('GET', '/v1/sync/sessions', B.keys.admin), 200)).body;
    expect(typeof sync.nextSyncToken).toBe('string');

    f = {
      A,
      B,
      a: {
        patientId: aPlan.patientId,
        planId: aPlan.id,
        planEtag: await etagOf(`/v1/plans/${aPlan.id}`, A.keys.admin),
        sessionId: aInfusion.id,
        otherChairId: A.chairs.find((c) => c.id !== aInfusion.chair.id)!.id,
        webhookId: aWebhook.id,
      },
      b: {
        apiKeyId: bKey.id,
        closureId: closure.id,
        patientId: bPlan.patientId,
        planId: bPlan.id,
        planEtag: await etagOf(`/v1/plans/${bPlan.id}`, B.keys.admin),
        checkedInId: checkedIn.id,
        scheduledId: scheduled.id,
        otherChairId: B.chairs.find((c) => c.id !== scheduled.chair.id)!.id,
        draftEtag: draft.headers.etag as string,
        feedId: feed.id,
        webhookId: bWebhook.id,
        messageId: messages[0].id,
        syncToken: sync.nextSyncToken,
      },
    };

    // Every uuid of every B row, B's message ids, its secrets and its names.
    const idTables: { table_name: string }[] = await t.dataSource.query(`
      SELECT c.table_name FROM information_schema.columns c
        JOIN information_schema.columns i ON i.table_schema = c.table_schema AND i.table_name = c.table_name AND i.column_name = 'id' AND i.data_type = 'uuid'
       WHERE c.table_schema = 'public' AND c.column_name = 'clinic_id'`);
    const ids = new Set<string>([B.keys.clinicId]);
    for (const { table_name } of idTables) {
      for (const r of await t.dataSource.query(`SELECT id::text AS id FROM "${table_name}" WHERE clinic_id = $1`, [
        B.keys.clinicId,
      ]))
        ids.add(r.id);
    }
    for (const r of await t.dataSource.query('SELECT id::text AS id FROM webhook_messages WHERE clinic_id = $1', [
      B.keys.clinicId,
    ]))
      ids.add(messagePublicId(r.id));
    bSecrets = [
      ...ids,
      bWebhook.secret,
      bKey.key,
      feed.token,
      B.keys.admin,
      B.keys.clinician,
      B.keys.frontDesk,
      B_PATIENT,
      B_NAME,
    ];
    before = await fingerprint(B.keys.clinicId);
  });
  afterAll(() => t?.close());

  it('has a case for every parameterised route of the role matrix, and every keyed route is covered', () => {
    expect(PARAM_ROUTES.filter((r) => !CASES[r])).toEqual([]);
    expect(Object.keys(CASES).filter((r) => !PARAM_ROUTES.includes(r))).toEqual([]);
    // Every parameter resolves to a fixture id (throws naming the route otherwise).
    for (const route of PARAM_ROUTES) expect(callsFor(route, f).length).toBeGreaterThan(0);
    const covered = new Set([
      ...LISTS.map((l) => l.route),
      ...BODY_CASES.map((c) => c.route),
      ...Object.keys(NO_CLINIC_INPUT),
    ]);
    const keyed = Object.keys(ROLE_MATRIX).filter((r) => rolesOf(r).length > 0 && !PARAM_ROUTES.includes(r));
    expect(keyed.filter((r) => !covered.has(r))).toEqual([]);
    expect([...covered].filter((r) => !ROLE_MATRIX[r])).toEqual([]);
  });

  it.each(PARAM_ROUTES)(
    "%s: clinic A's keys get 404 for clinic B's ids, as for ids that do not exist",
    async (route) => {
      const c = CASES[route];
      const method = route.split(' ')[0];
      for (const role of rolesOf(route)) {
        const key = f.A.keys[KEY_OF[role]];
        const opts = { body: c.body?.(f, role) ?? null, headers: c.headers?.(f), query: c.query };
        for (const call of callsFor(route, f)) {
          const res = await send(method, call.url, key, opts);
          const where = { route, role, variant: call.variant };
          expect({ ...where, status: res.status, code: res.body?.code, type: res.headers['content-type'] }).toEqual({
            ...where,
            status: 404,
            code: expect.stringMatching(/^(?!ROUTE_)[A-Z_]+_NOT_FOUND$/),
            type: expect.stringMatching(/^application\/problem\+json/),
          });
          expect({ ...where, leaked: leaksIn(res) }).toEqual({ ...where, leaked: [] });
          const unknown = await send(method, call.unknownUrl, key, opts);
          expect({ ...where, ...answer(res) }).toEqual({ ...where, ...answer(unknown) });
        }
      }
    },
  );

  it.each(BODY_CASES.map((c) => [c.name, c] as const))(
    '%s: refused as for an id that does not exist',
    async (_name, c) => {
      const method = c.route.split(' ')[0];
      for (const role of rolesOf(c.route)) {
        const key = f.A.keys[KEY_OF[role]];
        const call = (pick: Pick) =>
          send(method, c.url(f), key, { body: c.body(f, pick, role), headers: c.headers?.(f) });
        const res = await call((id) => id);
        const where = { name: c.name, role };
        expect({ ...where, status: res.status, code: res.body?.code }).toEqual({
          ...where,
          status: c.status,
          code: c.code,
        });
        expect({ ...where, leaked: leaksIn(res) }).toEqual({ ...where, leaked: [] });
        const unknown = await call(() => randomUUID());
        expect({ ...where, ...answer(res) }).toEqual({ ...where, ...answer(unknown) });
      }
    },
  );

  it("A's own lists hold A's records and nothing of B", async () => {
    for (const l of LISTS) {
      for (const role of rolesOf(l.route)) {
        const res = await send('GET', l.route.split(' ')[1], f.A.keys[KEY_OF[role]], { query: l.query });
        const where = { route: l.route, role };
        expect({ ...where, status: res.status }).toEqual({ ...where, status: 200 });
        expect({ ...where, empty: (res.body.items as unknown[]).length === 0 }).toEqual({ ...where, empty: false });
        expect({ ...where, leaked: leaksIn(res) }).toEqual({ ...where, leaked: [] });
      }
    }
  });

  it('lists asked for clinic B answer 404 or an empty list', async () => {
    for (const l of LISTS.filter((x) => x.clinicFilter)) {
      for (const role of rolesOf(l.route)) {
        const res = await send('GET', l.route.split(' ')[1], f.A.keys[KEY_OF[role]], {
          query: { ...l.query, clinicId: f.B.keys.clinicId },
        });
        const where = { route: l.route, role };
        const outcome =
          res.status === 404 ? { status: 404, code: res.body.code } : { status: res.status, items: res.body.items };
        expect({ ...where, outcome }).toEqual({
          ...where,
          outcome: res.status === 404 ? { status: 404, code: 'CLINIC_NOT_FOUND' } : { status: 200, items: [] },
        });
        expect({ ...where, leaked: leaksIn(res) }).toEqual({ ...where, leaked: [] });
      }
    }
  });

  it("filters by B's ids find nothing, and B's sync token is refused", async () => {
    const sheet = { from: '2026-11-25', to: '2026-12-24' };
    const B = f.B;
    const probes: [string, string, Json][] = [
      ['/v1/sessions', f.A.keys.frontDesk, { ...sheet, chairId: B.chairs[0].id }],
      ['/v1/sessions', f.A.keys.frontDesk, { ...sheet, staffId: B.nurse.id }],
      ['/v1/sessions', f.A.keys.frontDesk, { ...sheet, patientId: f.b.patientId }],
      ['/v1/patients', f.A.keys.frontDesk, { q: B_PATIENT.split(' ')[1] }],
      ['/v1/audit', f.A.keys.admin, { entityId: f.b.scheduledId }],
      ['/v1/audit', f.A.keys.admin, { actorKeyId: await keyIdOf(B.keys.admin) }],
      // Reading the trail about a patient is audited, in A's own clinic (last: A's trail now names the id it asked for).
      ['/v1/audit', f.A.keys.admin, { patientId: f.b.patientId }],
    ];
    for (const [url, key, query] of probes) {
      const res = await send('GET', url, key, { query });
      expect({ url, query, status: res.status, items: res.body.items }).toEqual({ url, query, status: 200, items: [] });
    }
    const res = await send('GET', '/v1/sync/sessions', f.A.keys.frontDesk, { query: { syncToken: f.b.syncToken } });
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 410, code: 'FULL_SYNC_REQUIRED' });
    expect(leaksIn(res)).toEqual([]);
  });

  it("leaves every row of clinic B as it was, and no audit event of B comes from A's keys", async () => {
    const after = await fingerprint(f.B.keys.clinicId);
    expect(after).toEqual(before);
    // The fingerprint covers the tables that matter, and they hold B's fixture.
    for (const table of [
      'clinics',
      'chairs',
      'staff_members',
      'closures',
      'patients',
      'protocols',
      'protocol_versions',
      'plans',
      'sessions',
      'plan_adjustments',
      'session_observations',
      'api_keys',
      'calendar_feeds',
      'webhook_endpoints',
      'webhook_messages',
      'session_changes',
      'audit_events',
    ]) {
      expect({ table, rows: (before[table]?.n ?? 0) > 0 }).toEqual({ table, rows: true });
    }
    const aKeys = await Promise.all(Object.values(KEY_OF).map((k) => keyIdOf(f.A.keys[k])));
    const [{ n }] = await t.dataSource.query(
      'SELECT count(*)::int AS n FROM audit_events WHERE clinic_id = $1 AND actor_key_id = ANY($2::uuid[])',
      [f.B.keys.clinicId, aKeys],
    );
    expect(n).toBe(0);
  });

  // Positive controls (after the fingerprint: these reads are audited in B).

  it("B's own admin reaches every one of those records", async () => {
    for (const route of PARAM_ROUTES.filter((r) => r.startsWith('GET '))) {
      const [call] = callsFor(route, f);
      const res = await send('GET', call.url, f.B.keys.admin, { query: CASES[route].query });
      expect({ route, status: res.status }).toEqual({ route, status: 200 });
    }
    const observations = await send('GET', `/v1/plans/${f.b.planId}/observations`, f.B.keys.admin);
    expect(observations.body.items).toHaveLength(1);
  });

  it("an operator key reaches B's records (the 404s come from scoping), and A's keys reach A's own", async () => {
    const patient = await send('GET', `/v1/patients/${f.b.patientId}`, operator);
    expect({ status: patient.status, fullName: patient.body.fullName }).toEqual({ status: 200, fullName: B_PATIENT });
    const plan = await send('GET', `/v1/plans/${f.b.planId}`, operator);
    expect({ status: plan.status, clinicId: plan.body.clinicId, etag: plan.headers.etag }).toEqual({
      status: 200,
      clinicId: f.B.keys.clinicId,
      etag: f.b.planEtag,
    });
    const webhook = await send('GET', `/v1/webhooks/${f.b.webhookId}/messages`, operator);
    expect({ status: webhook.status, first: webhook.body.items?.[0]?.id }).toEqual({
      status: 200,
      first: f.b.messageId,
    });
    expect((await send('GET', `/v1/plans/${f.a.planId}`, f.A.keys.frontDesk)).status).toBe(200);
    expect((await send('GET', `/v1/webhooks/${f.a.webhookId}`, f.A.keys.admin)).status).toBe(200);
  });
});
