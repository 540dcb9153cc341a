import { empty, join, param, raw, sql } from './sql.js';

describe('sql: parameters numbered where they land', () => {
  it('numbers values in the order they appear and sends them in that order', () => {
    const q = sql`SELECT id FROM sessions WHERE clinic_id = ${'c1'} AND starts_at < ${new Date(0)} AND ref = ${'r'}`;
    expect(q.compile()).toEqual({
      text: 'SELECT id FROM sessions WHERE clinic_id = $1 AND starts_at < $2 AND ref = $3',
      params: ['c1', new Date(0), 'r'],
    });
  });

  it('numbers a fragment where it is spliced in, however deep', () => {
    const inner = sql`b = ${2} AND c = ${sql`(${3})`}`;
    const q = sql`SELECT ${1} WHERE ${inner} AND d = ${4}`;
    expect(q.compile()).toEqual({ text: 'SELECT $1 WHERE b = $2 AND c = ($3) AND d = $4', params: [1, 2, 3, 4] });
    // The same fragment alone starts at $1.
    expect(inner.compile()).toEqual({ text: 'b = $1 AND c = ($2)', params: [2, 3] });
  });

  it('sends a param once, with one number wherever it appears; a plain value each time', () => {
    const clinic = param('c1');
    const q = sql`SELECT ${sql`lock(${clinic})`}, ${'x'}, ${clinic}, ${'x'}`;
    expect(q.compile()).toEqual({ text: 'SELECT lock($1), $2, $1, $3', params: ['c1', 'x', 'x'] });
  });

  it('puts no value into the text: strings, nulls and arrays are parameters', () => {
    const q = sql`SELECT ${"'; DROP TABLE x; --"}, ${null}, ${['a', 'b']}::text[]`;
    expect(q.compile()).toEqual({
      text: 'SELECT $1, $2, $3::text[]',
      params: ["'; DROP TABLE x; --", null, ['a', 'b']],
    });
  });

  it('raw text, empty parts and joined lists', () => {
    const where = [sql`a = ${1}`, sql`b = ${2}`, sql`c = ${3}`];
    const q = sql`SELECT ${raw('x, y')} FROM t WHERE ${join(where, ' AND ')}${empty} LIMIT ${10}`;
    expect(q.compile()).toEqual({
      text: 'SELECT x, y FROM t WHERE a = $1 AND b = $2 AND c = $3 LIMIT $4',
      params: [1, 2, 3, 10],
    });
    expect(join([]).compile()).toEqual({ text: '', params: [] });
    expect(join([sql`${1}`]).compile()).toEqual({ text: '$1', params: [1] });
  });
});
