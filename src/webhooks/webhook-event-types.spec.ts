import { randomUUID } from 'node:crypto';
import { messagePublicId, parseMessageId } from './webhook-event-types.js';

describe('message ids', () => {
  it('msg_ + 32 hex digits, and back', () => {
    const uuid = randomUUID();
    const id = messagePublicId(uuid);
    expect(id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(parseMessageId(id)).toBe(uuid);
    expect(parseMessageId(uuid)).toBe(uuid);
    expect(parseMessageId(uuid.toUpperCase())).toBe(uuid);
  });

  it.each(['', 'msg_', 'msg_123', `msg_${'g'.repeat(32)}`, `evt_${'a'.repeat(32)}`, 'x'.repeat(5000)])(
    '%j is no message id',
    (id) => {
      expect(parseMessageId(id)).toBeUndefined();
    },
  );
});
