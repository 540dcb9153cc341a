import type request from 'supertest';

/**
 * Asserts an RFC 9457 problem response with this status and code. With `fields`, `errors[].field`
 * must name each of them; with `exact`, exactly them (in any order).
 */
export function expectProblem(
  res: request.Response,
  status: number,
  code: string,
  fields?: string | string[],
  opts: { exact?: boolean } = {},
): void {
  expect({ status: res.status, body: res.body }).toMatchObject({ status, body: { status, code } });
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(typeof res.body.type).toBe('string');
  expect(typeof res.body.detail).toBe('string');
  if (fields === undefined) return;
  const wanted = typeof fields === 'string' ? [fields] : fields;
  expect(Array.isArray(res.body.errors)).toBe(true);
  const got = (res.body.errors as { field: string }[]).map((e) => e.field);
  if (opts.exact) expect([...new Set(got)].sort()).toEqual([...wanted].sort());
  else for (const f of wanted) expect(got).toContain(f);
}
