import { ValidationFailedError } from '../errors/common.errors.js';

/** Opaque keyset cursors: base64url of the last row's sort key. */
export function encodeCursor(values: string[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export type CursorPart = 'text' | 'uuid' | 'timestamp';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PART_OK: Record<CursorPart, (v: string) => boolean> = {
  text: (v) => v.length <= 1000,
  uuid: (v) => UUID_RE.test(v),
  timestamp: (v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/.test(v) && !Number.isNaN(Date.parse(v)),
};

/**
 * Decodes a cursor into parts of the given kinds; anything this service did not issue is a 400
 * naming `cursor` (checked here so that no forged value reaches a query).
 */
export function decodeCursor<const K extends readonly CursorPart[]>(
  cursor: string | undefined,
  kinds: K,
): { -readonly [I in keyof K]: string } | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === kinds.length &&
      parsed.every((v, i) => typeof v === 'string' && PART_OK[kinds[i]](v))
    ) {
      return parsed as { -readonly [I in keyof K]: string };
    }
  } catch {
    // fall through
  }
  throw new ValidationFailedError([{ field: 'cursor', message: 'cursor is not one this service issued' }]);
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
