import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import type { ApiRole } from '../../src/api-keys/entities/api-key.entity.js';
import { ROLE_MATRIX, renderRoleMatrix } from '../../src/common/auth/role-matrix.js';
import { persistClinicWithKeys, type ClinicKeys } from '../factories/clinic.factory.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// ---------------------------------------------------------------------------------------------
// The role matrix (src/common/auth/role-matrix.ts) against the running app: every route the
// router knows is in the matrix and every entry is a real route; without a key every keyed route
// answers 401; a role the matrix leaves out gets 403; a role it lets in is never refused by auth.
// The README and the OpenAPI document show the same matrix.
// ---------------------------------------------------------------------------------------------

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
}

/** Every METHOD /path the Express router serves (HEAD comes with GET). */
function routesOf(t: TestApp): string[] {
  const instance = t.app.getHttpAdapter().getInstance() as { router: { stack: Layer[] } };
  const out = new Set<string>();
  for (const layer of instance.router.stack) {
    if (!layer.route) continue;
    // Middleware mounted for every method (the JSON body parser) is not a route.
    if (Object.keys(layer.route.methods).length > 2) continue;
    for (const [method, on] of Object.entries(layer.route.methods)) {
      if (on && method !== '_all') out.add(`${method.toUpperCase()} ${layer.route.path}`);
    }
  }
  return [...out].sort();
}

const ROLES: { role: ApiRole; key: keyof ClinicKeys }[] = [
  { role: 'front_desk', key: 'frontDesk' },
  { role: 'clinician', key: 'clinician' },
  { role: 'admin', key: 'admin' },
];

/** A concrete URL for a route pattern: random ids (the guard answers before any look-up). */
function urlFor(path: string): string {
  return path
    .replace(/:token\.ics/, `cfd_${'x'.repeat(43)}.ics`)
    .replace(/:version\b/, '1')
    .replace(/:(\w+)/g, () => randomUUID());
}

describe('role matrix', () => {
  let t: TestApp;
  let keys: ClinicKeys;
  beforeAll(async () => {
    t = await startTestApp();
    keys = await persistClinicWithKeys(t.app);
  });
  afterAll(() => t.close());

  it('lists exactly the routes the app serves', () => {
    expect(routesOf(t)).toEqual(Object.keys(ROLE_MATRIX).sort());
  });

  const send = (method: string, url: string, key?: string) => {
    const agent = request(t.http);
    const req = (agent as unknown as Record<string, (u: string) => request.Test>)[method.toLowerCase()](url);
    if (key) req.set(bearer(key));
    return ['POST', 'PUT', 'PATCH'].includes(method) ? req.send({}) : req;
  };

  it.each(Object.entries(ROLE_MATRIX))('%s is enforced for every role', async (route, allowed) => {
    const [method, path] = route.split(' ');
    const url = urlFor(path);
    const anonymous = await send(method, url);
    if (allowed.includes('none') || allowed.includes('feed_token')) {
      expect({ route, status: anonymous.status }).not.toEqual({ route, status: 401 });
      expect(anonymous.status).not.toBe(403);
      return;
    }
    expect({ route, status: anonymous.status, code: anonymous.body.code }).toEqual({
      route,
      status: 401,
      code: 'UNAUTHENTICATED',
    });
    for (const { role, key } of ROLES) {
      const res = await send(method, url, keys[key]);
      if (allowed.includes(role)) {
        expect({ route, role, refused: [401, 403].includes(res.status) }).toEqual({ route, role, refused: false });
      } else {
        expect({ route, role, status: res.status, code: res.body.code }).toEqual({
          route,
          role,
          status: 403,
          code: 'FORBIDDEN',
        });
      }
    }
  });

  it('is the table in the README', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const block = /<!-- role-matrix:start -->\n([\s\S]*?)\n<!-- role-matrix:end -->/.exec(readme);
    expect(block?.[1]).toBe(renderRoleMatrix());
  });

  it('is in the OpenAPI description of every operation', async () => {
    const doc = (await request(t.http).get('/openapi.json').expect(200)).body as {
      paths: Record<string, Record<string, { description?: string; 'x-access'?: string[] }>>;
    };
    for (const [route, allowed] of Object.entries(ROLE_MATRIX)) {
      const [method, path] = route.split(' ');
      const op = doc.paths[path.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()];
      if (!op) continue; // /health is not in the API document
      expect({ route, access: op['x-access'] }).toEqual({ route, access: [...allowed] });
      expect(op.description).toMatch(/Access: /);
    }
  });
});
