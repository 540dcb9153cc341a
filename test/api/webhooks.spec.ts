import { jest } from '@jest/globals';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import request from 'supertest';
import { WebhookDeliveryWorker } from '../../src/webhooks/webhook-delivery.worker.js';
import { messagePublicId, WEBHOOK_EVENT_TYPES } from '../../src/webhooks/webhook-event-types.js';
import { WebhookSender } from '../../src/webhooks/webhook-sender.js';
import { WebhookOutboxRepository } from '../../src/webhooks/webhook-outbox.repository.js';
import { persistOperatorKey } from '../factories/clinic.factory.js';
import { bookPlan, setupClinic, type ClinicSetup } from '../factories/series.factory.js';
import { expectProblem } from '../support/problem.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// ---------------------------------------------------------------------------------------------
// Signed webhooks (Standard Webhooks) sent from the transactional outbox. Triggers write one
// message per subscribed endpoint in the transaction of each change; the delivery worker claims
// due messages (SKIP LOCKED, leased), POSTs them signed to a real receiver on 127.0.0.1 and
// records every attempt. Delivery is off (pollMs 0) and the tests drive `runOnce()` themselves,
// except where a second instance polls on its own.
// ---------------------------------------------------------------------------------------------

type Json = Record<string, any>;

interface Received {
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** What the receiver does with the n-th request (from 1). */
type Reply = (n: number) => { status: number; headers?: Record<string, string>; hang?: boolean; delayMs?: number };

interface Receiver {
  url: string;
  port: number;
  received: Received[];
  reply: Reply;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const RETRIES = [0.05, 0.05]; // three attempts in all
/**
 * How long a send may take. Generous: the receiver runs in this process, and a loaded machine can
 * hold an answer back for longer than a short budget, which counts the attempt as a timeout and
 * sends the message again (at least once, allowed, but not what these tests count). Only the test
 * of a receiver that never answers uses a short one, on an instance of its own.
 */
const SEND_TIMEOUT_MS = 10_000;
const SHORT_TIMEOUT_MS = 1000;
// Waits are bounded polls, not fixed sleeps; the budgets leave room for a busy machine.
jest.setTimeout(90_000);

/** A webhook receiver that keeps the raw bytes and headers of everything it gets. */
async function startReceiver(reply: Reply = () => ({ status: 204 })): Promise<Receiver> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: flat(req.headers), body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      const r = rx.reply(received.length);
      if (r.hang) return; // never answers
      const answer = () => res.writeHead(r.status, r.headers).end();
      if (r.delayMs) setTimeout(answer, r.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const rx: Receiver = {
    url: `http://127.0.0.1:${port}/hooks/chairside`,
    port,
    received,
    reply,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return rx;
}

function flat(h: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]));
}

