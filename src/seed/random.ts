/**
 * mulberry32: a small deterministic generator, for the seeded data of the demo history, the outcomes
 * tests and the benchmarks (the same seed, the same numbers on every run). The pure engine keeps its
 * own copy in src/scheduling/engine/fixtures.ts, since the engine imports nothing of the app.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
