import { decideOutcome, JITTER, MAX_RETRY_AFTER_SECONDS, parseRetryAfter } from './delivery-policy.js';

const DELAYS = [5, 300, 1800];
const mid = () => 0.5; // no jitter

describe('decideOutcome', () => {
  it.each([200, 201, 202, 204, 299])('%s is delivered', (statusCode) => {
    expect(decideOutcome({ statusCode, attempts: 1, retryDelaysSeconds: DELAYS })).toEqual({ kind: 'delivered' });
  });

  it('410 disables, even on the last attempt', () => {
    expect(decideOutcome({ statusCode: 410, attempts: 1, retryDelaysSeconds: DELAYS })).toEqual({ kind: 'disable' });
    expect(decideOutcome({ statusCode: 410, attempts: 4, retryDelaysSeconds: DELAYS })).toEqual({ kind: 'disable' });
  });

  it.each([
    [301, 1, 5],
    [302, 2, 300],
    [400, 3, 1800],
    [429, 1, 5],
    [500, 2, 300],
    [503, 3, 1800],
    [null, 1, 5], // network error or timeout
  ])('%s on attempt %s retries after the schedule (%s s)', (statusCode, attempts, delay) => {
    expect(decideOutcome({ statusCode, attempts, retryDelaysSeconds: DELAYS, random: mid })).toEqual({
      kind: 'retry',
      delaySeconds: delay,
    });
  });

  it('one attempt more than there are delays, then dead', () => {
    expect(decideOutcome({ statusCode: 500, attempts: 4, retryDelaysSeconds: DELAYS })).toEqual({ kind: 'dead' });
    expect(decideOutcome({ statusCode: null, attempts: 5, retryDelaysSeconds: DELAYS })).toEqual({ kind: 'dead' });
    expect(decideOutcome({ statusCode: 500, attempts: 1, retryDelaysSeconds: [] })).toEqual({ kind: 'dead' });
  });

  it('jitter stays within ±10 %', () => {
    const low = decideOutcome({ statusCode: 500, attempts: 2, retryDelaysSeconds: DELAYS, random: () => 0 });
    const high = decideOutcome({ statusCode: 500, attempts: 2, retryDelaysSeconds: DELAYS, random: () => 0.999999 });
    expect(low).toEqual({ kind: 'retry', delaySeconds: 300 * (1 - JITTER) });
    expect(high.kind === 'retry' && high.delaySeconds).toBeCloseTo(300 * (1 + JITTER), 3);
    for (let i = 0; i < 200; i++) {
      const o = decideOutcome({ statusCode: 500, attempts: 1, retryDelaysSeconds: DELAYS });
      expect(o.kind === 'retry' && o.delaySeconds >= 4.5 && o.delaySeconds <= 5.5).toBe(true);
    }
  });

  it('Retry-After wins when longer, is capped at a day, and never shortens the schedule', () => {
    expect(
      decideOutcome({ statusCode: 429, attempts: 1, retryDelaysSeconds: DELAYS, retryAfterSeconds: 120, random: mid }),
    ).toEqual({ kind: 'retry', delaySeconds: 120 });
    expect(
      decideOutcome({ statusCode: 503, attempts: 2, retryDelaysSeconds: DELAYS, retryAfterSeconds: 1, random: mid }),
    ).toEqual({ kind: 'retry', delaySeconds: 300 });
    expect(
      decideOutcome({
        statusCode: 503,
        attempts: 1,
        retryDelaysSeconds: DELAYS,
        retryAfterSeconds: 10 ** 9,
        random: mid,
      }),
    ).toEqual({
      kind: 'retry',
      delaySeconds: MAX_RETRY_AFTER_SECONDS,
    });
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-25T15:00:00Z');
  it.each([
    [undefined, null],
    ['', null],
    ['120', 120],
    [' 7 ', 7],
    [['30', '60'], 30],
    ['Wed, 25 Nov 2026 15:02:00 GMT', 120],
    ['Wed, 25 Nov 2026 14:00:00 GMT', 0],
    ['-5', null],
    ['1.5', null],
    ['soon', null],
  ])('%j → %s', (value, expected) => {
    expect(parseRetryAfter(value as string | string[] | undefined, now)).toBe(expected);
  });
});
