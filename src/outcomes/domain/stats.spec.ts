import fc from 'fast-check';
import {
  countCell,
  protectPartition,
  quantileSorted,
  rateCell,
  sortedValues,
  shareCell,
  summarize,
  SUPPRESSION_THRESHOLD,
  type Obs,
} from './stats.js';

const obs = (values: number[], patients = values.map((_, i) => `p${i}`)): Obs[] =>
  values.map((value, i) => ({ value, patient: patients[i] }));

describe('sortedValues', () => {
  const bySort = (xs: number[]) => [...new Float64Array(xs).sort()];
  it('orders whole numbers in a small range (counted) and anything else (sorted) as a sort does', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -60, max: 60 }), { maxLength: 300 }), (xs) => {
        expect([...sortedValues(xs)]).toEqual(bySort(xs));
      }),
    );
    fc.assert(
      // No -0 (the report has none; counting would place it as 0).
      fc.property(
        fc.array(
          fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((x) => x + 0),
          { maxLength: 300 },
        ),
        (xs) => {
          expect([...sortedValues(xs)]).toEqual(bySort(xs));
        },
      ),
    );
    // Thousandths (doses), counted; finer fractions and ranges too wide to count, sorted.
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -3000, max: 3000 }), { maxLength: 300 }), (ks) => {
        const xs = ks.map((k) => k / 1000 + 0);
        expect([...sortedValues(xs)]).toEqual(bySort(xs));
      }),
    );
    expect([...sortedValues([3, 1, 2, 0.5, 0.4])]).toEqual([0.4, 0.5, 1, 2, 3]);
    expect([...sortedValues([1 / 24, 0, 2])]).toEqual([0, 1 / 24, 2]);
    expect([...sortedValues([5000, 0, 2])]).toEqual([0, 2, 5000]);
  });
});

describe('quantileSorted (type 7)', () => {
  // Expected values from R: quantile(x, p, type = 7).
  it.each([
    [[1, 2, 3, 4], 0.5, 2.5],
    [[1, 2, 3, 4], 0.25, 1.75],
    [[1, 2, 3, 4], 0.75, 3.25],
    [[1, 2, 3, 4], 0.9, 3.7],
    [[1, 3, 4, 6, 6, 7], 0.75, 6],
    [[10, 14, 16, 18, 20], 0.9, 19.2],
    [[5], 0.9, 5],
    [[0, 10], 0, 0],
    [[0, 10], 1, 10],
  ])('%j at %f is %f', (xs, p, expected) => {
    expect(quantileSorted(xs, p)).toBeCloseTo(expected, 10);
  });

  it('refuses no values and p outside [0, 1]', () => {
    expect(() => quantileSorted([], 0.5)).toThrow(RangeError);
    expect(() => quantileSorted([1], 1.5)).toThrow(RangeError);
  });

  const sortedArray = fc
    .array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 60 })
    .map((xs) => xs.sort((a, b) => a - b));

  it('lies within the range, rises with p, and hits the order statistics at the ranks', () => {
    fc.assert(
      fc.property(
        sortedArray,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (xs, a, b) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          const qa = quantileSorted(xs, lo);
          const qb = quantileSorted(xs, hi);
          expect(qa).toBeGreaterThanOrEqual(xs[0]);
          expect(qb).toBeLessThanOrEqual(xs[xs.length - 1]);
          expect(qa).toBeLessThanOrEqual(qb + 1e-9);
          for (let k = 0; k < xs.length; k++)
            expect(quantileSorted(xs, xs.length === 1 ? 0 : k / (xs.length - 1))).toBeCloseTo(xs[k], 9);
        },
      ),
    );
  });

  it('the median of an odd count is the middle value; of an even count, the mean of the two middle ones', () => {
    fc.assert(
      fc.property(sortedArray, (xs) => {
        const m = xs.length >> 1;
        expect(quantileSorted(xs, 0.5)).toBeCloseTo(xs.length % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2, 9);
      }),
    );
  });
});

