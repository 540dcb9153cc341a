import type { Server } from 'node:http';
import request from 'supertest';
import type { ProtocolStep } from '../../src/protocols/domain/protocol-step.js';
import { KETAMINE_PROTOCOL } from '../../src/seed/demo-protocol.js';

/** Creates a protocol through the API (the demo ketamine protocol unless told otherwise), publishes version 1, returns its id. */
export async function publishProtocol(
  http: Server,
  clinicianKey: string,
  overrides: { name?: string; steps?: ProtocolStep[] | Record<string, unknown>[] } = {},
): Promise<string> {
  const auth = { Authorization: `Bearer ${clinicianKey}` };
  const created = await request(http)
    .post('/v1/protocols')
    .set(auth)
    .send({
      name: overrides.name ?? KETAMINE_PROTOCOL.name,
      indication: KETAMINE_PROTOCOL.indication,
      description: KETAMINE_PROTOCOL.description,
      steps: overrides.steps ?? KETAMINE_PROTOCOL.steps,
    });
  expect(created.status).toBe(201);
  const published = await request(http).post(`/v1/protocols/${created.body.id}/publish`).set(auth).send();
  expect({ status: published.status, version: published.body.version }).toEqual({ status: 201, version: 1 });
  return created.body.id;
}
