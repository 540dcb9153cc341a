import { createHash, randomUUID } from 'node:crypto';
import request from 'supertest';
import { KETAMINE_PROTOCOL } from '../../src/seed/demo-protocol.js';
import { persistClinicWithKeys, persistOperatorKey, type ClinicKeys } from '../factories/clinic.factory.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';
import { expectProblem as expectProblemShared } from '../support/problem.js';

// ---------------------------------------------------------------------------------------------
// Factories: the demo ketamine protocol, deep-copied, with edits. Step indexes in the demo:
// 0 intake (consult) · 1 infusion (dose, repeat 6 [4–8], after intake, spacing 1–4 days)
// 2 therapy (attached after each infusion, 0–24 h) · 3 follow_up (after infusion 7–10 days)
// 4 booster (dose, after follow_up 28–35 days). Its longest span is 87 days.
// ---------------------------------------------------------------------------------------------

/** A step as loose JSON, so that tests can break it in any way. */
type LooseStep = Record<string, any>;
type StepEdit = (steps: LooseStep[]) => void;

/** The demo steps (deep copy), after `edit`. */
function makeSteps(edit?: StepEdit): LooseStep[] {
  const steps = structuredClone(KETAMINE_PROTOCOL.steps) as unknown as LooseStep[];
  edit?.(steps);
  return steps;
}

/** A body for POST /v1/protocols or PUT …/draft: the demo protocol with top-level overrides and step edits. */
function makeProtocol(overrides: Record<string, unknown> = {}, edit?: StepEdit): Record<string, unknown> {
  return {
    name: KETAMINE_PROTOCOL.name,
    indication: KETAMINE_PROTOCOL.indication,
    description: KETAMINE_PROTOCOL.description,
    steps: makeSteps(edit),
    ...overrides,
  };
}

/** A minimal valid one-step protocol. */
const oneStep = (name: string, overrides: Record<string, unknown> = {}) =>
  makeProtocol({ name, steps: makeSteps((s) => s.splice(1)), ...overrides });

const NOW = '2026-11-25T15:00:00.000Z';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

interface VersionSummary {
  version: number;
  publishedAt: string;
  retiredAt: string | null;
}
interface ProtocolBody {
  id: string;
  clinicId: string;
  name: string;
  indication: string;
  description: string | null;
  draft: { revision: number; changed: boolean; steps: LooseStep[]; updatedAt: string };
  versions: VersionSummary[];
  currentVersion: number | null;
  createdAt: string;
}
interface VersionBody {
  protocolId: string;
  clinicId: string;
  version: number;
  name: string;
  indication: string;
  steps: LooseStep[];
  publishedAt: string;
  retiredAt: string | null;
}
interface AuditRow {
  clinic_id: string | null;
  actor_key_id: string | null;
  actor_role: string | null;
  action: string;
  entity_type: string;
  entity_id: string | null;
}

const expectProblem = (res: request.Response, status: number, code: string, fields?: string[]) =>
  expectProblemShared(res, status, code, fields, { exact: true });