describe('webhooks (/v1/webhooks) and outbox delivery', () => {
  let t: TestApp;
  let A: ClinicSetup;
  let B: ClinicSetup;
  let operator: string;
  const receivers: Receiver[] = [];
  const api = () => request(t.http);
  const worker = () => t.app.get(WebhookDeliveryWorker);

  beforeAll(async () => {
    t = await startTestApp({
      webhooks: { pollMs: 0, allowPrivateNetworks: true, timeoutMs: SEND_TIMEOUT_MS, retryDelaysSeconds: RETRIES },
    });
    A = await setupClinic(t.app, t.http, 'Hook A');
    B = await setupClinic(t.app, t.http, 'Hook B');
    operator = await persistOperatorKey(t.app);
  });

  afterEach(async () => {
    // Each test starts with no live endpoint and nothing queued.
    await t.dataSource.query(
      `UPDATE webhook_messages SET status = 'cancelled', leased_until = NULL WHERE status = 'pending'`,
    );
    await t.dataSource.query(`UPDATE webhook_endpoints SET status = 'deleted' WHERE status <> 'deleted'`);
    while (receivers.length) await receivers.pop()!.close();
  });

  afterAll(async () => {
    await t?.close();
  });

  const receiver = async (reply?: Reply) => {
    const rx = await startReceiver(reply);
    receivers.push(rx);
    return rx;
  };

  async function createEndpoint(s: ClinicSetup, body: Json): Promise<Json> {
    const res = await api().post('/v1/webhooks').set(bearer(s.keys.admin)).send(body);
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 201 });
    return res.body as Json;
  }

  async function messagesOf(s: ClinicSetup, endpointId: string, query = ''): Promise<Json[]> {
    const items: Json[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `${query}${query ? '&' : ''}limit=200${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await api().get(`/v1/webhooks/${endpointId}/messages?${q}`).set(bearer(s.keys.admin));
      expect(res.status).toBe(200);
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    return items;
  }

  /** Runs delivery rounds until `done` holds; fails after `ms`. */
  async function deliverUntil(
    done: () => boolean | Promise<boolean>,
    ms = 30_000,
    w: WebhookDeliveryWorker = worker(),
  ): Promise<void> {
    // performance.now(), not Date.now(): one test fakes Date.
    const deadline = performance.now() + ms;
    for (;;) {
      await w.runOnce();
      if (await done()) return;
      if (performance.now() > deadline) throw new Error('delivery did not finish in time');
      await sleep(20);
    }
  }

  const pendingCount = async (): Promise<number> =>
    Number((await t.dataSource.query(`SELECT count(*) AS n FROM webhook_messages WHERE status = 'pending'`))[0].n);

  const verify = (secret: string, r: Received) => new Webhook(secret).verify(r.body, r.headers) as Json;

  // ---------------------------------------------------------------------------------------------
  describe('endpoints API', () => {
    it('create: 201 with the signing secret, shown once; GET and the list never return it; audited', async () => {
      const res = await api()
        .post('/v1/webhooks')
        .set(bearer(A.keys.admin))
        .send({
          url: 'https://example.org/hooks',
          eventTypes: ['session.cancelled', 'session.created'],
          description: 'Reminders',
        });
      expect(res.status).toBe(201);
      const created = res.body as Json;
      expect(created).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        clinicId: A.keys.clinicId,
        url: 'https://example.org/hooks',
        eventTypes: ['session.created', 'session.cancelled'],
        description: 'Reminders',
        status: 'active',
        statusReason: null,
        createdAt: expect.any(String),
        secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      });
      expect(Buffer.from(created.secret.slice('whsec_'.length), 'base64')).toHaveLength(32);

      const other = await createEndpoint(A, { url: 'https://example.org/other', eventTypes: ['plan.booked'] });
      expect(other.secret).not.toBe(created.secret);

      const got = await api().get(`/v1/webhooks/${created.id}`).set(bearer(A.keys.admin)).expect(200);
      const { secret: _secret, ...withoutSecret } = created;
      expect(got.body).toEqual(withoutSecret);
      const list = await api().get('/v1/webhooks').set(bearer(A.keys.admin)).expect(200);
      expect(list.body.items.map((e: Json) => e.id)).toEqual([other.id, created.id]);
      expect(JSON.stringify(list.body)).not.toContain('whsec_');
      expect(JSON.stringify(got.body)).not.toContain('whsec_');

      const audit = await t.dataSource.query(
        `SELECT action, entity_id, clinic_id FROM audit_events WHERE entity_id = $1`,
        [created.id],
      );
      expect(audit).toEqual([{ action: 'webhook.create', entity_id: created.id, clinic_id: A.keys.clinicId }]);
    });

    it('the list pages with a cursor', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++)
        ids.push((await createEndpoint(A, { url: `https://example.org/${i}`, eventTypes: ['plan.booked'] })).id);
      const p1 = await api().get('/v1/webhooks?limit=2').set(bearer(A.keys.admin)).expect(200);
      expect(p1.body.items).toHaveLength(2);
      expect(p1.body.nextCursor).toEqual(expect.any(String));
      const p2 = await api()
        .get(`/v1/webhooks?limit=2&cursor=${p1.body.nextCursor}`)
        .set(bearer(A.keys.admin))
        .expect(200);
      expect([...p1.body.items, ...p2.body.items].map((e: Json) => e.id)).toEqual([...ids].reverse());
      expect(p2.body.nextCursor).toBeNull();
      expectProblem(
        await api().get('/v1/webhooks?cursor=garbage').set(bearer(A.keys.admin)),
        400,
        'VALIDATION_FAILED',
        'cursor',
      );
    });

    const long = `https://example.org/${'a'.repeat(1990)}`;
    it.each([
      ['no url', { eventTypes: ['plan.booked'] }, 'url'],
      ['a number as url', { url: 42, eventTypes: ['plan.booked'] }, 'url'],
      ['a relative url', { url: '/hooks', eventTypes: ['plan.booked'] }, 'url'],
      ['an ftp url', { url: 'ftp://example.org/x', eventTypes: ['plan.booked'] }, 'url'],
      ['credentials in the url', { url: 'https://user:pw@example.org/x', eventTypes: ['plan.booked'] }, 'url'],
      ['a fragment', { url: 'https://example.org/x#part', eventTypes: ['plan.booked'] }, 'url'],
      ['a url over 2000 characters', { url: long, eventTypes: ['plan.booked'] }, 'url'],
      ['no event types', { url: 'https://example.org/x' }, 'eventTypes'],
      ['empty event types', { url: 'https://example.org/x', eventTypes: [] }, 'eventTypes'],
      [
        'an unknown event type',
        { url: 'https://example.org/x', eventTypes: ['session.created', 'patient.created'] },
        'eventTypes',
      ],
      ['event types as a string', { url: 'https://example.org/x', eventTypes: 'plan.booked' }, 'eventTypes'],
      [
        'a repeated event type',
        { url: 'https://example.org/x', eventTypes: ['plan.booked', 'plan.booked'] },
        'eventTypes',
      ],
      [
        'a long description',
        { url: 'https://example.org/x', eventTypes: ['plan.booked'], description: 'x'.repeat(501) },
        'description',
      ],
      [
        'a clinicId that is no uuid',
        { url: 'https://example.org/x', eventTypes: ['plan.booked'], clinicId: 'nope' },
        'clinicId',
      ],
      [
        'an unknown field',
        { url: 'https://example.org/x', eventTypes: ['plan.booked'], secret: 'whsec_mine' },
        'secret',
      ],
    ])('400 for %s, naming the field', async (_, body, field) => {
      expect(long.length).toBe(2010);
      expectProblem(
        await api().post('/v1/webhooks').set(bearer(A.keys.admin)).send(body),
        400,
        'VALIDATION_FAILED',
        field as string,
      );
    });

    it('every event type the triggers write can be subscribed to', async () => {
      const created = await createEndpoint(A, { url: 'https://example.org/all', eventTypes: [...WEBHOOK_EVENT_TYPES] });
      expect(created.eventTypes).toEqual([
        'session.created',
        'session.updated',
        'session.cancelled',
        'plan.booked',
        'plan.adjusted',
      ]);
    });

    it('front desk and clinicians may not touch webhooks: 403 on every route', async () => {
      const e = await createEndpoint(A, { url: 'https://example.org/x', eventTypes: ['plan.booked'] });
      const msg = messagePublicId('00000000-0000-4000-8000-000000000000');
      for (const key of [A.keys.frontDesk, A.keys.clinician]) {
        expectProblem(
          await api()
            .post('/v1/webhooks')
            .set(bearer(key))
            .send({ url: 'https://example.org/y', eventTypes: ['plan.booked'] }),
          403,
          'FORBIDDEN',
        );
        expectProblem(await api().get('/v1/webhooks').set(bearer(key)), 403, 'FORBIDDEN');
        expectProblem(await api().get(`/v1/webhooks/${e.id}`).set(bearer(key)), 403, 'FORBIDDEN');
        expectProblem(await api().get(`/v1/webhooks/${e.id}/messages`).set(bearer(key)), 403, 'FORBIDDEN');
        expectProblem(
          await api().post(`/v1/webhooks/${e.id}/messages/${msg}/retry`).set(bearer(key)),
          403,
          'FORBIDDEN',
        );
        expectProblem(await api().delete(`/v1/webhooks/${e.id}`).set(bearer(key)), 403, 'FORBIDDEN');
        expectProblem(await api().post(`/v1/webhooks/${e.id}/secret`).set(bearer(key)), 403, 'FORBIDDEN');
        expectProblem(await api().post(`/v1/webhooks/${e.id}/enable`).set(bearer(key)), 403, 'FORBIDDEN');
      }
      expectProblem(await api().get('/v1/webhooks'), 401, 'UNAUTHENTICATED');
      await api().get(`/v1/webhooks/${e.id}`).set(bearer(A.keys.admin)).expect(200);
    });

    it("another clinic's endpoint is 404 WEBHOOK_NOT_FOUND everywhere, and not listed", async () => {
      const e = await createEndpoint(A, { url: 'https://example.org/a', eventTypes: ['plan.booked'] });
      const msg = messagePublicId('00000000-0000-4000-8000-000000000000');
      expectProblem(await api().get(`/v1/webhooks/${e.id}`).set(bearer(B.keys.admin)), 404, 'WEBHOOK_NOT_FOUND');
      expectProblem(
        await api().get(`/v1/webhooks/${e.id}/messages`).set(bearer(B.keys.admin)),
        404,
        'WEBHOOK_NOT_FOUND',
      );
      expectProblem(
        await api().post(`/v1/webhooks/${e.id}/messages/${msg}/retry`).set(bearer(B.keys.admin)),
        404,
        'WEBHOOK_NOT_FOUND',
      );
      expectProblem(await api().delete(`/v1/webhooks/${e.id}`).set(bearer(B.keys.admin)), 404, 'WEBHOOK_NOT_FOUND');
      expectProblem(
        await api().post(`/v1/webhooks/${e.id}/secret`).set(bearer(B.keys.admin)),
        404,
        'WEBHOOK_NOT_FOUND',
      );
      expectProblem(
        await api().post(`/v1/webhooks/${e.id}/enable`).set(bearer(B.keys.admin)),
        404,
        'WEBHOOK_NOT_FOUND',
      );
      expect((await api().get('/v1/webhooks').set(bearer(B.keys.admin)).expect(200)).body.items).toEqual([]);
      expect(
        (await api().get(`/v1/webhooks?clinicId=${A.keys.clinicId}`).set(bearer(B.keys.admin)).expect(200)).body.items,
      ).toEqual([]);
      // A clinic admin cannot create one for another clinic either.
      expectProblem(
        await api()
          .post('/v1/webhooks')
          .set(bearer(B.keys.admin))
          .send({ url: 'https://example.org/b', eventTypes: ['plan.booked'], clinicId: A.keys.clinicId }),
        404,
        'CLINIC_NOT_FOUND',
      );
      await api().get(`/v1/webhooks/${e.id}`).set(bearer(A.keys.admin)).expect(200);
      expectProblem(
        await api().get('/v1/webhooks/not-a-uuid').set(bearer(A.keys.admin)),
        400,
        'VALIDATION_FAILED',
        'webhookId',
      );
      expectProblem(
        await api().get('/v1/webhooks/00000000-0000-4000-8000-000000000000').set(bearer(A.keys.admin)),
        404,
        'WEBHOOK_NOT_FOUND',
      );
    });

    it('operator keys pass clinicId (required), see every clinic and may filter', async () => {
      expectProblem(
        await api()
          .post('/v1/webhooks')
          .set(bearer(operator))
          .send({ url: 'https://example.org/op', eventTypes: ['plan.booked'] }),
        400,
        'VALIDATION_FAILED',
        'clinicId',
      );
      expectProblem(
        await api()
          .post('/v1/webhooks')
          .set(bearer(operator))
          .send({
            url: 'https://example.org/op',
            eventTypes: ['plan.booked'],
            clinicId: '00000000-0000-4000-8000-000000000000',
          }),
        404,
        'CLINIC_NOT_FOUND',
      );
      const res = await api()
        .post('/v1/webhooks')
        .set(bearer(operator))
        .send({ url: 'https://example.org/op', eventTypes: ['plan.booked'], clinicId: B.keys.clinicId });
      expect(res.status).toBe(201);
      expect(res.body.clinicId).toBe(B.keys.clinicId);
      const a = await createEndpoint(A, { url: 'https://example.org/a', eventTypes: ['plan.booked'] });
      const all = (await api().get('/v1/webhooks').set(bearer(operator)).expect(200)).body.items.map((e: Json) => e.id);
      expect(all).toEqual(expect.arrayContaining([res.body.id, a.id]));
      const onlyB = (
        await api().get(`/v1/webhooks?clinicId=${B.keys.clinicId}`).set(bearer(operator)).expect(200)
      ).body.items.map((e: Json) => e.id);
      expect(onlyB).toEqual([res.body.id]);
      await api().get(`/v1/webhooks/${a.id}`).set(bearer(operator)).expect(200);
      // B's own admin sees the operator-made endpoint as theirs.
      await api().get(`/v1/webhooks/${res.body.id}`).set(bearer(B.keys.admin)).expect(200);
    });

    it('messages: 400 for a bad status or cursor; retry: 400 for a bad message id, 404 for an unknown one', async () => {
      const e = await createEndpoint(A, { url: 'https://example.org/x', eventTypes: ['plan.booked'] });
      expectProblem(
        await api().get(`/v1/webhooks/${e.id}/messages?status=lost`).set(bearer(A.keys.admin)),
        400,
        'VALIDATION_FAILED',
        'status',
      );
      expectProblem(
        await api().get(`/v1/webhooks/${e.id}/messages?cursor=xyz`).set(bearer(A.keys.admin)),
        400,
        'VALIDATION_FAILED',
        'cursor',
      );
      expectProblem(
        await api().get(`/v1/webhooks/${e.id}/messages?limit=0`).set(bearer(A.keys.admin)),
        400,
        'VALIDATION_FAILED',
        'limit',
      );
      expectProblem(
        await api().post(`/v1/webhooks/${e.id}/messages/msg_123/retry`).set(bearer(A.keys.admin)),
        400,
        'VALIDATION_FAILED',
        'messageId',
      );
      expectProblem(
        await api()
          .post(`/v1/webhooks/${e.id}/messages/${messagePublicId('00000000-0000-4000-8000-000000000000')}/retry`)
          .set(bearer(A.keys.admin)),
        404,
        'WEBHOOK_MESSAGE_NOT_FOUND',
      );
      expect((await api().get(`/v1/webhooks/${e.id}/messages`).set(bearer(A.keys.admin)).expect(200)).body).toEqual({
        items: [],
        nextCursor: null,
      });
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('delivery', () => {
    it('a booking: one signed message per session and one plan.booked, verified on the raw bytes, thin payloads', async () => {
      const rx = await receiver();
      const e = await createEndpoint(A, { url: rx.url, eventTypes: [...WEBHOOK_EVENT_TYPES] });
      const plan = await bookPlan(t.http, A, {}, { fullName: 'Zebulon Quartermaine', dateOfBirth: '1971-02-03' });
      const sessions = plan.sessions as Json[];
      expect(sessions.length).toBeGreaterThan(1);

      // Written in the booking's transaction, before any delivery.
      const queued = await messagesOf(A, e.id);
      expect(queued).toHaveLength(sessions.length + 1);
      expect(queued.every((m) => m.status === 'pending' && m.attempts === 0 && m.deliveryAttempts.length === 0)).toBe(
        true,
      );
      expect(queued.filter((m) => m.eventType === 'session.created')).toHaveLength(sessions.length);
      expect(queued.filter((m) => m.eventType === 'plan.booked')).toHaveLength(1);

      await deliverUntil(() => rx.received.length === sessions.length + 1);
      const bodies = rx.received.map((r) => verify(e.secret, r));

      expect(new Set(rx.received.map((r) => r.headers['webhook-id'])).size).toBe(sessions.length + 1);
      expect(rx.received.map((r) => r.headers['webhook-id']).sort()).toEqual(queued.map((m) => m.id).sort());
      for (const r of rx.received) {
        expect(r.headers['content-type']).toBe('application/json');
        expect(r.headers['webhook-timestamp']).toMatch(/^\d+$/);
        expect(Math.abs(Number(r.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
        expect(r.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
        expect(r.body).not.toMatch(/Zebulon|Quartermaine|1971-02-03|fullName|dateOfBirth/);
      }
      const created = bodies.filter((b) => b.type === 'session.created');
      expect(created.map((b) => b.data.id).sort()).toEqual(sessions.map((s) => s.id).sort());
      for (const b of created) {
        expect(Object.keys(b).sort()).toEqual(['data', 'timestamp', 'type']);
        expect(b.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
        expect(b.data).toEqual({
          id: expect.any(String),
          clinicId: A.keys.clinicId,
          planId: plan.id,
          revision: 1,
          status: 'scheduled',
        });
      }
      expect(bodies.find((b) => b.type === 'plan.booked')!.data).toEqual({
        id: plan.id,
        clinicId: A.keys.clinicId,
        version: plan.version,
      });

      // Verification works on the exact bytes only.
      const sample = rx.received[0];
      const tampered = sample.body.replace('"revision": 1', '"revision": 2').replace('"version": 1', '"version": 2');
      expect(tampered).not.toBe(sample.body);
      expect(() => new Webhook(e.secret).verify(tampered, sample.headers)).toThrow('No matching signature found');
      const pretty = JSON.stringify(JSON.parse(sample.body), null, 2);
      expect(() => new Webhook(e.secret).verify(pretty, sample.headers)).toThrow('No matching signature found');
      const compact = JSON.stringify(JSON.parse(sample.body));
      expect(compact).not.toBe(sample.body); // PostgreSQL's jsonb text has spaces: re-serializing changes the bytes
      expect(() => new Webhook(e.secret).verify(compact, sample.headers)).toThrow('No matching signature found');
      expect(() =>
        new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(sample.body, sample.headers),
      ).toThrow();

      // All delivered, one attempt each, visible through the API.
      const after = await messagesOf(A, e.id);
      expect(
        after.every(
          (m) =>
            m.status === 'delivered' &&
            m.attempts === 1 &&
            m.deliveredAt &&
            m.lastStatus === 204 &&
            m.nextAttemptAt === null,
        ),
      ).toBe(true);
      expect(after[0].deliveryAttempts).toEqual([
        { attempt: 1, startedAt: expect.any(String), durationMs: expect.any(Number), statusCode: 204, error: null },
      ]);
      expect(await worker().runOnce()).toBe(0);
      expect(rx.received).toHaveLength(sessions.length + 1);
    });

    it('fails twice (500), then succeeds: delivered once, three attempts on record, same webhook-id, each signature fresh and valid', async () => {
      const rx = await receiver((n) => ({ status: n <= 2 ? 500 : 200 }));
      const e = await createEndpoint(A, { url: rx.url, eventTypes: ['plan.booked'] });
      const plan = await bookPlan(t.http, A);
      await deliverUntil(async () => (await messagesOf(A, e.id))[0]?.status === 'delivered');

      expect(rx.received).toHaveLength(3);
      const ids = new Set(rx.received.map((r) => r.headers['webhook-id']));
      expect(ids.size).toBe(1);
      for (const r of rx.received) expect(verify(e.secret, r).data.id).toBe(plan.id);
      expect(new Set(rx.received.map((r) => r.body)).size).toBe(1); // the same bytes every time
      // The retries waited for the schedule (50 ms ± 10 %).
      expect(rx.received[1].at - rx.received[0].at).toBeGreaterThanOrEqual(40);

      const [m] = await messagesOf(A, e.id);
      expect(m).toMatchObject({
        id: [...ids][0],
        eventType: 'plan.booked',
        status: 'delivered',
        attempts: 3,
        lastStatus: 200,
        lastError: null,
      });
      expect(m.deliveryAttempts.map((a: Json) => [a.attempt, a.statusCode])).toEqual([
        [1, 500],
        [2, 500],
        [3, 200],
      ]);
      expect(await worker().runOnce()).toBe(0);
      expect(rx.received).toHaveLength(3);
    });

    it('a retry long after the first attempt carries a new timestamp and signature; the old ones would be refused by then', async () => {
      const rx = await receiver((n) => ({ status: n === 1 ? 503 : 200 }));
      const e = await createEndpoint(A, { url: rx.url, eventTypes: ['plan.booked'] });
      await bookPlan(t.http, A);
      await deliverUntil(() => rx.received.length === 1);
      const first = rx.received[0];
      expect(verify(e.secret, first).type).toBe('plan.booked');

      // Ten minutes later by every clock in this process (the sender's and the verifier's).
      const later = Date.now() + 10 * 60_000;
      jest.useFakeTimers({
        now: later,
        doNotFake: [
          'hrtime',
          'nextTick',
          'performance',
          'queueMicrotask',
          'setImmediate',
          'clearImmediate',
          'setInterval',
          'clearInterval',
          'setTimeout',
          'clearTimeout',
        ],
      });
      try {
        await deliverUntil(() => rx.received.length === 2);
        const second = rx.received[1];
        expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
        expect(
          Number(second.headers['webhook-timestamp']) - Number(first.headers['webhook-timestamp']),
        ).toBeGreaterThanOrEqual(599);
        expect(second.headers['webhook-signature']).not.toBe(first.headers['webhook-signature']);
        expect(verify(e.secret, second).type).toBe('plan.booked');
        expect(() => verify(e.secret, first)).toThrow('Message timestamp too old');
      } finally {
        jest.useRealTimers();
      }
    });

    it('an endpoint that always fails: the message is failed after the bounded tries; a manual retry requeues and delivers it', async () => {
      let healthy = false;
      const rx = await receiver(() => ({ status: healthy ? 200 : 502 }));
      const e = await createEndpoint(A, { url: rx.url, eventTypes: ['plan.booked'] });
      await bookPlan(t.http, A);
      await deliverUntil(async () => (await messagesOf(A, e.id))[0]?.status === 'failed');
      expect(rx.received).toHaveLength(1 + RETRIES.length);
      // Nothing more happens on its own.
      await sleep(120);
      expect(await worker().runOnce()).toBe(0);
      expect(rx.received).toHaveLength(3);

      const [failed] = await messagesOf(A, e.id, 'status=failed');
      expect(failed).toMatchObject({
        status: 'failed',
        attempts: 3,
        lastStatus: 502,
        nextAttemptAt: null,
        deliveredAt: null,
      });
      expect(failed.deliveryAttempts.map((a: Json) => a.statusCode)).toEqual([502, 502, 502]);
      expect(await messagesOf(A, e.id, 'status=delivered')).toEqual([]);

      healthy = true;
      const retry = await api().post(`/v1/webhooks/${e.id}/messages/${failed.id}/retry`).set(bearer(A.keys.admin));
      expect(retry.status).toBe(202);
      expect(retry.body).toMatchObject({
        id: failed.id,
        status: 'pending',
        attempts: 3,
        nextAttemptAt: expect.any(String),
      });
      const audit = await t.dataSource.query(
        `SELECT action FROM audit_events WHERE action = 'webhook.retry' AND clinic_id = $1`,
        [A.keys.clinicId],
      );
      expect(audit).toHaveLength(1);
      // Only failed messages can be replayed.
      expectProblem(
        await api().post(`/v1/webhooks/${e.id}/messages/${failed.id}/retry`).set(bearer(A.keys.admin)),
        409,
        'CONFLICT',
      );

      expect(await worker().runOnce()).toBe(1);
      expect(rx.received).toHaveLength(4);
      expect(rx.received[3].headers['webhook-id']).toBe(failed.id);
      expect(verify(e.secret, rx.received[3]).type).toBe('plan.booked');
      const [done] = await messagesOf(A, e.id);
      expect(done).toMatchObject({ status: 'delivered', attempts: 4, lastStatus: 200 });
      expectProblem(
        await api().post(`/v1/webhooks/${e.id}/messages/${failed.id}/retry`).set(bearer(A.keys.admin)),
        409,
        'CONFLICT',
      );
    });

    it('410 Gone disables the endpoint: its message and the others queued for it fail, nothing more is sent or queued', async () => {
      const rx = await receiver(() => ({ status: 410 }));
      const e = await createEndpoint(A, { url: rx.url, eventTypes: ['session.created', 'plan.booked'] });
      const plan = await bookPlan(t.http, A);
      const total = (plan.sessions as Json[]).length + 1;
      await worker().runOnce(1);
      expect(rx.received).toHaveLength(1);

      const got = await api().get(`/v1/webhooks/${e.id}`).set(bearer(A.keys.admin)).expect(200);
      expect(got.body).toMatchObject({ status: 'disabled', statusReason: expect.stringContaining('410') });
      const msgs = await messagesOf(A, e.id);
      expect(msgs).toHaveLength(total);
      expect(msgs.every((m) => m.status === 'failed')).toBe(true);
      expect(msgs.filter((m) => m.lastStatus === 410)).toHaveLength(1);
      expect(msgs.filter((m) => m.lastError === 'endpoint disabled')).toHaveLength(total - 1);
      // The disable is a write without a caller: audited as the system's.
      const audit = await t.dataSource.query(
        `SELECT actor_role, actor_key_id, changes FROM audit_events WHERE action = 'webhook.disable' AND entity_id = $1`,
        [e.id],
      );
      expect(audit).toEqual([
        {
          actor_role: 'system',
          actor_key_id: null,
          changes: {
            before: { status: 'active' },
            after: { status: 'disabled', statusReason: expect.stringContaining('410') },
          },
        },
      ]);

      await deliverUntil(() => true);
      expect(rx.received).toHaveLength(1);
      // A disabled endpoint is not subscribed any more, and its messages cannot be replayed.
      await bookPlan(t.http, A);
      expect(await messagesOf(A, e.id)).toHaveLength(total);
      expectProblem(
        await api().post(`/v1/webhooks/${e.id}/messages/${msgs[0].id}/retry`).set(bearer(A.keys.admin)),
        409,
        'CONFLICT',
      );
    });

    it('a receiver that never answers: each attempt times out and counts as a failure', async () => {
      const rx = await receiver(() => ({ status: 200, hang: true }));
      const e = await createEndpoint(A, { url: rx.url, eventTypes: ['plan.booked'] });
      await bookPlan(t.http, A);
      // An instance of its own with a short send budget, so that the three timeouts take seconds.
      const impatient = await startTestApp({
        databaseUrl: t.databaseUrl,
        webhooks: { pollMs: 0, allowPrivateNetworks: true, timeoutMs: SHORT_TIMEOUT_MS, retryDelaysSeconds: RETRIES },
      });
      try {
        const started = Date.now();
        await deliverUntil(
          async () => (await messagesOf(A, e.id))[0]?.status === 'failed',
          30_000,
          impatient.app.get(WebhookDeliveryWorker),
        );
        expect(Date.now() - started).toBeGreaterThanOrEqual(3 * SHORT_TIMEOUT_MS - 30);
      } finally {
        await impatient.close();
      }
      // Every attempt reached the receiver, which kept it waiting.
      expect(rx.received).toHaveLength(3);
      const timeout = `timeout after ${SHORT_TIMEOUT_MS} ms`;
      const [m] = await messagesOf(A, e.id);
      expect(m).toMatchObject({ status: 'failed', attempts: 3, lastStatus: null, lastError: timeout });
      expect(m.deliveryAttempts.map((a: Json) => [a.statusCode, a.error])).toEqual(Array(3).fill([null, timeout]));
      for (const a of m.deliveryAttempts) expect(a.durationMs).toBeGreaterThanOrEqual(SHORT_TIMEOUT_MS - 10);
    });

    it('3xx is a failure and the redirect is not followed', async () => {
      const target = await receiver();
      const rx = await receiver(() => ({ status: 302, headers: { location: target.url } }));
      const e = await createEndpoint(A, { url: rx.url, eventTypes: ['plan.booked'] });
      await bookPlan(t.http, A);
      await worker().runOnce();
      const [m] = await messagesOf(A, e.id);
      expect(m).toMatchObject({ status: 'pending', attempts: 1, lastStatus: 302 });
      expect(target.received).toHaveLength(0);
    });

    it('an unreachable receiver is a failure with the network error on record', async () => {
      const rx = await receiver();
      const e = await createEndpoint(A, { url: rx.url, eventTypes: ['plan.booked'] });
      await rx.close();
      await bookPlan(t.http, A);
      await worker().runOnce();
      const [m] = await messagesOf(A, e.id);
      expect(m).toMatchObject({
        status: 'pending',
        attempts: 1,
        lastStatus: null,
        lastError: expect.stringMatching(/ECONNREFUSED/),
      });
    });

    it('event types filter what an endpoint gets; a deleted endpoint gets nothing more and its queue is cancelled', async () => {
      const onlyCancel = await receiver();
      const everything = await receiver();
      const e1 = await createEndpoint(A, { url: onlyCancel.url, eventTypes: ['session.cancelled'] });
      const e2 = await createEndpoint(A, { url: everything.url, eventTypes: [...WEBHOOK_EVENT_TYPES] });
      const plan = await bookPlan(t.http, A);
      const [s1, s2] = plan.sessions as Json[];
      const cancelled = (
        await api()
          .post(`/v1/sessions/${s1.id}/cancel`)
          .set(bearer(A.keys.frontDesk))
          .send({ reason: 'Flu' })
          .expect(200)
      ).body;
      expect(cancelled.version).toBeGreaterThan(s1.version);
      await deliverUntil(async () => (await pendingCount()) === 0);

      expect(onlyCancel.received).toHaveLength(1);
      const body = verify(e1.secret, onlyCancel.received[0]);
      expect(body).toMatchObject({
        type: 'session.cancelled',
        data: { id: s1.id, status: 'cancelled', revision: cancelled.version },
      });
      const types = everything.received.map((r) => verify(e2.secret, r).type);
      expect(types.filter((x) => x === 'session.created')).toHaveLength((plan.sessions as Json[]).length);
      expect(types.filter((x) => x === 'plan.booked')).toHaveLength(1);
      expect(types.filter((x) => x === 'session.cancelled')).toHaveLength(1);
      expect(types.filter((x) => x === 'plan.adjusted')).toHaveLength(1);
      // Out-of-order arrival is harmless: a session's later event carries the higher revision.
      const revs = everything.received
        .map((r) => verify(e2.secret, r))
        .filter((b) => b.data.id === s1.id && b.type.startsWith('session.'));
      expect(revs.map((b) => [b.type, b.data.revision]).sort()).toEqual([
        ['session.cancelled', cancelled.version],
        ['session.created', s1.version],
      ]);

      // Delete e1 while something is queued for it.
      await api()
        .post(`/v1/sessions/${s2.id}/cancel`)
        .set(bearer(A.keys.frontDesk))
        .send({ reason: 'Travel' })
        .expect(200);
      const queuedFor1 = await messagesOf(A, e1.id, 'status=pending');
      expect(queuedFor1).toHaveLength(1);
      const del = await api().delete(`/v1/webhooks/${e1.id}`).set(bearer(A.keys.admin));
      expect(del.status).toBe(204);
      expect(del.text).toBe('');
      expect(
        (
          await t.dataSource.query(`SELECT status FROM webhook_messages WHERE endpoint_id = $1 ORDER BY created_at`, [
            e1.id,
          ])
        ).map((r: Json) => r.status),
      ).toEqual(['delivered', 'cancelled']);
      expectProblem(await api().get(`/v1/webhooks/${e1.id}`).set(bearer(A.keys.admin)), 404, 'WEBHOOK_NOT_FOUND');
      expectProblem(
        await api().get(`/v1/webhooks/${e1.id}/messages`).set(bearer(A.keys.admin)),
        404,
        'WEBHOOK_NOT_FOUND',
      );
      expectProblem(await api().delete(`/v1/webhooks/${e1.id}`).set(bearer(A.keys.admin)), 404, 'WEBHOOK_NOT_FOUND');
      expect(
        (await api().get('/v1/webhooks').set(bearer(A.keys.admin)).expect(200)).body.items.map((x: Json) => x.id),
      ).toEqual([e2.id]);
      const audit = await t.dataSource.query(`SELECT action FROM audit_events WHERE entity_id = $1`, [e1.id]);
      expect(audit.map((r: Json) => r.action).sort()).toEqual(['webhook.create', 'webhook.delete']);

      await bookPlan(t.http, A);
      await deliverUntil(async () => (await pendingCount()) === 0);
      expect(onlyCancel.received).toHaveLength(1);
      expect(
        everything.received.map((r) => verify(e2.secret, r).type).filter((x) => x === 'session.cancelled'),
      ).toHaveLength(2);
      expect(
        Number(
          (await t.dataSource.query(`SELECT count(*) AS n FROM webhook_messages WHERE endpoint_id = $1`, [e1.id]))[0].n,
        ),
      ).toBe(2);
    });

    it('a rolled-back change emits nothing; failed requests (409, 422) leave no message', async () => {
      const rx = await receiver();
      const e = await createEndpoint(A, { url: rx.url, eventTypes: [...WEBHOOK_EVENT_TYPES] });
      const plan = await bookPlan(t.http, A);
      await deliverUntil(async () => (await pendingCount()) === 0);
      const delivered = rx.received.length;
      const countFor = async (sessionId: string) =>
        Number(
          (
            await t.dataSource.query(
              `SELECT count(*) AS n FROM webhook_messages WHERE payload::jsonb -> 'data' ->> 'id' = $1`,
              [sessionId],
            )
          )[0].n,
        );
      const s = (plan.sessions as Json[])[0];

      const client = new pg.Client({ connectionString: t.databaseUrl });
      await client.connect();
      try {
        await client.query('BEGIN');
        await client.query(`UPDATE sessions SET status = 'cancelled', version = version + 1 WHERE id = $1`, [s.id]);
        // The trigger wrote the outbox row in this transaction...
        const inside = await client.query(
          `SELECT event_type FROM webhook_messages WHERE payload::jsonb -> 'data' ->> 'id' = $1 AND status = 'pending'`,
          [s.id],
        );
        expect(inside.rows).toEqual([{ event_type: 'session.cancelled' }]);
        // ...which no one else sees, and which goes with the rollback.
        expect(await countFor(s.id)).toBe(1);
        await client.query('ROLLBACK');
      } finally {
        await client.end();
      }
      expect(await countFor(s.id)).toBe(1); // only session.created
      await worker().runOnce();
      expect(rx.received).toHaveLength(delivered);

      // 409: cancelling twice. 422: a booking that cannot be planned (every chair inactive).
      const before = Number(
        (await t.dataSource.query(`SELECT count(*) AS n FROM webhook_messages WHERE endpoint_id = $1`, [e.id]))[0].n,
      );
      await api().post(`/v1/sessions/${s.id}/cancel`).set(bearer(A.keys.frontDesk)).send({ reason: 'Flu' }).expect(200);
      const afterCancel = Number(
        (await t.dataSource.query(`SELECT count(*) AS n FROM webhook_messages WHERE endpoint_id = $1`, [e.id]))[0].n,
      );
      expect(afterCancel).toBe(before + 2); // session.cancelled and plan.adjusted
      expectProblem(
        await api().post(`/v1/sessions/${s.id}/cancel`).set(bearer(A.keys.frontDesk)).send({ reason: 'Again' }),
        409,
        'INVALID_TRANSITION',
      );

      const C = await setupClinic(t.app, t.http, 'Hook chairless', { chairs: 1 });
      const eC = await createEndpoint(C, { url: rx.url, eventTypes: [...WEBHOOK_EVENT_TYPES] });
      await api()
        .patch(`/v1/clinics/${C.keys.clinicId}/chairs/${C.chairs[0].id}`)
        .set(bearer(C.keys.admin))
        .send({ active: false })
        .expect(200);
      const patient = await api()
        .post('/v1/patients')
        .set(bearer(C.keys.clinician))
        .send({ fullName: 'Pat Example', dateOfBirth: '1985-03-14', weightKg: 70 });
      expect(patient.status).toBe(201);
      expectProblem(
        await api()
          .post('/v1/plans')
          .set(bearer(C.keys.frontDesk))
          .send({ protocolId: C.protocolId, patientId: patient.body.id }),
        422,
        'PLAN_INFEASIBLE',
      );

      expect(
        Number(
          (await t.dataSource.query(`SELECT count(*) AS n FROM webhook_messages WHERE endpoint_id = $1`, [e.id]))[0].n,
        ),
      ).toBe(afterCancel);
      expect(await messagesOf(C, eC.id)).toEqual([]);
    });

    it('a crash between sending and settling: the lease runs out and the message is sent again with the same webhook-id', async () => {
      const rx = await receiver();
      const e = await createEndpoint(A, { url: rx.url, eventTypes: ['plan.booked'] });
      await bookPlan(t.http, A);

      // An instance claims the message and sends it, then dies before recording anything.
      const repo = t.app.get(WebhookOutboxRepository);
      const [claimed] = await repo.claimDue(10, 60);
      expect(claimed).toMatchObject({ endpointId: e.id, attempts: 1 });
      const sent = await t.app.get(WebhookSender).send({
        url: claimed.url,
        msgId: messagePublicId(claimed.id),
        payload: claimed.payload,
        secret: claimed.secret,
      });
      expect(sent.statusCode).toBe(204);

      // While the lease holds, no other worker takes it.
      expect(await worker().runOnce()).toBe(0);
      expect((await messagesOf(A, e.id))[0]).toMatchObject({ status: 'pending', attempts: 1 });

      await t.dataSource.query(`UPDATE webhook_messages SET leased_until = now() - interval '1 second' WHERE id = $1`, [
        claimed.id,
      ]);
      expect(await worker().runOnce()).toBe(1);
      expect(rx.received).toHaveLength(2);
      expect(rx.received[0].headers['webhook-id']).toBe(rx.received[1].headers['webhook-id']);
      expect(rx.received[0].body).toBe(rx.received[1].body);
      for (const r of rx.received) verify(e.secret, r);
      const [m] = await messagesOf(A, e.id);
      expect(m).toMatchObject({ status: 'delivered', attempts: 2 });
      // The lost attempt left no record; the number shows it happened.
      expect(m.deliveryAttempts.map((a: Json) => a.attempt)).toEqual([2]);
    });

    it('two instances on one database, one polling on its own: every message is received exactly once', async () => {
      const N = 40;
      const rx = await receiver(() => ({ status: 200, delayMs: 20 }));
      const e = await createEndpoint(A, { url: rx.url, eventTypes: ['session.updated'] });
      await t.dataSource.query(
        `SELECT enqueue_webhook($1, 'session.updated', jsonb_build_object('id', gen_random_uuid(), 'revision', g)) FROM generate_series(1, $2) g`,
        [A.keys.clinicId, N],
      );
      const t2 = await startTestApp({
        databaseUrl: t.databaseUrl,
        webhooks: { pollMs: 10, allowPrivateNetworks: true, timeoutMs: SEND_TIMEOUT_MS, retryDelaysSeconds: RETRIES },
      });
      let mine = 0;
      try {
        const deadline = Date.now() + 45_000;
        while ((await pendingCount()) > 0) {
          if (Date.now() > deadline) throw new Error('not delivered in time');
          const n = await worker().runOnce(3);
          mine += n;
          if (n === 0) await sleep(5);
        }
      } finally {
        await t2.close(); // waits for its sends under way
      }
      const ids = rx.received.map((r) => r.headers['webhook-id']);
      expect(ids).toHaveLength(N);
      expect(new Set(ids).size).toBe(N);
      for (const r of rx.received) verify(e.secret, r);
      const msgs = await messagesOf(A, e.id);
      expect(msgs).toHaveLength(N);
      expect(msgs.every((m) => m.status === 'delivered' && m.attempts === 1 && m.deliveryAttempts.length === 1)).toBe(
        true,
      );
      // Both instances took a share (this one claims 3 at a time, the polling one 20).
      expect(mine).toBeGreaterThan(0);
      expect(mine).toBeLessThan(N);
      // One attempt per message in all, whichever instance made it.
      expect(
        Number(
          (
            await t.dataSource.query(
              `SELECT count(*) AS n FROM webhook_attempts a JOIN webhook_messages m ON m.id = a.message_id WHERE m.endpoint_id = $1`,
              [e.id],
            )
          )[0].n,
        ),
      ).toBe(N);
    });

    it('SSRF: without private networks, private URLs are refused at creation and private addresses are never contacted', async () => {
      const strict = await startTestApp({
        databaseUrl: t.databaseUrl,
        webhooks: { pollMs: 0, allowPrivateNetworks: false, timeoutMs: 300, retryDelaysSeconds: RETRIES },
      });
      try {
        for (const url of [
          'http://127.0.0.1/',
          'http://10.0.0.1/',
          'http://localhost:8080/x',
          'http://[::1]/',
          'http://169.254.169.254/latest',
          'http://192.168.1.1/',
          'http://2130706433/',
          'http://[::ffff:0:127.0.0.1]/',
          'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/',
        ]) {
          const res = await request(strict.http)
            .post('/v1/webhooks')
            .set(bearer(A.keys.admin))
            .send({ url, eventTypes: ['plan.booked'] });
          expectProblem(res, 400, 'VALIDATION_FAILED', 'url');
        }
        const ok = await request(strict.http)
          .post('/v1/webhooks')
          .set(bearer(A.keys.admin))
          .send({ url: 'https://example.org/hook', eventTypes: ['plan.booked'] });
        expect(ok.status).toBe(201);
        await request(strict.http).delete(`/v1/webhooks/${ok.body.id}`).set(bearer(A.keys.admin)).expect(204);

        // Endpoints that slipped in (registered while allowed): the strict worker does not connect.
        const rx = await receiver();
        const literal = await createEndpoint(A, { url: rx.url, eventTypes: ['plan.booked'] });
        const named = await createEndpoint(A, {
          url: `http://localhost:${rx.port}/hooks`,
          eventTypes: ['plan.booked'],
        });
        await t.dataSource.query(`SELECT enqueue_webhook($1, 'plan.booked', '{"id": "x"}'::jsonb)`, [A.keys.clinicId]);
        expect(await strict.app.get(WebhookDeliveryWorker).runOnce()).toBe(2);
        expect(rx.received).toHaveLength(0);
        expect((await messagesOf(A, literal.id))[0]).toMatchObject({
          status: 'pending',
          attempts: 1,
          lastError: '127.0.0.1 is a private address',
        });
        expect((await messagesOf(A, named.id))[0]).toMatchObject({
          status: 'pending',
          attempts: 1,
          lastError: 'localhost resolves to a private address',
        });
      } finally {
        await strict.close();
      }
    });

    it('housekeeping deletes delivered and cancelled messages older than 30 days with their attempts, and nothing else', async () => {
      const rx = await receiver();
      const e = await createEndpoint(A, { url: rx.url, eventTypes: ['session.updated'] });
      await t.dataSource.query(
        `SELECT enqueue_webhook($1, 'session.updated', jsonb_build_object('id', gen_random_uuid(), 'revision', g)) FROM generate_series(1, 4) g`,
        [A.keys.clinicId],
      );
      await deliverUntil(async () => (await pendingCount()) === 0);
      const ids: string[] = (
        await t.dataSource.query(`SELECT id FROM webhook_messages WHERE endpoint_id = $1 ORDER BY id`, [e.id])
      ).map((r: Json) => r.id);
      expect(ids).toHaveLength(4);
      // old delivered, old cancelled, old failed, recent delivered
      await t.dataSource.query(
        `UPDATE webhook_messages SET created_at = now() - interval '31 days' WHERE id = ANY ($1::uuid[])`,
        [ids.slice(0, 3)],
      );
      await t.dataSource.query(`UPDATE webhook_messages SET status = 'cancelled' WHERE id = $1`, [ids[1]]);
      await t.dataSource.query(`UPDATE webhook_messages SET status = 'failed' WHERE id = $1`, [ids[2]]);

      expect(await worker().housekeeping()).toBe(2);
      const left: string[] = (
        await t.dataSource.query(`SELECT id FROM webhook_messages WHERE endpoint_id = $1 ORDER BY id`, [e.id])
      ).map((r: Json) => r.id);
      expect(left).toEqual([ids[2], ids[3]]);
      const attempts = await t.dataSource.query(
        `SELECT message_id FROM webhook_attempts WHERE message_id = ANY ($1::uuid[])`,
        [ids],
      );
      expect(attempts.map((r: Json) => r.message_id).sort()).toEqual([ids[2], ids[3]].sort());
    });

    it('the messages list pages newest first and filters by status', async () => {
      const rx = await receiver((n) => ({ status: n <= 2 ? 200 : 500 }));
      const e = await createEndpoint(A, { url: rx.url, eventTypes: ['session.updated'] });
      for (let i = 0; i < 5; i++) {
        await t.dataSource.query(
          `SELECT enqueue_webhook($1, 'session.updated', jsonb_build_object('id', gen_random_uuid(), 'revision', $2::int))`,
          [A.keys.clinicId, i],
        );
      }
      await worker().runOnce(1);
      await worker().runOnce(1);
      await worker().runOnce(1);
      const all = await messagesOf(A, e.id);
      expect(all).toHaveLength(5);
      expect(all.map((m) => m.createdAt)).toEqual([...all.map((m) => m.createdAt)].sort().reverse());
      const p1 = await api().get(`/v1/webhooks/${e.id}/messages?limit=2`).set(bearer(A.keys.admin)).expect(200);
      const p2 = await api()
        .get(`/v1/webhooks/${e.id}/messages?limit=2&cursor=${p1.body.nextCursor}`)
        .set(bearer(A.keys.admin))
        .expect(200);
      const p3 = await api()
        .get(`/v1/webhooks/${e.id}/messages?limit=2&cursor=${p2.body.nextCursor}`)
        .set(bearer(A.keys.admin))
        .expect(200);
      expect(p3.body.nextCursor).toBeNull();
      expect([...p1.body.items, ...p2.body.items, ...p3.body.items].map((m: Json) => m.id)).toEqual(
        all.map((m) => m.id),
      );
      expect(await messagesOf(A, e.id, 'status=delivered')).toHaveLength(2);
      const pending = await messagesOf(A, e.id, 'status=pending');
      expect(pending).toHaveLength(3);
      expect(pending.filter((m) => m.attempts === 1 && m.lastStatus === 500)).toHaveLength(1);
      for (const m of all) expect(m.id).toMatch(/^msg_[0-9a-f]{32}$/);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('secret rotation and re-enabling', () => {
    const SECRET_RE = /^whsec_[A-Za-z0-9+/]{43}=$/;
    const signaturesOf = (r: Received) => r.headers['webhook-signature'].split(' ');
    /** The signature `secret` gives this very request (same id, timestamp and bytes). */
    const signatureWith = (secret: string, r: Received) =>
      new Webhook(secret).sign(
        r.headers['webhook-id'],
        new Date(Number(r.headers['webhook-timestamp']) * 1000),
        r.body,
      );
    const enqueue = (clinicId: string) =>
      t.dataSource.query(`SELECT enqueue_webhook($1, 'plan.booked', jsonb_build_object('id', gen_random_uuid()))`, [
        clinicId,
      ]);
    const stored = async (id: string): Promise<Json> =>
      (
        await t.dataSource.query(
          `SELECT secret, previous_secret, previous_secret_expires_at FROM webhook_endpoints WHERE id = $1`,
          [id],
        )
      )[0];

    it('rotate: 200 with a new secret once; for the overlap every attempt carries both signatures, new first, and either secret verifies', async () => {
      const rx = await receiver();
      const e = await createEndpoint(A, { url: rx.url, eventTypes: ['plan.booked'] });
      const { secret: oldSecret, ...endpoint } = e;

      const res = await api().post(`/v1/webhooks/${e.id}/secret`).set(bearer(A.keys.admin));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        ...endpoint,
        secret: expect.stringMatching(SECRET_RE),
        previousSecretExpiresAt: expect.any(String),
      });
      const newSecret = res.body.secret as string;
      expect(newSecret).not.toBe(oldSecret);
      expect(Buffer.from(newSecret.slice('whsec_'.length), 'base64')).toHaveLength(32);

      // The overlap is 24 hours of database time, and the answer says when it ends.
      const row = await stored(e.id);
      expect(row).toMatchObject({ secret: newSecret, previous_secret: oldSecret });
      expect((row.previous_secret_expires_at as Date).getTime()).toBe(Date.parse(res.body.previousSecretExpiresAt));
      const [{ left }] = await t.dataSource.query(
        `SELECT extract(epoch FROM previous_secret_expires_at - now())::float8 AS left FROM webhook_endpoints WHERE id = $1`,
        [e.id],
      );
      expect(left).toBeGreaterThan(24 * 3600 - 60);
      expect(left).toBeLessThanOrEqual(24 * 3600);

      // Neither secret is ever shown again.
      const got = await api().get(`/v1/webhooks/${e.id}`).set(bearer(A.keys.admin)).expect(200);
      expect(got.body).toEqual(endpoint);
      const list = await api().get('/v1/webhooks').set(bearer(A.keys.admin)).expect(200);
      for (const text of [got.text, list.text]) {
        expect(text).not.toContain('whsec_');
        expect(text).not.toContain(newSecret.slice(6, 30));
        expect(text).not.toContain(oldSecret.slice(6, 30));
      }
      const audit = await t.dataSource.query(
        `SELECT action, clinic_id, route, changes FROM audit_events WHERE entity_id = $1 ORDER BY occurred_at, id`,
        [e.id],
      );
      expect(audit.map((r: Json) => r.action)).toEqual(['webhook.create', 'webhook.rotate_secret']);
      expect(audit[1]).toMatchObject({ clinic_id: A.keys.clinicId, route: 'POST /v1/webhooks/:webhookId/secret' });
      expect(JSON.stringify(audit)).not.toContain('whsec_');

      await enqueue(A.keys.clinicId);
      await deliverUntil(() => rx.received.length === 1);
      const during = rx.received[0];
      const sigs = signaturesOf(during);
      expect(sigs).toHaveLength(2);
      expect(sigs.every((x) => /^v1,[A-Za-z0-9+/]+=*$/.test(x))).toBe(true);
      expect(sigs).toEqual([signatureWith(newSecret, during), signatureWith(oldSecret, during)]);
      // A receiver holding either secret accepts it; one holding neither does not.
      expect(verify(newSecret, during).type).toBe('plan.booked');
      expect(verify(oldSecret, during).type).toBe('plan.booked');
      expect(() => verify(`whsec_${Buffer.alloc(32, 3).toString('base64')}`, during)).toThrow(
        'No matching signature found',
      );
      // Both signatures cover the exact bytes.
      expect(() =>
        new Webhook(oldSecret).verify(during.body.replace('plan.booked', 'plan.adjusted'), during.headers),
      ).toThrow('No matching signature found');

      // The overlap is over: the new secret alone signs; the old one no longer verifies.
      await t.dataSource.query(
        `UPDATE webhook_endpoints SET previous_secret_expires_at = now() - interval '1 second' WHERE id = $1`,
        [e.id],
      );
      await enqueue(A.keys.clinicId);
      await deliverUntil(() => rx.received.length === 2);
      const after = rx.received[1];
      expect(signaturesOf(after)).toEqual([signatureWith(newSecret, after)]);
      expect(verify(newSecret, after).type).toBe('plan.booked');
      expect(() => verify(oldSecret, after)).toThrow('No matching signature found');

      // Housekeeping then forgets the expired secret.
      expect((await stored(e.id)).previous_secret).toBe(oldSecret);
      await worker().housekeeping();
      expect(await stored(e.id)).toEqual({
        secret: newSecret,
        previous_secret: null,
        previous_secret_expires_at: null,
      });
      await enqueue(A.keys.clinicId);
      await deliverUntil(() => rx.received.length === 3);
      expect(signaturesOf(rx.received[2])).toEqual([signatureWith(newSecret, rx.received[2])]);
    });

    it('a retry after a rotation is signed with both secrets; a second rotation within the overlap drops the oldest secret', async () => {
      let healthy = false;
      const rx = await receiver(() => ({ status: healthy ? 204 : 500 }));
      const e = await createEndpoint(A, { url: rx.url, eventTypes: ['plan.booked'] });
      const s0 = e.secret as string;
      await enqueue(A.keys.clinicId);
      await deliverUntil(() => rx.received.length === 1);
      expect(signaturesOf(rx.received[0])).toEqual([signatureWith(s0, rx.received[0])]);

      const r1 = (await api().post(`/v1/webhooks/${e.id}/secret`).set(bearer(A.keys.admin)).expect(200)).body;
      const r2 = (await api().post(`/v1/webhooks/${e.id}/secret`).set(bearer(A.keys.admin)).expect(200)).body;
      const [s1, s2] = [r1.secret as string, r2.secret as string];
      expect(new Set([s0, s1, s2]).size).toBe(3);
      expect(Date.parse(r2.previousSecretExpiresAt)).toBeGreaterThanOrEqual(Date.parse(r1.previousSecretExpiresAt));
      expect(await stored(e.id)).toMatchObject({ secret: s2, previous_secret: s1 });

      // The message queued before the rotations is retried with the current and the previous secret.
      healthy = true;
      await deliverUntil(async () => (await messagesOf(A, e.id))[0]?.status === 'delivered');
      const retried = rx.received[rx.received.length - 1];
      expect(retried.headers['webhook-id']).toBe(rx.received[0].headers['webhook-id']);
      expect(signaturesOf(retried)).toEqual([signatureWith(s2, retried), signatureWith(s1, retried)]);
      expect(verify(s2, retried).type).toBe('plan.booked');
      expect(verify(s1, retried).type).toBe('plan.booked');
      expect(() => verify(s0, retried)).toThrow('No matching signature found');

      const audit = await t.dataSource.query(
        `SELECT action FROM audit_events WHERE entity_id = $1 AND action = 'webhook.rotate_secret'`,
        [e.id],
      );
      expect(audit).toHaveLength(2);
    });

    it('rotate: 400 for a bad id, 404 for an unknown, deleted or foreign endpoint; a refused rotation changes nothing', async () => {
      const e = await createEndpoint(A, { url: 'https://example.org/rot', eventTypes: ['plan.booked'] });
      expectProblem(
        await api().post('/v1/webhooks/not-a-uuid/secret').set(bearer(A.keys.admin)),
        400,
        'VALIDATION_FAILED',
        'webhookId',
      );
      expectProblem(
        await api().post('/v1/webhooks/00000000-0000-4000-8000-000000000000/secret').set(bearer(A.keys.admin)),
        404,
        'WEBHOOK_NOT_FOUND',
      );
      for (const key of [B.keys.admin, A.keys.frontDesk, A.keys.clinician])
        await api().post(`/v1/webhooks/${e.id}/secret`).set(bearer(key));
      expect(await stored(e.id)).toEqual({ secret: e.secret, previous_secret: null, previous_secret_expires_at: null });
      // An operator key may rotate any clinic's endpoint.
      const op = await api().post(`/v1/webhooks/${e.id}/secret`).set(bearer(operator));
      expect({ status: op.status, clinicId: op.body.clinicId }).toEqual({ status: 200, clinicId: A.keys.clinicId });
      await api().delete(`/v1/webhooks/${e.id}`).set(bearer(A.keys.admin)).expect(204);
      expectProblem(
        await api().post(`/v1/webhooks/${e.id}/secret`).set(bearer(A.keys.admin)),
        404,
        'WEBHOOK_NOT_FOUND',
      );
      expectProblem(
        await api().post(`/v1/webhooks/${e.id}/enable`).set(bearer(A.keys.admin)),
        404,
        'WEBHOOK_NOT_FOUND',
      );
      expect((await stored(e.id)).secret).toBe(op.body.secret);
    });

    it('enable after a 410: active again, new events are delivered; the messages failed by the disable stay failed until retried', async () => {
      let gone = true;
      const rx = await receiver(() => ({ status: gone ? 410 : 204 }));
      const e = await createEndpoint(A, { url: rx.url, eventTypes: ['plan.booked'] });
      await enqueue(A.keys.clinicId);
      await enqueue(A.keys.clinicId);
      await worker().runOnce(1);
      const disabled = (await api().get(`/v1/webhooks/${e.id}`).set(bearer(A.keys.admin)).expect(200)).body;
      expect(disabled).toMatchObject({ status: 'disabled', statusReason: expect.stringContaining('410') });
      const failed = await messagesOf(A, e.id);
      expect(failed.map((m) => m.status)).toEqual(['failed', 'failed']);
      // Nothing is queued while it is disabled.
      await enqueue(A.keys.clinicId);
      expect(await messagesOf(A, e.id)).toHaveLength(2);

      gone = false;
      const res = await api().post(`/v1/webhooks/${e.id}/enable`).set(bearer(A.keys.admin));
      expect(res.status).toBe(200);
      const { secret: _secret, ...endpoint } = e;
      expect(res.body).toEqual({ ...endpoint, status: 'active', statusReason: null });
      expect((await api().get(`/v1/webhooks/${e.id}`).set(bearer(A.keys.admin)).expect(200)).body).toEqual(res.body);
      const audit = await t.dataSource.query(
        `SELECT changes, route FROM audit_events WHERE entity_id = $1 AND action = 'webhook.enable'`,
        [e.id],
      );
      expect(audit).toEqual([
        {
          route: 'POST /v1/webhooks/:webhookId/enable',
          changes: {
            before: { status: 'disabled', statusReason: disabled.statusReason },
            after: { status: 'active', statusReason: null },
          },
        },
      ]);

      // The old messages stay failed; a new event is queued and delivered, signed as before.
      expect(await worker().runOnce()).toBe(0);
      expect((await messagesOf(A, e.id)).map((m) => m.status)).toEqual(['failed', 'failed']);
      await enqueue(A.keys.clinicId);
      await deliverUntil(() => rx.received.length === 2);
      expect(verify(e.secret, rx.received[1]).type).toBe('plan.booked');
      const now = await messagesOf(A, e.id);
      expect(now.map((m) => m.status)).toEqual(['delivered', 'failed', 'failed']);

      // A failed one can be replayed now that the endpoint is active.
      await api().post(`/v1/webhooks/${e.id}/messages/${failed[0].id}/retry`).set(bearer(A.keys.admin)).expect(202);
      await deliverUntil(() => rx.received.length === 3);
      expect(rx.received[2].headers['webhook-id']).toBe(failed[0].id);

      // Enabling an active endpoint changes nothing and records nothing.
      const again = await api().post(`/v1/webhooks/${e.id}/enable`).set(bearer(A.keys.admin));
      expect({ status: again.status, body: again.body }).toEqual({ status: 200, body: res.body });
      const enables = await t.dataSource.query(
        `SELECT 1 FROM audit_events WHERE entity_id = $1 AND action = 'webhook.enable'`,
        [e.id],
      );
      expect(enables).toHaveLength(1);
    });

    it('enable: 400 for a bad id, 404 for an unknown or foreign endpoint (which stays disabled)', async () => {
      const e = await createEndpoint(A, { url: 'https://example.org/en', eventTypes: ['plan.booked'] });
      await t.dataSource.query(
        `UPDATE webhook_endpoints SET status = 'disabled', status_reason = 'test' WHERE id = $1`,
        [e.id],
      );
      expectProblem(
        await api().post('/v1/webhooks/not-a-uuid/enable').set(bearer(A.keys.admin)),
        400,
        'VALIDATION_FAILED',
        'webhookId',
      );
      expectProblem(
        await api().post('/v1/webhooks/00000000-0000-4000-8000-000000000000/enable').set(bearer(A.keys.admin)),
        404,
        'WEBHOOK_NOT_FOUND',
      );
      expectProblem(
        await api().post(`/v1/webhooks/${e.id}/enable`).set(bearer(B.keys.admin)),
        404,
        'WEBHOOK_NOT_FOUND',
      );
      for (const key of [A.keys.frontDesk, A.keys.clinician]) {
        expectProblem(await api().post(`/v1/webhooks/${e.id}/enable`).set(bearer(key)), 403, 'FORBIDDEN');
      }
      expect((await api().get(`/v1/webhooks/${e.id}`).set(bearer(A.keys.admin)).expect(200)).body).toMatchObject({
        status: 'disabled',
        statusReason: 'test',
      });
      const enabled = await api().post(`/v1/webhooks/${e.id}/enable`).set(bearer(operator));
      expect({ status: enabled.status, state: enabled.body.status }).toEqual({ status: 200, state: 'active' });
    });
  });
});
