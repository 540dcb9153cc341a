/** Half-open interval [start, end) in epoch minutes. */
export interface Span {
  start: number;
  end: number;
}

/** Spans sorted by start, with the longest length, for bounded overlap scans. */
export class SpanIndex {
  private readonly spans: Span[];
  private readonly longest: number;

  constructor(spans: Span[]) {
    this.spans = [...spans].sort((a, b) => a.start - b.start || a.end - b.end);
    this.longest = this.spans.reduce((m, s) => Math.max(m, s.end - s.start), 0);
  }

  /** Index of the first span starting at or after `end`: nothing from there on overlaps [·, end). */
  private firstStartingFrom(end: number): number {
    let lo = 0;
    let hi = this.spans.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.spans[mid].start < end) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Every span overlapping [start, end). */
  overlapping(start: number, end: number): Span[] {
    const out: Span[] = [];
    for (let j = this.firstStartingFrom(end) - 1; j >= 0; j--) {
      const s = this.spans[j];
      if (s.start + this.longest <= start) break;
      if (s.end > start) out.push(s);
    }
    return out;
  }

  /** Whether any span overlaps [start, end); no allocation (the hot path of the engine). */
  overlaps(start: number, end: number): boolean {
    for (let j = this.firstStartingFrom(end) - 1; j >= 0; j--) {
      const s = this.spans[j];
      if (s.start + this.longest <= start) return false;
      if (s.end > start) return true;
    }
    return false;
  }
}

/** The most spans that overlap at any single instant within [start, end). */
export function peakOverlap(spans: Span[], start: number, end: number): number {
  const events: [number, number][] = [];
  for (const s of spans) {
    const a = Math.max(s.start, start);
    const b = Math.min(s.end, end);
    if (a < b) events.push([a, 1], [b, -1]);
  }
  // Ends before starts at the same instant: touching spans do not overlap.
  events.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let current = 0;
  let peak = 0;
  for (const [, delta] of events) {
    current += delta;
    if (current > peak) peak = current;
  }
  return peak;
}
