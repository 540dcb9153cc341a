import type { ApiRole } from '../../api-keys/entities/api-key.entity.js';

/** Who is calling: resolved from the API key by the global guard, passed to every service. */
export interface Actor {
  keyId: string;
  role: ApiRole;
  /** The key's clinic; null for an operator key, which spans all clinics. */
  clinicId: string | null;
  requestId?: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    actor?: Actor;
  }
}
