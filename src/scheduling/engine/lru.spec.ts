import { Lru } from './lru.js';

describe('Lru', () => {
  it('keeps at most max entries, forgetting the least recently set first', () => {
    const c = new Lru<string, number>('test', 3);
    for (const [i, k] of ['a', 'b', 'c', 'd', 'e'].entries()) {
      c.set(k, i);
      expect(c.size).toBeLessThanOrEqual(3);
    }
    expect([...c.keys()]).toEqual(['c', 'd', 'e']);
    expect(c.get('a')).toBeUndefined();
    expect(c.get('b')).toBeUndefined();
  });

  it('a get makes the entry the most recent, so another goes first', () => {
    const c = new Lru<string, number>('test', 3);
    c.set('a', 1).set('b', 2).set('c', 3);
    expect(c.get('a')).toBe(1);
    c.set('d', 4);
    expect([...c.keys()]).toEqual(['c', 'a', 'd']);
    expect(c.has('b')).toBe(false);
  });

  it('setting a held key again refreshes it and does not grow the cache', () => {
    const c = new Lru<string, number>('test', 2);
    c.set('a', 1).set('b', 2).set('a', 10);
    expect(c.size).toBe(2);
    c.set('c', 3);
    expect([...c.keys()]).toEqual(['a', 'c']);
    expect(c.get('a')).toBe(10);
  });

  it('peek and has leave the order as it is', () => {
    const c = new Lru<string, number>('test', 2);
    c.set('a', 1).set('b', 2);
    expect(c.peek('a')).toBe(1);
    expect(c.has('a')).toBe(true);
    c.set('c', 3);
    expect([...c.keys()]).toEqual(['b', 'c']);
  });

  it('holds null and NaN values as values, not as absence', () => {
    const c = new Lru<string, number | null>('test', 2);
    c.set('n', null).set('x', NaN);
    expect(c.get('n')).toBeNull();
    expect(c.get('x')).toBeNaN();
    c.set('y', 1);
    expect([...c.keys()]).toEqual(['x', 'y']);
  });

  it('delete and clear forget entries', () => {
    const c = new Lru<number, number>('test', 5);
    c.set(1, 1).set(2, 2).set(3, 3);
    expect(c.delete(2)).toBe(true);
    expect([...c.keys()]).toEqual([1, 3]);
    c.clear();
    expect(c.size).toBe(0);
  });

  it('a size of one keeps the last entry only', () => {
    const c = new Lru<string, number>('test', 1);
    c.set('a', 1).set('b', 2);
    expect([...c.keys()]).toEqual(['b']);
  });

  it('refuses a size that is not a positive integer', () => {
    expect(() => new Lru('bad', 0)).toThrow(RangeError);
    expect(() => new Lru('bad', 1.5)).toThrow(/bad: max must be a positive integer/);
  });
});
