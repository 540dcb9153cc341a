import { randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import { readToken, signToken, tokenProblem, type PageTokenPayload, type SyncTokenPayload } from './sync-token.js';

const secret = randomBytes(32);
const CLINIC = '0b6f4c4e-2c1a-4f7e-9d43-5a2b8f0c1d2e';
const OTHER = '7d1e2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b';
const NOW = DateTime.fromISO('2026-11-25T15:00:00Z', { zone: 'utc' });
const sync: SyncTokenPayload = { v: 1, k: 'sync', c: CLINIC, w: '1234:1240:1236', iat: NOW.toISO()! };
const page: PageTokenPayload = {
  v: 1,
  k: 'page',
  c: CLINIC,
  w: '1000:1000:',
  hi: '1234:1240:1236,1238',
  after: OTHER,
  mode: 'delta',
  iat: NOW.toISO()!,
  since: NOW.minus({ days: 2 }).toISO()!,
};

/** Replaces the character at `i` by another one of the base64url alphabet. */
const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);

describe('sync tokens', () => {
  it.each([
    ['a sync token', sync],
    ['a delta page token', page],
    [
      'a full-sync page token',
      {
        v: 1,
        k: 'page',
        c: CLINIC,
        w: '42:43:',
        after: OTHER,
        mode: 'full',
        iat: NOW.toISO()!,
      } satisfies PageTokenPayload,
    ],
  ])('round-trips %s', (_, payload) => {
    const token = signToken(secret, payload);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(readToken(secret, token)).toEqual(payload);
  });

  it('refuses every single-character change of the payload or the signature', () => {
    const token = signToken(secret, sync);
    for (let i = 0; i < token.length; i++) {
      if (token[i] === '.') continue;
      expect(readToken(secret, flip(token, i))).toBeNull();
    }
  });

  it.each([
    ['empty', ''],
    ['garbage', 'not-a-token'],
    ['three parts', `${signToken(secret, sync)}.x`],
    ['no signature', signToken(secret, sync).split('.')[0]],
    ['padding', `${signToken(secret, sync)}=`],
  ])('refuses %s', (_, token) => {
    expect(readToken(secret, token)).toBeNull();
  });

  it("refuses another secret's token, and well-signed payloads of the wrong shape", () => {
    expect(readToken(randomBytes(32), signToken(secret, sync))).toBeNull();
    const bad = [
      { ...sync, v: 2 },
      { ...sync, c: 'x' },
      { ...sync, w: '-1' },
      { ...sync, w: '1234' }, // a bare xid, not a snapshot
      { ...sync, w: '5:18446744073709551616:' },
      { ...sync, w: '10:5:' }, // xmin above xmax
      { ...sync, w: '10:20:25' }, // in progress beyond xmax
      { ...sync, w: '10:20:5' }, // in progress below xmin
      { ...sync, iat: 'yesterday' },
      { ...sync, extra: 1 },
      { ...page, hi: '999' }, // not a snapshot
      { ...page, since: undefined },
      { ...page, mode: 'other' },
      { ...page, after: 'nope' },
      [1, 2],
    ];
    for (const p of bad) expect(readToken(secret, signToken(secret, p as never))).toBeNull();
  });

  describe('tokenProblem', () => {
    const want = { kind: 'sync' as const, clinicId: CLINIC, now: NOW };
    it('accepts a fresh token of the right kind and clinic', () => {
      expect(tokenProblem(sync, want)).toBeNull();
      expect(tokenProblem(page, { ...want, kind: 'page' })).toBeNull();
    });
    it('names the wrong kind, the wrong clinic and an old token', () => {
      expect(tokenProblem(page, want)).toMatch(/page token/);
      expect(tokenProblem(sync, { ...want, kind: 'page' })).toMatch(/sync token/);
      expect(tokenProblem(sync, { ...want, clinicId: OTHER })).toMatch(/another clinic/);
      expect(tokenProblem(sync, { ...want, now: NOW.plus({ days: 30 }) })).toBeNull();
      expect(tokenProblem(sync, { ...want, now: NOW.plus({ days: 30, seconds: 1 }) })).toMatch(/30 days/);
    });
    it('a delta page token is as old as the sync token its chain started from', () => {
      expect(tokenProblem(page, { ...want, kind: 'page', now: NOW.plus({ days: 28 }) })).toBeNull();
      expect(tokenProblem(page, { ...want, kind: 'page', now: NOW.plus({ days: 29 }) })).toMatch(/30 days/);
    });
  });
});
