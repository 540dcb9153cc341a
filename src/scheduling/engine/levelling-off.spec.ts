import { readFileSync } from 'node:fs';
import { BookingIndex } from './booking-index.js';
import { compactResult, DIFFERENTIAL_CASES, differentialCases } from './fixtures.js';
import { schedule } from './schedule.js';

// Differential test of issue 17: a clinic that does not opt in to levelling gets today's plans.
// The oracle is not today's engine with a switch turned (that would compare the code with
// itself) but the plans the engine computed before levelling and start staggering existed
// (commit d208fe5), frozen in levelling-off.plans.json; see fixtures.ts (differentialCases).

const frozen = JSON.parse(readFileSync(new URL('./levelling-off.plans.json', import.meta.url), 'utf8')) as string[][];
const cases = differentialCases();

describe('levelling off: the plans from before levelling existed', () => {
  it('the frozen file holds one result per case, and the cases are varied', () => {
    expect(frozen).toHaveLength(DIFFERENTIAL_CASES);
    expect(cases).toHaveLength(DIFFERENTIAL_CASES);
    const planned = frozen.filter((r) => !r[0].startsWith('refused')).length;
    expect(planned).toBeGreaterThan(DIFFERENTIAL_CASES * 0.8);
    expect(planned).toBeLessThan(DIFFERENTIAL_CASES);
  });

  it.each([
    ['unset', undefined],
    ['off', 'off'],
  ] as const)('levelling %s plans every case exactly as before', (_, levelling) => {
    const differing: number[] = [];
    cases.forEach((req, i) => {
      const r = schedule(levelling === undefined ? req : { ...req, levelling });
      if (JSON.stringify(compactResult(r)) !== JSON.stringify(frozen[i])) differing.push(i);
    });
    expect(differing).toEqual([]);
  });

  it('the same with the bookings indexed by the caller (the service path)', () => {
    const differing: number[] = [];
    cases.forEach((req, i) => {
      const bookedIndex = BookingIndex.of(req.booked);
      const r = schedule({ ...req, booked: [], bookedIndex, levelling: 'off' });
      if (JSON.stringify(compactResult(r)) !== JSON.stringify(frozen[i])) differing.push(i);
    });
    expect(differing).toEqual([]);
  });

  it('the oracle can tell: balanced plans differ from it in some cases, and plan every case it plans', () => {
    let differing = 0;
    cases.forEach((req, i) => {
      const r = compactResult(schedule({ ...req, levelling: 'balanced' }));
      if (JSON.stringify(r) !== JSON.stringify(frozen[i])) differing++;
      expect(r[0].startsWith('refused')).toBe(frozen[i][0].startsWith('refused'));
    });
    expect(differing).toBeGreaterThanOrEqual(10);
  });
});
