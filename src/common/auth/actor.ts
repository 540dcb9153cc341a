import type { ApiRole } from './api-role.js';

/** Who is calling: resolved from the API key by the global guard, passed to every service. */
export interface Actor {
  keyId: string;
  role: ApiRole;
  /**
   * The clinic this request acts in: the key's own clinic, or the one picked with the
   * `Chairside-Clinic` header among those the key may act in; null for an operator key without
   * the header, which spans all clinics.
   */
  clinicId: string | null;
  /** Every clinic the key may act in, its own first; null for an operator key (all of them). */
  clinicIds?: string[] | null;
  requestId?: string;
  /** The caller's own `X-Request-Id` (well-formed ones only), kept beside ours. */
  clientRequestId?: string;
  /** Method and route pattern of the request (for the audit trail), e.g. `POST /v1/plans`. */
  route?: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    actor?: Actor;
  }
}
