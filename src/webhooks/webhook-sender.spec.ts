import type { LookupAddress } from 'node:dns';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { loadConfig, type AppConfig } from '../config/app-config.js';
import { guardedLookup, WebhookSender } from './webhook-sender.js';

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const PAYLOAD =
  '{"type": "session.updated", "timestamp": "2026-11-25T15:00:00.000Z", "data": {"id": "x", "revision": 2}}';

function senderWith(webhooks: Partial<AppConfig['webhooks']>): WebhookSender {
  const base = loadConfig({});
  return new WebhookSender({ ...base, webhooks: { ...base.webhooks, ...webhooks } });
}

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver on 127.0.0.1 answering with `handler`, recording what it was sent. */
async function receiver(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      handler(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('WebhookSender', () => {
  it('POSTs the payload byte for byte with Standard Webhooks headers that verify', async () => {
    const rx = await receiver((_, res) => res.writeHead(204).end());
    try {
      const r = await senderWith({ allowPrivateNetworks: true }).send({
        url: rx.url,
        msgId: 'msg_abc',
        payload: PAYLOAD,
        secret: SECRET,
      });
      expect(r).toMatchObject({ statusCode: 204, error: null });
      expect(rx.received).toHaveLength(1);
      const { headers, body } = rx.received[0];
      expect(body).toBe(PAYLOAD);
      expect(headers['content-type']).toBe('application/json');
      expect(headers['webhook-id']).toBe('msg_abc');
      expect(headers['webhook-timestamp']).toMatch(/^\d{10}$/);
      expect(Math.abs(Number(headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
      expect(new Webhook(SECRET).verify(body, headers as Record<string, string>)).toEqual(JSON.parse(PAYLOAD));
      expect(() =>
        new Webhook(`whsec_${Buffer.alloc(32, 8).toString('base64')}`).verify(body, headers as Record<string, string>),
      ).toThrow();
    } finally {
      await rx.close();
    }
  });

  it("with a previous secret (a rotation's overlap): two signatures, the new one first, and either secret verifies", async () => {
    const rx = await receiver((_, res) => res.writeHead(204).end());
    const previous = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
    try {
      await senderWith({ allowPrivateNetworks: true }).send({
        url: rx.url,
        msgId: 'msg_rot',
        payload: PAYLOAD,
        secret: SECRET,
        previousSecret: previous,
      });
      const { headers, body } = rx.received[0];
      const at = new Date(Number(headers['webhook-timestamp']) * 1000);
      expect(String(headers['webhook-signature']).split(' ')).toEqual([
        new Webhook(SECRET).sign('msg_rot', at, PAYLOAD),
        new Webhook(previous).sign('msg_rot', at, PAYLOAD),
      ]);
      for (const secret of [SECRET, previous])
        expect(new Webhook(secret).verify(body, headers as Record<string, string>)).toEqual(JSON.parse(PAYLOAD));
      expect(() =>
        new Webhook(`whsec_${Buffer.alloc(32, 8).toString('base64')}`).verify(body, headers as Record<string, string>),
      ).toThrow();
    } finally {
      await rx.close();
    }
  });

  it('does not follow redirects: a 3xx is the answer', async () => {
    const target = await receiver((_, res) => res.writeHead(200).end());
    const rx = await receiver((_, res) => res.writeHead(307, { location: target.url }).end());
    try {
      const r = await senderWith({ allowPrivateNetworks: true }).send({
        url: rx.url,
        msgId: 'msg_r',
        payload: PAYLOAD,
        secret: SECRET,
      });
      expect(r.statusCode).toBe(307);
      expect(target.received).toHaveLength(0);
    } finally {
      await rx.close();
      await target.close();
    }
  });

  it('reports Retry-After', async () => {
    const rx = await receiver((_, res) => res.writeHead(429, { 'retry-after': '42' }).end('slow down'));
    try {
      const r = await senderWith({ allowPrivateNetworks: true }).send({
        url: rx.url,
        msgId: 'msg_s',
        payload: PAYLOAD,
        secret: SECRET,
      });
      expect(r).toMatchObject({ statusCode: 429, retryAfterSeconds: 42, error: null });
    } finally {
      await rx.close();
    }
  });

  it('gives up after the timeout when the receiver never answers', async () => {
    const rx = await receiver(() => undefined);
    try {
      const started = Date.now();
      const r = await senderWith({ allowPrivateNetworks: true, timeoutMs: 200 }).send({
        url: rx.url,
        msgId: 'msg_t',
        payload: PAYLOAD,
        secret: SECRET,
      });
      expect(r).toMatchObject({ statusCode: null, error: 'timeout after 200 ms' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await rx.close();
    }
  });

  it('a refused connection is an error, not a status', async () => {
    const rx = await receiver((_, res) => res.end());
    await rx.close();
    const r = await senderWith({ allowPrivateNetworks: true }).send({
      url: rx.url,
      msgId: 'msg_c',
      payload: PAYLOAD,
      secret: SECRET,
    });
    expect(r.statusCode).toBeNull();
    expect(r.error).toMatch(/ECONNREFUSED/);
  });

  it('without private networks: neither an IP literal nor a name resolving to loopback is contacted', async () => {
    const rx = await receiver((_, res) => res.writeHead(200).end());
    try {
      const sender = senderWith({ allowPrivateNetworks: false });
      const literal = await sender.send({ url: rx.url, msgId: 'msg_p', payload: PAYLOAD, secret: SECRET });
      expect(literal).toMatchObject({ statusCode: null, error: '127.0.0.1 is a private address' });
      const named = await sender.send({
        url: `http://localhost:${rx.port}/hook`,
        msgId: 'msg_p',
        payload: PAYLOAD,
        secret: SECRET,
      });
      expect(named).toMatchObject({ statusCode: null, error: 'localhost resolves to a private address' });
      expect(rx.received).toHaveLength(0);
    } finally {
      await rx.close();
    }
  });
});

describe('guardedLookup', () => {
  const fake =
    (addresses: LookupAddress[]) =>
    (_h: string, _o: unknown, cb: (e: NodeJS.ErrnoException | null, a: LookupAddress[]) => void) =>
      cb(null, addresses);
  const run = (addresses: LookupAddress[], all: boolean) =>
    new Promise<{ err: Error | null; address: unknown; family?: number }>((resolve) =>
      guardedLookup(fake(addresses))('hooks.example.org', { all }, (err, address, family) =>
        resolve({ err, address, family }),
      ),
    );

  it('passes public addresses through, in both callback shapes', async () => {
    const addrs = [
      { address: '93.184.215.14', family: 4 },
      { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 },
    ];
    expect(await run(addrs, true)).toEqual({ err: null, address: addrs, family: undefined });
    expect(await run(addrs, false)).toEqual({ err: null, address: '93.184.215.14', family: 4 });
  });

  it.each([
    [[{ address: '10.0.0.7', family: 4 }]],
    [
      [
        { address: '93.184.215.14', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ],
    ], // one bad answer spoils the name
    [[{ address: '::1', family: 6 }]],
    [[{ address: '::ffff:169.254.169.254', family: 6 }]],
    [[]],
  ])('refuses %j', async (addrs) => {
    const r = await run(addrs, true);
    expect(r.err?.message).toBe('hooks.example.org resolves to a private address');
  });

  it('passes resolver errors on', async () => {
    const failing = (_h: string, _o: unknown, cb: (e: NodeJS.ErrnoException | null, a: LookupAddress[]) => void) =>
      cb(Object.assign(new Error('getaddrinfo ENOTFOUND nope.invalid'), { code: 'ENOTFOUND' }), []);
    const err = await new Promise<Error | null>((resolve) =>
      guardedLookup(failing)('nope.invalid', {}, (e) => resolve(e)),
    );
    expect(err?.message).toMatch(/ENOTFOUND/);
  });
});