describe('suppression', () => {
  it('a summary of fewer than 5 patients is suppressed, whatever the number of values', () => {
    expect(summarize(obs([1, 2, 3, 4]))).toEqual({ suppressed: true });
    expect(summarize(obs([1, 2, 3, 4, 5, 6], ['a', 'a', 'b', 'c', 'd', 'd']))).toEqual({ suppressed: true });
    expect(summarize([])).toEqual({ suppressed: true });
    expect(summarize(obs([4, 1, 3, 2, 5]))).toEqual({
      n: 5,
      patients: 5,
      mean: 3,
      median: 3,
      q1: 2,
      q3: 4,
      p90: 4.6,
      min: 1,
      max: 5,
    });
  });

  it('counts: 0 shown, 1–4 patients suppressed', () => {
    expect(countCell(0, 0)).toEqual({ count: 0, patients: 0 });
    expect(countCell(12, 4)).toEqual({ suppressed: true });
    expect(countCell(12, 5)).toEqual({ count: 12, patients: 5 });
  });

  it('shares: suppressed when the outcome, or its absence, is 1–4 patients', () => {
    const e = (hits: number, misses: number) =>
      [...Array(hits)]
        .map((_, i) => ({ patient: `h${i}`, hit: true }))
        .concat([...Array(misses)].map((_, i) => ({ patient: `m${i}`, hit: false })));
    expect(shareCell(e(5, 5))).toEqual({ n: 10, patients: 10, count: 5, share: 0.5 });
    expect(shareCell(e(0, 6))).toEqual({ n: 6, patients: 6, count: 0, share: 0 });
    expect(shareCell(e(6, 0))).toEqual({ n: 6, patients: 6, count: 6, share: 1 });
    expect(shareCell(e(4, 6))).toEqual({ suppressed: true });
    expect(shareCell(e(6, 4))).toEqual({ suppressed: true });
  });

  it('rates: per 100 of the denominator; suppressed for 1–4 patients', () => {
    expect(
      rateCell(
        [...Array(6)].map((_, i) => ({ patient: `p${i % 5}` })),
        14,
      ),
    ).toEqual({ count: 6, denominator: 14, patients: 5, per100: 42.86 });
    expect(rateCell([{ patient: 'a' }], 14)).toEqual({ suppressed: true });
    expect(rateCell([], 0)).toEqual({ count: 0, denominator: 0, patients: 0, per100: 0 });
  });

  it('no cell ever shows a figure drawn from fewer than 5 patients (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            value: fc.integer({ min: 0, max: 10 }),
            patient: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g'),
          }),
          { maxLength: 40 },
        ),
        (xs) => {
          const patients = new Set(xs.map((x) => x.patient)).size;
          const s = summarize(xs);
          expect('suppressed' in s).toBe(patients < SUPPRESSION_THRESHOLD);
          const c = countCell(xs.length, patients);
          expect('suppressed' in c).toBe(xs.length > 0 && patients < SUPPRESSION_THRESHOLD);
        },
      ),
    );
  });

  it('a partition shown with its total never has exactly one part hidden (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 2, maxLength: 5 }), (counts) => {
        const total = countCell(
          counts.reduce((a, b) => a + b, 0),
          counts.reduce((a, b) => a + b, 0),
        );
        const parts = protectPartition(
          total,
          counts.map((n) => countCell(n, n)),
        );
        const hidden = parts.filter((p) => 'suppressed' in p);
        const hiddenNonZero = counts.filter((n, i) => 'suppressed' in parts[i] && n > 0);
        // Either nothing is hidden, or at least two parts are, or the one hidden part is the only non-zero one left to subtract from.
        const visibleNonZero = parts.filter((p) => !('suppressed' in p) && p.count > 0).length;
        expect(
          hidden.length !== 1 || 'suppressed' in total || (hiddenNonZero.length === 1 && visibleNonZero === 0),
        ).toBe(true);
      }),
    );
  });
});
