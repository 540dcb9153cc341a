/** The HTTP statuses an error code may map to. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 410 | 412 | 413 | 415 | 422 | 428 | 429 | 431 | 500 | 503;

/**
 * A stable error code clients switch on. Each feature declares its own codes (an enum in its
 * `*.errors.ts`) and registers their statuses with {@link registerErrorCodes}; `common` knows none
 * of them.
 */
export type ErrorCode = string;

const registry = new Map<ErrorCode, { status: ErrorStatus; owner: string }>();

/**
 * Registers a feature's codes and their HTTP statuses: the one place a code becomes a status.
 * Called once by each `*.errors.ts` when it loads, so a code is known before any error carrying
 * it can be raised. `statuses` must name every member of `codes` (the type says so: a new code
 * must be mapped), and a code may belong to one owner only (a clash throws at load).
 */
export function registerErrorCodes<E extends Record<string, ErrorCode>>(
  owner: string,
  codes: E,
  statuses: Record<E[keyof E], ErrorStatus>,
): void {
  for (const code of Object.values(codes)) {
    const known = registry.get(code);
    if (known && known.owner !== owner) {
      throw new Error(`error code ${code} is registered by both ${known.owner} and ${owner}`);
    }
    registry.set(code, { status: statuses[code as E[keyof E]], owner });
  }
}

/** Every code registered so far (the features loaded). */
export function registeredErrorCodes(): ErrorCode[] {
  return [...registry.keys()];
}

/** The HTTP status of a registered code; an unregistered one is a programming error. */
export function statusForCode(code: ErrorCode): ErrorStatus {
  const entry = registry.get(code);
  if (!entry) throw new Error(`unmapped error code ${String(code)}`);
  return entry.status;
}

/** `type` URI of a problem: a stable identifier clients can switch on. */
export function problemType(code: ErrorCode): string {
  return `urn:chairside:problem:${code.toLowerCase().replace(/_/g, '-')}`;
}
