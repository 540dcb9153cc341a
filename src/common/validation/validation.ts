import { ParseUUIDPipe, ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { Param } from '@nestjs/common';
import { ValidationFailedError } from '../errors/common.errors.js';
import type { FieldError } from '../errors/domain-error.js';

/** Flattens class-validator's tree into `{ field: "openingHours.1.end", message }` entries. */
export function flattenValidationErrors(errors: ValidationError[], prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    for (const message of Object.values(e.constraints ?? {})) {
      // class-validator names only the leaf property; say which field in full.
      out.push({ field, message: message.replace(/^property (\S+) should not exist$/, 'is not a known field') });
    }
    // A loop, not push(...): 10,000 invalid array items give more errors than a call may take arguments (a RangeError, so a 500).
    if (e.children?.length) for (const child of flattenValidationErrors(e.children, field)) out.push(child);
  }
  return out;
}

/** At most this many field errors in one answer: a hostile body must not make a huge one. */
export const MAX_REPORTED_ERRORS = 100;

/** Keys that class-transformer drops or treats as the object's own machinery, so that whitelisting never sees them. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Where a parsed body or query holds a `__proto__`, `constructor` or `prototype` key (JSON.parse
 * and the query parser make them own properties), as field paths. Iterative; bodies are at most
 * 32 levels deep (JsonBodyMiddleware).
 */
export function forbiddenKeyPaths(value: unknown): string[] {
  const out: string[] = [];
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0 && out.length < MAX_REPORTED_ERRORS) {
    const [v, prefix] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    for (const key of Object.keys(v)) {
      const field = prefix ? `${prefix}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) out.push(field);
      else stack.push([(v as Record<string, unknown>)[key], field]);
    }
  }
  return out.sort();
}

/** The DTO pipe, refusing prototype-polluting keys as the unknown fields they are (class-transformer would drop them silently). */
class DtoValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const dto = metadata.metatype;
    if ((metadata.type === 'body' || metadata.type === 'query') && dto && this.toValidate(metadata)) {
      const fields = forbiddenKeyPaths(value);
      if (fields.length > 0)
        throw new ValidationFailedError(fields.map((field) => ({ field, message: 'is not a known field' })));
    }
    return super.transform(value, metadata);
  }
}

/** The global pipe: strips nothing silently — unknown fields are refused — and reports every field. */
export function createValidationPipe(): ValidationPipe {
  return new DtoValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const all = flattenValidationErrors(errors);
      return all.length <= MAX_REPORTED_ERRORS
        ? new ValidationFailedError(all)
        : new ValidationFailedError(
            all.slice(0, MAX_REPORTED_ERRORS),
            `The request has ${all.length} invalid fields; the first ${MAX_REPORTED_ERRORS} are listed.`,
          );
    },
  });
}

/** A path parameter that must be a UUID; anything else is a 400 naming the parameter. */
export function UuidParam(name: string): ParameterDecorator {
  return Param(
    name,
    new ParseUUIDPipe({
      exceptionFactory: () =>
        new ValidationFailedError([{ field: name, message: `${name} must be a UUID` }], 'A path parameter is invalid.'),
    }),
  );
}