describe('protocols API (/v1/protocols)', () => {
  let t: TestApp;
  let operator: string;
  let a: ClinicKeys;
  let b: ClinicKeys;

  const api = () => request(t.http);

  const keyId = async (key: string): Promise<string> => {
    const rows: { id: string }[] = await t.dataSource.query('SELECT id FROM api_keys WHERE key_hash = $1', [
      sha256(key),
    ]);
    expect(rows).toHaveLength(1);
    return rows[0].id;
  };
  const counts = async (): Promise<{ protocols: number; versions: number; audit: number }> => {
    const [row] = await t.dataSource.query(
      'SELECT (SELECT count(*) FROM protocols) AS p, (SELECT count(*) FROM protocol_versions) AS v, (SELECT count(*) FROM audit_events) AS a',
    );
    return { protocols: Number(row.p), versions: Number(row.v), audit: Number(row.a) };
  };
  const auditFor = (protocolId: string): Promise<AuditRow[]> =>
    t.dataSource.query(
      `SELECT clinic_id, actor_key_id, actor_role, action, entity_type, entity_id FROM audit_events
        WHERE entity_id = $1 AND action LIKE 'protocol.%' ORDER BY id`,
      [protocolId],
    );

  const create = async (
    key: string,
    body: Record<string, unknown> = makeProtocol(),
  ): Promise<{ body: ProtocolBody; etag: string }> => {
    const res = await api().post('/v1/protocols').set(bearer(key)).send(body);
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 201 });
    return { body: res.body as ProtocolBody, etag: res.headers.etag };
  };
  const putDraft = (key: string, id: string, ifMatch: string | undefined, body: Record<string, unknown>) => {
    const r = api().put(`/v1/protocols/${id}/draft`).set(bearer(key));
    if (ifMatch !== undefined) r.set('If-Match', ifMatch);
    return r.send(body);
  };
  const publish = (key: string, id: string, ifMatch?: string) => {
    const r = api().post(`/v1/protocols/${id}/publish`).set(bearer(key));
    if (ifMatch !== undefined) r.set('If-Match', ifMatch);
    return r.send();
  };
  const retire = (key: string, id: string, version: number | string) =>
    api().post(`/v1/protocols/${id}/versions/${version}/retire`).set(bearer(key)).send();
  const getOne = (key: string, id: string) => api().get(`/v1/protocols/${id}`).set(bearer(key));
  const getVersion = (key: string, id: string, version: number | string) =>
    api().get(`/v1/protocols/${id}/versions/${version}`).set(bearer(key));

  /** Creates a protocol and publishes its first draft as version 1. */
  const createPublished = async (key: string, body: Record<string, unknown> = makeProtocol()) => {
    const p = await create(key, body);
    const v = await publish(key, p.body.id, p.etag);
    expect({ status: v.status, body: v.body }).toMatchObject({ status: 201, body: { version: 1 } });
    return { protocol: p.body, v1: v.body as VersionBody };
  };

  beforeAll(async () => {
    t = await startTestApp();
    operator = await persistOperatorKey(t.app);
    a = await persistClinicWithKeys(t.app, { name: 'Alpha Clinic' });
    b = await persistClinicWithKeys(t.app, { name: 'Beta Clinic' });
  });
  afterAll(() => t.close());

  describe('lifecycle: create → edit draft → publish → edit → publish v2 (v1 unchanged)', () => {
    it('walks the whole lifecycle with the right statuses, ETags and bodies', async () => {
      // Create: 201, draft revision 1 ("d1"), nothing published.
      const body1 = makeProtocol({ name: 'Lifecycle protocol' });
      const created = await api().post('/v1/protocols').set(bearer(a.clinician)).send(body1).expect(201);
      expect(created.headers['content-type']).toMatch(/^application\/json/);
      expect(created.headers.etag).toBe('"d1"');
      expect(created.body).toEqual({
        id: expect.stringMatching(UUID_RE),
        clinicId: a.clinicId,
        name: 'Lifecycle protocol',
        indication: KETAMINE_PROTOCOL.indication,
        description: KETAMINE_PROTOCOL.description,
        draft: { revision: 1, changed: true, steps: body1.steps, updatedAt: NOW },
        versions: [],
        currentVersion: null,
        createdAt: expect.any(String),
      });
      const id: string = created.body.id;

      // Read: same body, ETag of the draft.
      const got1 = await getOne(a.frontDesk, id).expect(200);
      expect(got1.headers.etag).toBe('"d1"');
      expect(got1.body).toEqual(created.body);

      // Edit the draft under If-Match "d1": 200, "d2".
      const body2 = makeProtocol({ name: 'Lifecycle protocol', description: null }, (s) => {
        s[1].repeat = 5;
        s[1].dose.amount = 0.4;
      });
      const edited = await putDraft(a.clinician, id, '"d1"', body2);
      expect({ status: edited.status, body: edited.body }).toMatchObject({ status: 200 });
      expect(edited.headers.etag).toBe('"d2"');
      expect(edited.body).toEqual({
        ...created.body,
        description: null,
        draft: { revision: 2, changed: true, steps: body2.steps, updatedAt: NOW },
      });
      expect((await getOne(a.clinician, id).expect(200)).headers.etag).toBe('"d2"');

      // Publish: 201, version 1, ETag "v1", exactly the draft's steps.
      const pub1 = await publish(a.clinician, id, '"d2"');
      expect({ status: pub1.status, body: pub1.body }).toMatchObject({ status: 201 });
      expect(pub1.headers.etag).toBe('"v1"');
      // (description is checked on its own below: "a version carries the description …")
      expect({ ...pub1.body, description: undefined }).toEqual({
        protocolId: id,
        clinicId: a.clinicId,
        version: 1,
        name: 'Lifecycle protocol',
        indication: KETAMINE_PROTOCOL.indication,
        steps: body2.steps,
        publishedAt: NOW,
        retiredAt: null,
      });
      const v1Snapshot = structuredClone(pub1.body) as VersionBody;

      // The draft now equals v1: not changed, current version 1; the draft's ETag is unchanged.
      const afterPub = await getOne(a.clinician, id).expect(200);
      expect(afterPub.headers.etag).toBe('"d2"');
      expect(afterPub.body).toMatchObject({
        draft: { revision: 2, changed: false },
        versions: [{ version: 1, publishedAt: NOW, retiredAt: null }],
        currentVersion: 1,
      });

      // Publishing an unchanged draft: 409 DRAFT_UNCHANGED (with and without If-Match), nothing written.
      const before = await counts();
      expectProblem(await publish(a.clinician, id), 409, 'DRAFT_UNCHANGED');
      expectProblem(await publish(a.clinician, id, '"d2"'), 409, 'DRAFT_UNCHANGED');
      expect(await counts()).toEqual(before);

      // Edit again (a new draft): "d3", changed, current version still 1.
      t.clock.set(t.clock.now().plus({ hours: 2 }));
      try {
        const body3 = makeProtocol({ name: 'Lifecycle protocol v2', description: 'second edition' }, (s) => {
          s[1].repeat = 7;
          s[1].spacing = { min: 2, target: 3, max: 4, unit: 'days' };
          s[4].dose.amount = 0.6;
        });
        const edited2 = await putDraft(a.admin, id, '"d2"', body3).expect(200);
        expect(edited2.headers.etag).toBe('"d3"');
        expect(edited2.body).toMatchObject({
          name: 'Lifecycle protocol v2',
          description: 'second edition',
          draft: { revision: 3, changed: true, steps: body3.steps, updatedAt: '2026-11-25T17:00:00.000Z' },
          versions: [{ version: 1, publishedAt: NOW, retiredAt: null }],
          currentVersion: 1,
        });
        // v1 is untouched by the new draft.
        expect((await getVersion(a.frontDesk, id, 1).expect(200)).body).toEqual(v1Snapshot);

        // Publish v2.
        const pub2 = await publish(a.admin, id, '"d3"');
        expect({ status: pub2.status, body: pub2.body }).toMatchObject({ status: 201 });
        expect(pub2.headers.etag).toBe('"v2"');
        expect({ ...pub2.body, description: undefined }).toEqual({
          protocolId: id,
          clinicId: a.clinicId,
          version: 2,
          name: 'Lifecycle protocol v2',
          indication: KETAMINE_PROTOCOL.indication,
          steps: body3.steps,
          publishedAt: '2026-11-25T17:00:00.000Z',
          retiredAt: null,
        });

        // v1 is still exactly what was published then; v2 has the new steps.
        const v1 = await getVersion(a.frontDesk, id, 1).expect(200);
        expect(v1.headers.etag).toBe('"v1"');
        expect(v1.body).toEqual(v1Snapshot);
        expect(v1.body.steps).toEqual(body2.steps);
        const v2 = await getVersion(a.frontDesk, id, 2).expect(200);
        expect(v2.headers.etag).toBe('"v2"');
        expect(v2.body).toEqual(pub2.body);
        expect(v2.body.steps).not.toEqual(v1.body.steps);

        // And in the database.
        const rows: { version: number; name: string; steps: LooseStep[] }[] = await t.dataSource.query(
          'SELECT version, name, steps FROM protocol_versions WHERE protocol_id = $1 ORDER BY version',
          [id],
        );
        expect(rows).toEqual([
          { version: 1, name: 'Lifecycle protocol', steps: body2.steps },
          { version: 2, name: 'Lifecycle protocol v2', steps: body3.steps },
        ]);

        const final = await getOne(a.clinician, id).expect(200);
        expect(final.headers.etag).toBe('"d3"');
        expect(final.body).toMatchObject({
          draft: { revision: 3, changed: false },
          versions: [
            { version: 1, publishedAt: NOW, retiredAt: null },
            { version: 2, publishedAt: '2026-11-25T17:00:00.000Z', retiredAt: null },
          ],
          currentVersion: 2,
        });

        // Conditional GET of an immutable version.
        const notModified = await getVersion(a.frontDesk, id, 1).set('If-None-Match', '"v1"');
        expect(notModified.status).toBe(304);
        expect(notModified.text ?? '').toBe('');
        expect((await getVersion(a.frontDesk, id, 1).set('If-None-Match', '"v2"')).status).toBe(200);
        expect((await getVersion(a.frontDesk, id, 2).set('If-None-Match', '"v1", "v2"')).status).toBe(304);
      } finally {
        t.clock.set(t.clock.now().minus({ hours: 2 }));
      }
    });

    it('a version carries the description it was published with (a description-only edit makes a new version)', async () => {
      const p = await create(a.clinician, oneStep('Described', { description: 'first words' }));
      const v1 = await publish(a.clinician, p.body.id).expect(201);
      await putDraft(a.clinician, p.body.id, '"d1"', oneStep('Described', { description: 'second words' })).expect(200);
      const v2 = await publish(a.clinician, p.body.id).expect(201);
      // Otherwise v1 and v2 would look identical through the API although they differ.
      expect(v1.body.description).toBe('first words');
      expect(v2.body.description).toBe('second words');
      expect((await getVersion(a.frontDesk, p.body.id, 1).expect(200)).body.description).toBe('first words');
    });

    it('publishes without If-Match (optional there) and records who published', async () => {
      const p = await create(a.clinician, oneStep('Publish without If-Match'));
      const res = await publish(a.clinician, p.body.id);
      expect({ status: res.status, body: res.body }).toMatchObject({
        status: 201,
        body: { version: 1, steps: p.body.draft.steps },
      });
      const [row] = await t.dataSource.query(
        'SELECT published_by FROM protocol_versions WHERE protocol_id = $1 AND version = 1',
        [p.body.id],
      );
      expect(row.published_by).toBe(await keyId(a.clinician));
    });

    it('a draft edited and edited back to the published content is unchanged again (409 on publish)', async () => {
      const { protocol } = await createPublished(a.clinician, oneStep('Edit back'));
      const changedBody = oneStep('Edit back', { indication: 'Something else' });
      const r1 = await putDraft(a.clinician, protocol.id, '"d1"', changedBody).expect(200);
      expect(r1.body.draft).toMatchObject({ revision: 2, changed: true });
      const r2 = await putDraft(a.clinician, protocol.id, '"d2"', oneStep('Edit back')).expect(200);
      expect(r2.body.draft).toMatchObject({ revision: 3, changed: false });
      expectProblem(await publish(a.clinician, protocol.id), 409, 'DRAFT_UNCHANGED');
      // A change to the description alone is a change.
      const r3 = await putDraft(
        a.clinician,
        protocol.id,
        '"d3"',
        oneStep('Edit back', { description: 'new words' }),
      ).expect(200);
      expect(r3.body.draft).toMatchObject({ revision: 4, changed: true });
      expect((await publish(a.clinician, protocol.id, '"d4"')).status).toBe(201);
    });

    it('a draft with the same steps in a different key order is unchanged (compared as data, not text)', async () => {
      const { protocol, v1 } = await createPublished(a.clinician, oneStep('Key order'));
      const reordered = v1.steps.map((s) => Object.fromEntries(Object.entries(s).reverse()));
      const r = await putDraft(a.clinician, protocol.id, '"d1"', oneStep('Key order', { steps: reordered })).expect(
        200,
      );
      expect(r.body.draft.changed).toBe(false);
      expectProblem(await publish(a.clinician, protocol.id), 409, 'DRAFT_UNCHANGED');
    });

    it('two concurrent publishes of one changed draft make exactly one new version (the other gets 409)', async () => {
      for (let i = 0; i < 4; i++) {
        const p = await create(a.clinician, oneStep(`Concurrent publish ${i}`));
        const results = await Promise.all([publish(a.clinician, p.body.id), publish(a.admin, p.body.id)]);
        expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
        expectProblem(
          results.find((r) => r.status === 409)!,
          409,
          'DRAFT_UNCHANGED',
        );
        const rows = await t.dataSource.query('SELECT version FROM protocol_versions WHERE protocol_id = $1', [
          p.body.id,
        ]);
        expect(rows).toEqual([{ version: 1 }]);
      }
    });
  });

  describe('If-Match on PUT …/draft and publish', () => {
    let id: string;
    beforeAll(async () => {
      const p = await create(a.clinician, oneStep('If-Match protocol'));
      id = p.body.id;
      await putDraft(a.clinician, id, '"d1"', oneStep('If-Match protocol', { indication: 'second' })).expect(200);
    });
    const revision = async (): Promise<number> => {
      const res = await getOne(a.clinician, id).expect(200);
      expect(res.headers.etag).toBe(`"d${res.body.draft.revision}"`);
      return res.body.draft.revision as number;
    };

    it('missing If-Match: 428 PRECONDITION_REQUIRED, nothing written', async () => {
      const before = await counts();
      const rev = await revision();
      expectProblem(await putDraft(a.clinician, id, undefined, oneStep('No If-Match')), 428, 'PRECONDITION_REQUIRED');
      expectProblem(await putDraft(a.clinician, id, '', oneStep('Empty If-Match')), 428, 'PRECONDITION_REQUIRED');
      expect(await revision()).toBe(rev);
      expect(await counts()).toEqual(before);
    });

    it('stale If-Match ("d1" after it became "d2"): 412 PRECONDITION_FAILED naming the current ETag, nothing written', async () => {
      const before = await counts();
      const rev = await revision();
      expect(rev).toBe(2);
      const res = await putDraft(a.clinician, id, '"d1"', oneStep('Stale write'));
      expectProblem(res, 412, 'PRECONDITION_FAILED');
      expect(res.body.currentEtag).toBe('"d2"');
      expect(await revision()).toBe(2);
      expect((await getOne(a.clinician, id)).body.name).toBe('If-Match protocol');
      expect(await counts()).toEqual(before);
    });

    it.each<[string, (rev: number) => string]>([
      ['a weak tag W/"d<current>"', (rev) => `W/"d${rev}"`],
      ['an unquoted tag d<current>', (rev) => `d${rev}`],
      ['a future revision "d<current+1>"', (rev) => `"d${rev + 1}"`],
      ['the version tag "v<current>"', (rev) => `"v${rev}"`],
      ['a list of stale tags', (rev) => `"d0", "d${rev - 1}"`],
    ])('refuses %s with 412 (strong comparison) and writes nothing', async (_label, tag) => {
      const rev = await revision();
      const before = await counts();
      expectProblem(await putDraft(a.clinician, id, tag(rev), oneStep('Weak write')), 412, 'PRECONDITION_FAILED');
      expect(await revision()).toBe(rev);
      expect(await counts()).toEqual(before);
    });

    it('accepts If-Match: * and a list that contains the current tag', async () => {
      const rev = await revision();
      const r1 = await putDraft(a.clinician, id, '*', oneStep('If-Match protocol', { indication: 'star' })).expect(200);
      expect(r1.headers.etag).toBe(`"d${rev + 1}"`);
      const r2 = await putDraft(
        a.clinician,
        id,
        `"d0", "d${rev + 1}"`,
        oneStep('If-Match protocol', { indication: 'list' }),
      ).expect(200);
      expect(r2.headers.etag).toBe(`"d${rev + 2}"`);
      expect(r2.body).toMatchObject({ indication: 'list', draft: { revision: rev + 2 } });
    });

    it('publish with a stale If-Match: 412 and no version; with * or the current tag: 201', async () => {
      const rev = await revision();
      const before = await counts();
      expectProblem(await publish(a.clinician, id, `"d${rev - 1}"`), 412, 'PRECONDITION_FAILED');
      expectProblem(await publish(a.clinician, id, `W/"d${rev}"`), 412, 'PRECONDITION_FAILED');
      expect(await counts()).toEqual(before);
      expect((await getOne(a.clinician, id)).body.versions).toEqual([]);
      const ok = await publish(a.clinician, id, '*');
      expect({ status: ok.status, body: ok.body }).toMatchObject({ status: 201, body: { version: 1 } });
      const next = await putDraft(
        a.clinician,
        id,
        `"d${rev}"`,
        oneStep('If-Match protocol', { indication: 'for v2' }),
      ).expect(200);
      expect((await publish(a.clinician, id, next.headers.etag)).status).toBe(201);
    });

    it('two concurrent PUTs with the same If-Match: exactly one 200 and one 412; the winner is stored (repeated)', async () => {
      for (let round = 0; round < 6; round++) {
        const rev = await revision();
        const before = await counts();
        const bodies = [oneStep(`Racer A ${round}`), oneStep(`Racer B ${round}`)];
        const results = await Promise.all(bodies.map((body) => putDraft(a.clinician, id, `"d${rev}"`, body)));
        expect(results.map((r) => r.status).sort()).toEqual([200, 412]);
        const winner = results.find((r) => r.status === 200)!;
        const loser = results.find((r) => r.status === 412)!;
        expectProblem(loser, 412, 'PRECONDITION_FAILED');
        expect(winner.headers.etag).toBe(`"d${rev + 1}"`);
        const now = await getOne(a.clinician, id).expect(200);
        expect(now.body.draft.revision).toBe(rev + 1);
        expect(now.body.name).toBe(winner.body.name);
        // One audit row for the one write that happened.
        expect(await counts()).toEqual({ ...before, audit: before.audit + 1 });
      }
    });

    it('two concurrent PUTs with If-Match: * both apply, one after the other (RFC 9110: * matches any current draft)', async () => {
      for (let round = 0; round < 6; round++) {
        const rev = await revision();
        const results = await Promise.all(
          [0, 1].map((n) => putDraft(a.clinician, id, '*', oneStep(`Star racer ${round}.${n}`))),
        );
        expect(results.map((r) => r.status)).toEqual([200, 200]);
        expect(results.map((r) => r.body.draft.revision).sort()).toEqual([rev + 1, rev + 2]);
        // Each response shows the request's own write.
        expect(results.map((r) => r.body.name)).toEqual([`Star racer ${round}.0`, `Star racer ${round}.1`]);
        expect(await revision()).toBe(rev + 2);
      }
    });
  });

  describe('immutability of published versions (database trigger)', () => {
    let id: string;
    let v1: VersionBody;
    beforeAll(async () => {
      ({
        protocol: { id },
        v1,
      } = await createPublished(a.clinician, makeProtocol({ name: 'Immutable protocol' })));
    });

    it.each([
      ['steps', `UPDATE protocol_versions SET steps = '[]'::jsonb WHERE protocol_id = $1`],
      [
        'steps (one field inside)',
        `UPDATE protocol_versions SET steps = jsonb_set(steps, '{1,repeat}', '9') WHERE protocol_id = $1`,
      ],
      ['name', `UPDATE protocol_versions SET name = 'renamed' WHERE protocol_id = $1`],
      ['indication', `UPDATE protocol_versions SET indication = 'other' WHERE protocol_id = $1`],
      ['description', `UPDATE protocol_versions SET description = NULL WHERE protocol_id = $1`],
      ['version', `UPDATE protocol_versions SET version = 7 WHERE protocol_id = $1`],
      ['published_at', `UPDATE protocol_versions SET published_at = now() - interval '1 day' WHERE protocol_id = $1`],
      ['published_by', `UPDATE protocol_versions SET published_by = gen_random_uuid() WHERE protocol_id = $1`],
    ])('refuses a direct UPDATE of %s', async (_label, sql) => {
      // As the owner: the service's own role may only set retired_at here (test/api/append-only.spec.ts).
      await expect(t.asOwner(sql, [id])).rejects.toThrow(/immutable/);
      expect((await getVersion(a.frontDesk, id, 1).expect(200)).body).toEqual(v1);
    });

    it('refuses a direct DELETE', async () => {
      await expect(t.asOwner('DELETE FROM protocol_versions WHERE protocol_id = $1', [id])).rejects.toThrow(
        /cannot be deleted/,
      );
      const [{ n }] = await t.dataSource.query(
        'SELECT count(*)::int AS n FROM protocol_versions WHERE protocol_id = $1',
        [id],
      );
      expect(n).toBe(1);
      expect((await getVersion(a.frontDesk, id, 1).expect(200)).body).toEqual(v1);
    });

    it('refuses un-retiring or re-dating a retired version', async () => {
      const { protocol } = await createPublished(a.clinician, oneStep('Unretire me'));
      await retire(a.clinician, protocol.id, 1).expect(200);
      await expect(
        t.dataSource.query('UPDATE protocol_versions SET retired_at = NULL WHERE protocol_id = $1', [protocol.id]),
      ).rejects.toThrow(/immutable/);
      await expect(
        t.dataSource.query(
          `UPDATE protocol_versions SET retired_at = retired_at + interval '1 day' WHERE protocol_id = $1`,
          [protocol.id],
        ),
      ).rejects.toThrow(/immutable/);
      expect((await getVersion(a.frontDesk, protocol.id, 1).expect(200)).body.retiredAt).toBe(NOW);
    });
  });

  describe('retiring versions', () => {
    it('sets retiredAt, is idempotent, moves currentVersion past retired versions (null when all are), keeps them readable', async () => {
      const p = await create(a.clinician, oneStep('Retire protocol'));
      const id = p.body.id;
      const v1 = (await publish(a.clinician, id).expect(201)).body as VersionBody;
      await putDraft(a.clinician, id, '"d1"', oneStep('Retire protocol', { indication: 'v2' })).expect(200);
      const v2 = (await publish(a.clinician, id).expect(201)).body as VersionBody;
      expect((await getOne(a.frontDesk, id)).body.currentVersion).toBe(2);

      // Retire v2: the current version falls back to v1.
      const r = await retire(a.clinician, id, 2);
      expect({ status: r.status, body: r.body }).toMatchObject({ status: 200 });
      expect(r.body).toEqual({ ...v2, retiredAt: NOW });
      let got = (await getOne(a.frontDesk, id).expect(200)).body as ProtocolBody;
      expect(got.currentVersion).toBe(1);
      expect(got.versions).toEqual([
        { version: 1, publishedAt: NOW, retiredAt: null },
        { version: 2, publishedAt: NOW, retiredAt: NOW },
      ]);

      // Again, later: same answer, retiredAt unchanged, no second audit row.
      t.clock.set(t.clock.now().plus({ days: 1 }));
      try {
        const again = await retire(a.admin, id, 2).expect(200);
        expect(again.body).toEqual({ ...v2, retiredAt: NOW });
      } finally {
        t.clock.set(t.clock.now().minus({ days: 1 }));
      }
      expect((await auditFor(id)).filter((e) => e.action === 'protocol.retire')).toHaveLength(1);

      // A retired version is still readable, unchanged apart from retiredAt.
      const read2 = await getVersion(a.frontDesk, id, 2).expect(200);
      expect(read2.body).toEqual({ ...v2, retiredAt: NOW });
      expect(read2.headers.etag).toBe('"v2"');

      // Retire v1 too: no current version.
      await retire(a.clinician, id, 1).expect(200);
      got = (await getOne(a.frontDesk, id).expect(200)).body as ProtocolBody;
      expect(got.currentVersion).toBeNull();
      expect(got.versions.map((v) => v.retiredAt)).toEqual([NOW, NOW]);
      expect((await getVersion(a.frontDesk, id, 1).expect(200)).body).toEqual({ ...v1, retiredAt: NOW });

      // A new version becomes current.
      const d = (await getOne(a.clinician, id)).headers.etag;
      await putDraft(a.clinician, id, d, oneStep('Retire protocol', { indication: 'v3' })).expect(200);
      expect((await publish(a.clinician, id).expect(201)).body.version).toBe(3);
      expect((await getOne(a.frontDesk, id)).body.currentVersion).toBe(3);
    });

    it('two concurrent retires of one version: both 200 with the same retiredAt, one audit row (repeated)', async () => {
      for (let round = 0; round < 4; round++) {
        const { protocol } = await createPublished(a.clinician, oneStep(`Concurrent retire ${round}`));
        const results = await Promise.all([retire(a.clinician, protocol.id, 1), retire(a.admin, protocol.id, 1)]);
        expect(results.map((r) => r.status)).toEqual([200, 200]);
        expect(results.map((r) => r.body.retiredAt)).toEqual([NOW, NOW]);
        // Only one of them retired the version; only that one may be recorded as a retire.
        expect((await auditFor(protocol.id)).filter((e) => e.action === 'protocol.retire')).toHaveLength(1);
      }
    });

    it('retiring an older version keeps the newest current', async () => {
      const p = await create(a.clinician, oneStep('Retire older'));
      await publish(a.clinician, p.body.id).expect(201);
      await putDraft(a.clinician, p.body.id, '"d1"', oneStep('Retire older', { indication: 'v2' })).expect(200);
      await publish(a.clinician, p.body.id).expect(201);
      await retire(a.clinician, p.body.id, 1).expect(200);
      const got = (await getOne(a.frontDesk, p.body.id)).body as ProtocolBody;
      expect(got.currentVersion).toBe(2);
      expect(got.versions.map((v) => v.retiredAt)).toEqual([NOW, null]);
    });

    it('is 404 for a version that does not exist, and retires nothing', async () => {
      const p = await create(a.clinician, oneStep('Retire missing'));
      const before = await counts();
      expectProblem(await retire(a.clinician, p.body.id, 1), 404, 'PROTOCOL_VERSION_NOT_FOUND');
      expectProblem(await retire(a.clinician, randomUUID(), 1), 404, 'PROTOCOL_NOT_FOUND');
      expect(await counts()).toEqual(before);
    });
  });

  describe('validation: 400 naming the field, nothing written', () => {
    const gap = (min: number, target: number, max: number, unit = 'days') => ({ min, target, max, unit });
    const intake = makeSteps()[0];
    const cases: [string, Record<string, unknown>, string[]][] = [
      // Gaps
      ['spacing max below min', makeProtocol({}, (s) => (s[1].spacing = gap(3, 3, 2))), ['steps.1.spacing.max']],
      ['spacing target above max', makeProtocol({}, (s) => (s[1].spacing.target = 5)), ['steps.1.spacing.target']],
      ['spacing target below min', makeProtocol({}, (s) => (s[1].spacing = gap(2, 1, 4))), ['steps.1.spacing.target']],
      ['after gap max below min', makeProtocol({}, (s) => (s[1].after.gap = gap(5, 5, 3))), ['steps.1.after.gap.max']],
      [
        'attached gap target outside its range',
        makeProtocol({}, (s) => (s[2].attachedTo.gap.target = 30)),
        ['steps.2.attachedTo.gap.target'],
      ],
      ['a negative gap', makeProtocol({}, (s) => (s[1].spacing = gap(-1, 2, 4))), ['steps.1.spacing.min']],
      ['an unknown gap unit', makeProtocol({}, (s) => (s[1].spacing.unit = 'weeks')), ['steps.1.spacing.unit']],
      [
        'an unknown after-gap unit',
        makeProtocol({}, (s) => (s[1].after.gap.unit = 'minutes')),
        ['steps.1.after.gap.unit'],
      ],
      [
        'sameDay with a gap of at least a day',
        makeProtocol({}, (s) => (s[2].attachedTo = { ...s[2].attachedTo, gap: gap(1, 1, 2), sameDay: true })),
        ['steps.2.attachedTo.sameDay'],
      ],
      // Durations
      ['durationMinutes 0', makeProtocol({}, (s) => (s[0].durationMinutes = 0)), ['steps.0.durationMinutes']],
      ['negative durationMinutes', makeProtocol({}, (s) => (s[0].durationMinutes = -30)), ['steps.0.durationMinutes']],
      [
        'fractional durationMinutes',
        makeProtocol({}, (s) => (s[0].durationMinutes = 30.5)),
        ['steps.0.durationMinutes'],
      ],
      ['negative recoveryMinutes', makeProtocol({}, (s) => (s[1].recoveryMinutes = -1)), ['steps.1.recoveryMinutes']],
      // Doses
      ['dose amount above its range', makeProtocol({}, (s) => (s[1].dose.amount = 1.5)), ['steps.1.dose.amount']],
      ['dose amount below its range', makeProtocol({}, (s) => (s[1].dose.amount = 0.05)), ['steps.1.dose.amount']],
      [
        'dose max below min',
        makeProtocol({}, (s) => (s[1].dose = { ...s[1].dose, min: 1, max: 0.5, amount: 0.7 })),
        ['steps.1.dose.max'],
      ],
      ['a zero dose amount', makeProtocol({}, (s) => (s[1].dose.amount = 0)), ['steps.1.dose.amount']],
      ['a dose with four decimals', makeProtocol({}, (s) => (s[1].dose.amount = 0.5001)), ['steps.1.dose.amount']],
      ['an unknown dose unit', makeProtocol({}, (s) => (s[1].dose.unit = 'ml')), ['steps.1.dose.unit']],
      [
        'infusionMinutes longer than durationMinutes',
        makeProtocol({}, (s) => (s[1].dose.infusionMinutes = 45)),
        ['steps.1.dose.infusionMinutes'],
      ],
      [
        'escalation above the range by the last occurrence',
        makeProtocol({}, (s) => (s[1].dose.escalationPerOccurrence = 0.1)),
        ['steps.1.dose.escalationPerOccurrence'],
      ],
      [
        'a taper below the range by the last occurrence',
        makeProtocol({}, (s) => (s[1].dose.escalationPerOccurrence = -0.1)),
        ['steps.1.dose.escalationPerOccurrence'],
      ],
      // Kinds, roles, keys
      ['an unknown kind', makeProtocol({}, (s) => (s[0].kind = 'surgery')), ['steps.0.kind']],
      ['an unknown staff role', makeProtocol({}, (s) => (s[0].staffRole = 'surgeon')), ['steps.0.staffRole']],
      ['a key with capitals', makeProtocol({}, (s) => (s[0].key = 'Intake')), ['steps.0.key']],
      ['a duplicate key', makeProtocol({}, (s) => (s[4].key = 'intake')), ['steps.4.key']],
      // References
      [
        'a step depending on a later step',
        makeProtocol({}, (s) => (s[1].after.step = 'follow_up')),
        ['steps.1.after.step'],
      ],
      ['a step depending on itself', makeProtocol({}, (s) => (s[1].after.step = 'infusion')), ['steps.1.after.step']],
      [
        'a step depending on an unknown step',
        makeProtocol({}, (s) => (s[1].after.step = 'nope')),
        ['steps.1.after.step'],
      ],
      [
        'a step attached to a later step',
        makeProtocol({}, (s) => (s[2].attachedTo.step = 'booster')),
        ['steps.2.attachedTo.step'],
      ],
      [
        'a step attached to an unknown step',
        makeProtocol({}, (s) => (s[2].attachedTo.step = 'ghost')),
        ['steps.2.attachedTo.step'],
      ],
      // Repeats
      ['repeat 0', makeProtocol({}, (s) => (s[1].repeat = 0)), ['steps.1.repeat']],
      ['repeat 53', makeProtocol({}, (s) => (s[1].repeat = 53)), ['steps.1.repeat']],
      ['repeatMin above repeat', makeProtocol({}, (s) => (s[1].repeatMin = 7)), ['steps.1.repeatMin']],
      ['repeatMax below repeat', makeProtocol({}, (s) => (s[1].repeatMax = 5)), ['steps.1.repeatMax']],
      ['a repeating step without spacing', makeProtocol({}, (s) => delete s[1].spacing), ['steps.1.spacing']],
      [
        'a step that may repeat (repeatMax 3) without spacing',
        makeProtocol({}, (s) => (s[3].repeatMax = 3)),
        ['steps.3.spacing'],
      ],
      ['an attached step with repeat 2', makeProtocol({}, (s) => (s[2].repeat = 2)), ['steps.2.repeat']],
      // Span
      [
        'a span over 365 days (52 infusions 8 days apart)',
        makeProtocol({}, (s) => Object.assign(s[1], { repeat: 52, repeatMax: 52, spacing: gap(1, 2, 8) })),
        ['steps'],
      ],
      ['a span of 366 days', makeProtocol({}, (s) => (s[4].after.gap = gap(28, 28, 314))), ['steps']],
      // Shape
      ['an unknown field inside a step', makeProtocol({}, (s) => (s[0].colour = 'blue')), ['steps.0.colour']],
      ['an unknown field inside a dose', makeProtocol({}, (s) => (s[1].dose.route = 'iv')), ['steps.1.dose.route']],
      ['an unknown top-level field', makeProtocol({ colour: 'blue' }), ['colour']],
      ['an empty steps array', makeProtocol({ steps: [] }), ['steps']],
      ['no steps', makeProtocol({ steps: undefined }), ['steps']],
      ['steps as a string', makeProtocol({ steps: 'intake' }), ['steps']],
      [
        '31 steps',
        makeProtocol({ steps: Array.from({ length: 31 }, (_, i) => ({ ...intake, key: `s${i}` })) }),
        ['steps'],
      ],
      ['an empty name', makeProtocol({ name: '' }), ['name']],
      ['a missing indication', makeProtocol({ indication: undefined }), ['indication']],
      ['weekday 0', makeProtocol({}, (s) => (s[0].weekdays = [0, 1])), ['steps.0.weekdays']],
      [
        'two problems at once',
        makeProtocol({}, (s) => ((s[1].spacing.max = 0.5), (s[3].after.step = 'booster'))),
        ['steps.1.spacing.max', 'steps.3.after.step'],
      ],
    ];

    it.each(cases)('POST refuses %s', async (_label, body, fields) => {
      const before = await counts();
      const res = await api().post('/v1/protocols').set(bearer(a.clinician)).send(body);
      expectProblem(res, 400, 'VALIDATION_FAILED', fields);
      expect(await counts()).toEqual(before);
    });

    describe('PUT …/draft', () => {
      let id: string;
      let draft: ProtocolBody;
      beforeAll(async () => {
        const p = await create(a.clinician, makeProtocol({ name: 'Validation target' }));
        id = p.body.id;
        draft = p.body;
      });

      it.each(cases)('refuses %s and leaves the draft as it was', async (_label, body, fields) => {
        const before = await counts();
        const res = await putDraft(a.clinician, id, '"d1"', body);
        expectProblem(res, 400, 'VALIDATION_FAILED', fields);
        expect(await counts()).toEqual(before);
        const now = await getOne(a.clinician, id).expect(200);
        expect(now.headers.etag).toBe('"d1"');
        expect(now.body).toEqual(draft);
      });

      it('refuses a clinicId in the draft (a protocol cannot move clinics)', async () => {
        expectProblem(
          await putDraft(a.clinician, id, '"d1"', makeProtocol({ clinicId: b.clinicId })),
          400,
          'VALIDATION_FAILED',
          ['clinicId'],
        );
      });
    });

    it.each<[string, Record<string, unknown>]>([
      ['a span of exactly 365 days', makeProtocol({}, (s) => (s[4].after.gap = gap(28, 28, 313)))],
      [
        'escalation that stays in range (0.5 + 7 × 0.07 = 0.99)',
        makeProtocol({}, (s) => (s[1].dose.escalationPerOccurrence = 0.07)),
      ],
      ['a taper that stays in range', makeProtocol({}, (s) => (s[1].dose.escalationPerOccurrence = -0.05))],
      ['dose amount at the range bounds', makeProtocol({}, (s) => ((s[1].dose.amount = 0.1), (s[4].dose.amount = 1)))],
      ['infusionMinutes equal to durationMinutes', makeProtocol({}, (s) => (s[1].dose.infusionMinutes = 40))],
      ['gaps in hours with min = target = max', makeProtocol({}, (s) => (s[1].spacing = gap(48, 48, 48, 'hours')))],
      [
        '52 infusions one day apart',
        makeProtocol({}, (s) => Object.assign(s[1], { repeat: 52, repeatMax: 52, spacing: gap(1, 1, 1) })),
      ],
      ['a single step without description', oneStep('Single step', { description: undefined })],
    ])('accepts %s', async (_label, body) => {
      const res = await api().post('/v1/protocols').set(bearer(a.clinician)).send(body);
      expect({ status: res.status, body: res.body }).toMatchObject({
        status: 201,
        body: { draft: { steps: body.steps } },
      });
    });

    it('publish re-validates the draft: an invalid draft (written behind the API) is refused naming the field, no version made', async () => {
      const p = await create(a.clinician, makeProtocol({ name: 'Corrupted draft' }));
      await t.dataSource.query(
        `UPDATE protocols SET draft_steps = jsonb_set(draft_steps, '{1,spacing,max}', '0') WHERE id = $1`,
        [p.body.id],
      );
      const before = await counts();
      expectProblem(await publish(a.clinician, p.body.id), 400, 'VALIDATION_FAILED', ['steps.1.spacing.max']);
      expect(await counts()).toEqual(before);
    });
  });

  describe('roles', () => {
    let id: string;
    beforeAll(async () => {
      ({
        protocol: { id },
      } = await createPublished(a.clinician, oneStep('Roles protocol')));
    });

    it('front desk can read the list, one protocol and a version', async () => {
      const list = await api().get('/v1/protocols').set(bearer(a.frontDesk)).expect(200);
      expect(list.body.items.map((p: ProtocolBody) => p.id)).toContain(id);
      const one = await getOne(a.frontDesk, id).expect(200);
      expect(one.headers.etag).toBe('"d1"');
      const v = await getVersion(a.frontDesk, id, 1).expect(200);
      expect(v.headers.etag).toBe('"v1"');
    });

    it('front desk gets 403 on create, draft, publish and retire, and nothing changes', async () => {
      const before = await counts();
      const snapshot = (await getOne(a.clinician, id)).body;
      expectProblem(
        await api().post('/v1/protocols').set(bearer(a.frontDesk)).send(oneStep('Front desk made')),
        403,
        'FORBIDDEN',
      );
      expectProblem(await putDraft(a.frontDesk, id, '"d1"', oneStep('Front desk edit')), 403, 'FORBIDDEN');
      expectProblem(await publish(a.frontDesk, id, '"d1"'), 403, 'FORBIDDEN');
      expectProblem(await retire(a.frontDesk, id, 1), 403, 'FORBIDDEN');
      expect(await counts()).toEqual(before);
      expect((await getOne(a.clinician, id)).body).toEqual(snapshot);
    });

    it.each(['clinician', 'admin'] as const)('the %s role can create, edit, publish and retire', async (role) => {
      const p = await create(a[role], oneStep(`Made by ${role}`));
      expect(p.body.clinicId).toBe(a.clinicId);
      await putDraft(a[role], p.body.id, p.etag, oneStep(`Made by ${role}`, { indication: 'edited' })).expect(200);
      expect((await publish(a[role], p.body.id, '"d2"')).status).toBe(201);
      expect((await retire(a[role], p.body.id, 1).expect(200)).body.retiredAt).toBe(NOW);
    });

    it.each([
      ['post', '/v1/protocols'],
      ['get', '/v1/protocols'],
      ['get', `/v1/protocols/${randomUUID()}`],
      ['put', `/v1/protocols/${randomUUID()}/draft`],
      ['post', `/v1/protocols/${randomUUID()}/publish`],
      ['get', `/v1/protocols/${randomUUID()}/versions/1`],
      ['post', `/v1/protocols/${randomUUID()}/versions/1/retire`],
    ] as const)('%s %s without a key or with an unknown key is 401', async (method, path) => {
      const body = method === 'get' ? undefined : oneStep('No key');
      expectProblem(await api()[method](path).send(body), 401, 'UNAUTHENTICATED');
      expectProblem(await api()[method](path).set(bearer('not-a-real-key')).send(body), 401, 'UNAUTHENTICATED');
    });

    it('a request without a key writes nothing', async () => {
      const before = await counts();
      await api().post('/v1/protocols').send(oneStep('Anonymous')).expect(401);
      await api().put(`/v1/protocols/${id}/draft`).set('If-Match', '"d1"').send(oneStep('Anonymous')).expect(401);
      expect(await counts()).toEqual(before);
    });
  });

  describe('clinic scoping and operator keys', () => {
    let id: string;
    beforeAll(async () => {
      ({
        protocol: { id },
      } = await createPublished(a.clinician, oneStep('Alpha only')));
    });

    it("another clinic's keys get 404 for the protocol and its versions, as for an unknown id, and change nothing", async () => {
      const before = await counts();
      const snapshot = (await getOne(a.clinician, id)).body;
      const unknown = await getOne(b.admin, randomUUID());
      expectProblem(unknown, 404, 'PROTOCOL_NOT_FOUND');
      for (const key of [b.frontDesk, b.clinician, b.admin]) {
        const res = await getOne(key, id);
        expectProblem(res, 404, 'PROTOCOL_NOT_FOUND');
        expect(res.body.detail).toBe(unknown.body.detail);
        expectProblem(await getVersion(key, id, 1), 404, 'PROTOCOL_NOT_FOUND');
      }
      expectProblem(await putDraft(b.clinician, id, '"d1"', oneStep('Hijack')), 404, 'PROTOCOL_NOT_FOUND');
      expectProblem(await putDraft(b.admin, id, '*', oneStep('Hijack')), 404, 'PROTOCOL_NOT_FOUND');
      expectProblem(await publish(b.clinician, id), 404, 'PROTOCOL_NOT_FOUND');
      expectProblem(await retire(b.admin, id, 1), 404, 'PROTOCOL_NOT_FOUND');
      expect(await counts()).toEqual(before);
      expect((await getOne(a.clinician, id)).body).toEqual(snapshot);
    });

    it("another clinic's list never shows it, even when asking for that clinic", async () => {
      const ids = async (key: string, query: Record<string, string> = {}) =>
        (
          (
            await api()
              .get('/v1/protocols')
              .query({ limit: 200, ...query })
              .set(bearer(key))
              .expect(200)
          ).body.items as ProtocolBody[]
        ).map((p) => p.id);
      expect(await ids(b.frontDesk)).not.toContain(id);
      expect(await ids(b.frontDesk, { clinicId: a.clinicId })).toEqual([]);
      expect(await ids(a.frontDesk)).toContain(id);
    });

    it('a clinic key naming another clinic on create gets 404 CLINIC_NOT_FOUND and writes nothing', async () => {
      const before = await counts();
      expectProblem(
        await api()
          .post('/v1/protocols')
          .set(bearer(a.clinician))
          .send(oneStep('Elsewhere', { clinicId: b.clinicId })),
        404,
        'CLINIC_NOT_FOUND',
      );
      expect(await counts()).toEqual(before);
      const own = await create(a.clinician, oneStep('Own clinic named', { clinicId: a.clinicId }));
      expect(own.body.clinicId).toBe(a.clinicId);
    });

    it('an operator key must name the clinic on create: 400 naming clinicId (or 404 for an unknown one), nothing written', async () => {
      const before = await counts();
      expectProblem(
        await api().post('/v1/protocols').set(bearer(operator)).send(oneStep('Operator made')),
        400,
        'VALIDATION_FAILED',
        ['clinicId'],
      );
      expectProblem(
        await api()
          .post('/v1/protocols')
          .set(bearer(operator))
          .send(oneStep('Operator made', { clinicId: randomUUID() })),
        404,
        'CLINIC_NOT_FOUND',
      );
      expectProblem(
        await api()
          .post('/v1/protocols')
          .set(bearer(operator))
          .send(oneStep('Operator made', { clinicId: 'beta' })),
        400,
        'VALIDATION_FAILED',
        ['clinicId'],
      );
      expect(await counts()).toEqual(before);
    });

    it('an operator key creates in the named clinic and reads and writes across clinics', async () => {
      const made = await create(operator, oneStep('Operator made', { clinicId: b.clinicId }));
      expect(made.body.clinicId).toBe(b.clinicId);
      expect((await getOne(b.frontDesk, made.body.id).expect(200)).body).toEqual(made.body);
      expectProblem(await getOne(a.frontDesk, made.body.id), 404, 'PROTOCOL_NOT_FOUND');

      expect((await getOne(operator, id).expect(200)).body.clinicId).toBe(a.clinicId);
      expect((await getVersion(operator, id, 1).expect(200)).body).toMatchObject({ clinicId: a.clinicId, version: 1 });
      await putDraft(operator, made.body.id, '"d1"', oneStep('Operator made', { indication: 'by operator' })).expect(
        200,
      );
      expect((await publish(operator, made.body.id)).status).toBe(201);

      const all = await api().get('/v1/protocols').query({ limit: 200 }).set(bearer(operator)).expect(200);
      const clinics = new Set((all.body.items as ProtocolBody[]).map((p) => p.clinicId));
      expect(clinics).toEqual(new Set([a.clinicId, b.clinicId]));
      const onlyB = await api()
        .get('/v1/protocols')
        .query({ limit: 200, clinicId: b.clinicId })
        .set(bearer(operator))
        .expect(200);
      expect((onlyB.body.items as ProtocolBody[]).map((p) => p.id)).toContain(made.body.id);
      expect((onlyB.body.items as ProtocolBody[]).every((p) => p.clinicId === b.clinicId)).toBe(true);
    });
  });

  describe('GET /v1/protocols (list)', () => {
    let c: ClinicKeys;
    const made: string[] = [];
    beforeAll(async () => {
      c = await persistClinicWithKeys(t.app, { name: 'List Clinic' });
      for (const name of ['Protocol C', 'Protocol A', 'Protocol B', 'Protocol A', 'protocol a'])
        made.push((await create(c.clinician, oneStep(name))).body.id);
    });
    const page = async (query: Record<string, string | number>) => {
      const res = await api().get('/v1/protocols').query(query).set(bearer(c.frontDesk));
      expect({ status: res.status, body: res.body }).toMatchObject({ status: 200 });
      return res.body as { items: ProtocolBody[]; nextCursor: string | null };
    };

    it('pages with limit=1 (and 2) through every protocol of the clinic exactly once, in name order', async () => {
      const expected: { id: string }[] = await t.dataSource.query(
        'SELECT id FROM protocols WHERE clinic_id = $1 ORDER BY name, id',
        [c.clinicId],
      );
      expect(expected.map((r) => r.id).sort()).toEqual([...made].sort());
      for (const limit of [1, 2]) {
        const seen: string[] = [];
        let cursor: string | null = null;
        for (let i = 0; i < 20; i++) {
          const p = await page(cursor ? { limit, cursor } : { limit });
          expect(p.items.length).toBeLessThanOrEqual(limit);
          seen.push(...p.items.map((x) => x.id));
          cursor = p.nextCursor;
          if (cursor === null) break;
        }
        expect(cursor).toBeNull();
        expect(seen).toEqual(expected.map((r) => r.id));
      }
    });

    it('shows each protocol with its draft and versions, as GET one does', async () => {
      const id = made[0];
      await publish(c.clinician, id).expect(201);
      await putDraft(c.clinician, id, '"d1"', oneStep('Protocol C', { indication: 'next' })).expect(200);
      const items = (await page({ limit: 200 })).items;
      const item = items.find((p) => p.id === id)!;
      expect(item).toMatchObject({
        draft: { revision: 2, changed: true },
        versions: [{ version: 1, publishedAt: NOW, retiredAt: null }],
        currentVersion: 1,
      });
      expect(item).toEqual((await getOne(c.frontDesk, id).expect(200)).body);
      const unpublished = items.find((p) => p.id === made[1])!;
      expect(unpublished).toMatchObject({ draft: { revision: 1, changed: true }, versions: [], currentVersion: null });
    });

    it.each<[string, Record<string, string>, string]>([
      ['a garbage cursor', { cursor: 'garbage' }, 'cursor'],
      ['limit 0', { limit: '0' }, 'limit'],
      ['limit 201', { limit: '201' }, 'limit'],
      ['a malformed clinicId', { clinicId: 'abc' }, 'clinicId'],
      ['an unknown parameter', { name: 'x' }, 'name'],
    ])('refuses %s with 400 naming it', async (_label, query, field) => {
      expectProblem(await api().get('/v1/protocols').query(query).set(bearer(c.frontDesk)), 400, 'VALIDATION_FAILED', [
        field,
      ]);
    });
  });

  describe('path parameters', () => {
    let id: string;
    beforeAll(async () => {
      ({
        protocol: { id },
      } = await createPublished(a.clinician, oneStep('Path params')));
    });

    it.each([
      ['get', '/v1/protocols/not-a-uuid'],
      ['put', '/v1/protocols/not-a-uuid/draft'],
      ['post', '/v1/protocols/not-a-uuid/publish'],
      ['get', '/v1/protocols/1234/versions/1'],
      ['post', '/v1/protocols/not-a-uuid/versions/1/retire'],
    ] as const)('%s %s is 400 naming protocolId', async (method, path) => {
      const r = api()[method](path).set(bearer(a.clinician)).set('If-Match', '*');
      expectProblem(await r.send(method === 'get' ? undefined : oneStep('x')), 400, 'VALIDATION_FAILED', [
        'protocolId',
      ]);
    });

    it.each(['abc', '1.5', '1e2', '0x1'])('version %s is 400 naming version (GET and retire)', async (v) => {
      expectProblem(await getVersion(a.frontDesk, id, v), 400, 'VALIDATION_FAILED', ['version']);
      expectProblem(await retire(a.clinician, id, v), 400, 'VALIDATION_FAILED', ['version']);
    });

    it.each(['2147483648', '99999999999999999999'])(
      'version %s (beyond any integer version) is 400 naming version, never 500',
      async (v) => {
        expectProblem(await getVersion(a.frontDesk, id, v), 400, 'VALIDATION_FAILED', ['version']);
        expectProblem(await retire(a.clinician, id, v), 400, 'VALIDATION_FAILED', ['version']);
      },
    );

    // The controller's own contract: "version must be a positive integer" (and the table has CHECK (version >= 1)).
    it.each(['0', '-1'])('version %s (not positive) is 400 naming version', async (v) => {
      expectProblem(await getVersion(a.frontDesk, id, v), 400, 'VALIDATION_FAILED', ['version']);
      expectProblem(await retire(a.clinician, id, v), 400, 'VALIDATION_FAILED', ['version']);
    });

    it('version 99 is 404 PROTOCOL_VERSION_NOT_FOUND; an unknown protocol is 404 PROTOCOL_NOT_FOUND', async () => {
      expectProblem(await getVersion(a.frontDesk, id, 99), 404, 'PROTOCOL_VERSION_NOT_FOUND');
      expectProblem(await getVersion(a.frontDesk, id, 2), 404, 'PROTOCOL_VERSION_NOT_FOUND');
      expectProblem(await getVersion(a.frontDesk, randomUUID(), 1), 404, 'PROTOCOL_NOT_FOUND');
      expectProblem(await getOne(a.frontDesk, randomUUID()), 404, 'PROTOCOL_NOT_FOUND');
      expectProblem(await putDraft(a.clinician, randomUUID(), '*', oneStep('x')), 404, 'PROTOCOL_NOT_FOUND');
      expectProblem(await publish(a.clinician, randomUUID()), 404, 'PROTOCOL_NOT_FOUND');
    });
  });

  describe('audit trail', () => {
    it('create, draft replace, publish and retire each leave one row with the action, actor and clinic', async () => {
      const p = await create(a.clinician, oneStep('Audited protocol'));
      const id = p.body.id;
      await putDraft(a.admin, id, '"d1"', oneStep('Audited protocol', { indication: 'edited' })).expect(200);
      await publish(a.clinician, id, '"d2"').expect(201);
      await retire(a.admin, id, 1).expect(200);
      const [clinician, admin] = [await keyId(a.clinician), await keyId(a.admin)];
      expect(await auditFor(id)).toEqual([
        {
          clinic_id: a.clinicId,
          actor_key_id: clinician,
          actor_role: 'clinician',
          action: 'protocol.create',
          entity_type: 'protocol',
          entity_id: id,
        },
        {
          clinic_id: a.clinicId,
          actor_key_id: admin,
          actor_role: 'admin',
          action: 'protocol.draft.replace',
          entity_type: 'protocol',
          entity_id: id,
        },
        {
          clinic_id: a.clinicId,
          actor_key_id: clinician,
          actor_role: 'clinician',
          action: 'protocol.publish',
          entity_type: 'protocol_version',
          entity_id: id,
        },
        {
          clinic_id: a.clinicId,
          actor_key_id: admin,
          actor_role: 'admin',
          action: 'protocol.retire',
          entity_type: 'protocol_version',
          entity_id: id,
        },
      ]);
    });

    it('refused writes leave no audit rows', async () => {
      const p = await create(a.clinician, oneStep('Audited refusals'));
      const id = p.body.id;
      expectProblem(await putDraft(a.clinician, id, '"d9"', oneStep('x')), 412, 'PRECONDITION_FAILED');
      expectProblem(await putDraft(a.clinician, id, undefined, oneStep('x')), 428, 'PRECONDITION_REQUIRED');
      expectProblem(await putDraft(a.clinician, id, '"d1"', makeProtocol({ steps: [] })), 400, 'VALIDATION_FAILED');
      expectProblem(await publish(a.frontDesk, id), 403, 'FORBIDDEN');
      await publish(a.clinician, id).expect(201);
      expectProblem(await publish(a.clinician, id), 409, 'DRAFT_UNCHANGED');
      expect((await auditFor(id)).map((r) => r.action)).toEqual(['protocol.create', 'protocol.publish']);
    });
  });
});
