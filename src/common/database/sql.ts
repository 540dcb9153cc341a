import type { EntityManager } from 'typeorm';

/**
 * The one way to write SQL with parameters: a tagged template whose `${value}`s are sent as
 * parameters and numbered `$1…$n` in the order they appear in the final text, so no statement
 * counts its placeholders by hand and fragments compose (`${otherSql}` is spliced in, its
 * parameters numbered where it lands).
 *
 *   const clinic = param(clinicId); // one `$n`, however often it appears
 *   const q = sql`SELECT id FROM sessions WHERE clinic_id = ${clinic} AND starts_at < ${to}`;
 *   await runSql(m, q);
 *
 * A plain value is a new parameter each time it appears; a {@link param} is one parameter wherever
 * it appears (PostgreSQL then infers one type for it, as for a hand-written `$1` used twice).
 * Only {@link raw} puts text into a statement, and only for constants written in the code.
 */
export class Sql {
  /** @internal */
  constructor(
    readonly strings: readonly string[],
    readonly values: readonly unknown[],
  ) {}

  /** The statement's text, with `$1…$n`, and its parameters in that order. */
  compile(): { text: string; params: unknown[] } {
    const params: unknown[] = [];
    const numbers = new Map<Param, number>();
    const text = this.write(params, numbers);
    return { text, params };
  }

  /** Its text (numbered as when compiled on its own). */
  get text(): string {
    return this.compile().text;
  }

  private write(params: unknown[], numbers: Map<Param, number>): string {
    let out = this.strings[0];
    for (let i = 0; i < this.values.length; i++) {
      const v = this.values[i];
      if (v instanceof Sql) {
        out += v.write(params, numbers);
      } else if (v instanceof Param) {
        let n = numbers.get(v);
        if (n === undefined) {
          n = params.push(v.value);
          numbers.set(v, n);
        }
        out += `$${n}`;
      } else {
        out += `$${params.push(v)}`;
      }
      out += this.strings[i + 1];
    }
    return out;
  }
}

/** A value sent once and referred to by the same `$n` wherever it appears in a statement. */
export class Param<T = unknown> {
  constructor(readonly value: T) {}
}

/** A statement or fragment: see {@link Sql}. */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  return new Sql(strings, values);
}

/** One parameter however often it is interpolated. */
export function param<T>(value: T): Param<T> {
  return new Param(value);
}

/** Text written in the code (a column list, a constant condition), never a value from outside. */
export function raw(text: string): Sql {
  return new Sql([text], []);
}

/** Nothing (an optional part left out). */
export const empty: Sql = raw('');

/** The fragments with `separator` between them. */
export function join(parts: readonly Sql[], separator = ', '): Sql {
  if (parts.length === 0) return empty;
  return new Sql(['', ...parts.slice(1).map(() => separator), ''], parts);
}

/** Runs the statement through `m` (a transaction's manager, or the data source's). */
export function runSql<T = Record<string, unknown>>(m: Pick<EntityManager, 'query'>, q: Sql): Promise<T[]> {
  const { text, params } = q.compile();
  return m.query(text, params);
}
