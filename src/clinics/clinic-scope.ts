import type { EntityManager } from 'typeorm';
import { ClinicError, ClinicErrorCode } from './clinics.errors.js';
import { clinicExists } from './clinics.repository.js';
import { ValidationFailedError } from '../common/errors/common.errors.js';
import type { Actor } from '../common/auth/actor.js';

/**
 * The clinic a new record belongs to: the key's own clinic (a different `requested` one looks
 * unknown), or for an operator key the `requested` clinic, which must exist.
 */
export async function resolveClinicForWrite(
  m: EntityManager,
  actor: Actor,
  requested: string | undefined,
): Promise<string> {
  if (actor.clinicId !== null) {
    if (requested !== undefined && requested !== actor.clinicId)
      throw new ClinicError(ClinicErrorCode.CLINIC_NOT_FOUND, 'No such clinic.');
    return actor.clinicId;
  }
  if (requested === undefined) {
    throw new ValidationFailedError([{ field: 'clinicId', message: 'clinicId is required with an operator key' }]);
  }
  if (!(await clinicExists(m, requested))) throw new ClinicError(ClinicErrorCode.CLINIC_NOT_FOUND, 'No such clinic.');
  return requested;
}

/** The clinic filter for a read: the key's clinic, or for an operator key an optional one. */
export function clinicFilter(actor: Actor, requested?: string): string | undefined | null {
  if (actor.clinicId === null) return requested;
  // A clinic key asking about another clinic sees nothing.
  return requested === undefined || requested === actor.clinicId ? actor.clinicId : null;
}
