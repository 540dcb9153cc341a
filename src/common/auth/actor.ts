import type { ApiRole } from '../../api-keys/entities/api-key.entity.js';

/** Who is calling: resolved from the API key by the global guard, passed to every service. */
export interface Actor {
  keyId: string;
  role: ApiRole;
  /** The key's clinic; null for an operator key, which spans all clinics. */
  clinicId: string | null;
  requestId?: string;
  /** Method and route pattern of the request (for the audit trail), e.g. `POST /v1/plans`. */
  route?: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    actor?: Actor;
  }
}
