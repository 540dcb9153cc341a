import { RETRYABLE_SQLSTATES, sqlState } from '../errors/database-errors.js';

/**
 * Runs `work` again when PostgreSQL reports a serialization failure or a deadlock (40001, 40P01),
 * a bounded number of times with a short jittered pause; any other error goes straight through.
 */
export async function withRetries<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= attempts || !RETRYABLE_SQLSTATES.has(sqlState(err) ?? '')) throw err;
      await new Promise((r) => setTimeout(r, 5 * attempt + Math.floor(Math.random() * 10)));
    }
  }
}
