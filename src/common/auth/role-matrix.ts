import type { ApiRole } from './api-role.js';

/** Who may call a route: an API key role, the feed token in the URL, or anyone (`none`). */
export type Access = ApiRole | 'feed_token' | 'none';
export const ACCESS_COLUMNS: readonly Access[] = ['front_desk', 'clinician', 'admin', 'feed_token', 'none'];

const ALL: readonly Access[] = ['front_desk', 'clinician', 'admin'];
const CLINICAL: readonly Access[] = ['clinician', 'admin'];
const ADMIN: readonly Access[] = ['admin'];

/**
 * Every route × who may call it: the one table of access, rendered into the README and the
 * OpenAPI descriptions. The `@Roles`/`@Public` decorators enforce it; test/api/role-matrix.spec.ts
 * walks the running app's routes and fails when a route is missing here or a cell is not enforced.
 * Routes are `METHOD /path` with Express parameters, as the router knows them.
 *
 * Some rules go finer than the route, inside the service, and are tested with their features:
 * the front desk books a template as it is but may not tailor it, and may reschedule, change chair
 * or staff and cancel, but not change doses, skip, add or end a plan.
 */
export const ROLE_MATRIX: Readonly<Record<string, readonly Access[]>> = {
  'GET /health': ['none'],
  // The API description and its browser UI (served by @nestjs/swagger).
  'GET /openapi.json': ['none'],
  'GET /openapi.yaml': ['none'],
  'GET /docs': ['none'],
  'GET /docs/': ['none'],
  'GET /docs/index.html': ['none'],
  'GET /docs/swagger-ui-init.js': ['none'],
  'GET /docs/docs/swagger-ui-init.js': ['none'],
  'GET /docs/LICENSE': ['none'],

  'POST /v1/api-keys': ADMIN,
  'GET /v1/api-keys': ADMIN,
  'DELETE /v1/api-keys/:keyId': ADMIN,

  'POST /v1/clinics': ADMIN,
  'GET /v1/clinics': ALL,
  'GET /v1/clinics/:clinicId': ALL,
  'PATCH /v1/clinics/:clinicId': ADMIN,
  'GET /v1/clinics/:clinicId/chairs': ALL,
  'POST /v1/clinics/:clinicId/chairs': ADMIN,
  'PATCH /v1/clinics/:clinicId/chairs/:chairId': ADMIN,
  'GET /v1/clinics/:clinicId/staff': ALL,
  'POST /v1/clinics/:clinicId/staff': ADMIN,
  'PATCH /v1/clinics/:clinicId/staff/:staffId': ADMIN,
  'GET /v1/clinics/:clinicId/closures': ALL,
  'POST /v1/clinics/:clinicId/closures': ADMIN,
  'DELETE /v1/clinics/:clinicId/closures/:closureId': ADMIN,
  'GET /v1/clinics/:clinicId/availability': ALL,
  'GET /v1/clinics/:clinicId/load': ALL,

  'POST /v1/patients': ALL,
  'GET /v1/patients': ALL,
  'GET /v1/patients/:patientId': ALL,
  'PATCH /v1/patients/:patientId': ALL,
  'GET /v1/patients/:patientId/plans': ALL,

  'POST /v1/protocols': CLINICAL,
  'GET /v1/protocols': ALL,
  'GET /v1/protocols/:protocolId': ALL,
  'PUT /v1/protocols/:protocolId/draft': CLINICAL,
  'POST /v1/protocols/:protocolId/publish': CLINICAL,
  'GET /v1/protocols/:protocolId/versions/:version': ALL,
  'POST /v1/protocols/:protocolId/versions/:version/retire': CLINICAL,
  'GET /v1/protocols/:protocolId/outcomes': CLINICAL,
  'GET /v1/outcomes/operations': CLINICAL,

  'POST /v1/plans/preview': ALL,
  'POST /v1/plans': ALL,
  'GET /v1/plans/:planId': ALL,
  'POST /v1/plans/:planId/adjustments': ALL,
  'GET /v1/plans/:planId/adjustments': ALL,
  'GET /v1/plans/:planId/observations': CLINICAL,

  'GET /v1/sessions': ALL,
  'GET /v1/sessions/:sessionId': ALL,
  'POST /v1/sessions/:sessionId/check-in': ALL,
  'POST /v1/sessions/:sessionId/complete': CLINICAL,
  'POST /v1/sessions/:sessionId/no-show': ALL,
  'POST /v1/sessions/:sessionId/cancel': ALL,
  'POST /v1/sessions/:sessionId/observations': CLINICAL,
  'GET /v1/sessions/:sessionId/observations': CLINICAL,

  'POST /v1/calendar/feeds': ALL,
  'GET /v1/calendar/feeds': ALL,
  'DELETE /v1/calendar/feeds/:feedId': ALL,
  'GET /v1/calendar/feeds/:token.ics': ['feed_token'],

  'GET /v1/sync/sessions': ALL,

  'POST /v1/webhooks': ADMIN,
  'GET /v1/webhooks': ADMIN,
  'GET /v1/webhooks/:webhookId': ADMIN,
  'DELETE /v1/webhooks/:webhookId': ADMIN,
  'GET /v1/webhooks/:webhookId/messages': ADMIN,
  'POST /v1/webhooks/:webhookId/messages/:messageId/retry': ADMIN,
  'POST /v1/webhooks/:webhookId/secret': ADMIN,
  'POST /v1/webhooks/:webhookId/enable': ADMIN,

  'GET /v1/audit': ADMIN,
};

const MARK: Record<Access, string> = {
  front_desk: 'front desk',
  clinician: 'clinician',
  admin: 'admin',
  feed_token: 'feed token',
  none: 'no key',
};

/** The matrix as a Markdown table (for the README). */
export function renderRoleMatrix(matrix: Readonly<Record<string, readonly Access[]>> = ROLE_MATRIX): string {
  const head = `| route | ${ACCESS_COLUMNS.map((a) => MARK[a]).join(' | ')} |`;
  const rule = `| --- | ${ACCESS_COLUMNS.map(() => ':---:').join(' | ')} |`;
  const rows = Object.entries(matrix).map(
    ([route, who]) => `| \`${route}\` | ${ACCESS_COLUMNS.map((a) => (who.includes(a) ? '✓' : '')).join(' | ')} |`,
  );
  return [head, rule, ...rows].join('\n');
}

/** "Who may call this" for one route, as a sentence (for the OpenAPI descriptions). */
export function describeAccess(route: string): string | undefined {
  const who = ROLE_MATRIX[route];
  if (!who) return undefined;
  if (who.includes('none')) return 'Access: anyone, no key needed.';
  if (who.includes('feed_token')) return 'Access: the feed token in the URL (no API key).';
  return `Access: ${who.map((a) => MARK[a]).join(', ')} keys.`;
}
