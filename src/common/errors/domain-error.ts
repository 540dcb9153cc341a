import type { ErrorCode } from './error-codes.js';

/** One problem with one input field, as reported in problem+json `errors`. */
export interface FieldError {
  field: string;
  message: string;
}

/**
 * An expected failure, raised by services and mapped to HTTP in exactly one place
 * (the problem+json filter). Services never throw HttpException.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly errors: FieldError[] = [],
    /** Extra members for the problem body (e.g. the binding constraint). Never patient data. */
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}
