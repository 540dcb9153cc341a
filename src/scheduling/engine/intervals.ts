/** Half-open interval [start, end) in epoch minutes. */
export interface Span {
  start: number;
  end: number;
}

/**
 * Spans sorted by start, with the longest length, for bounded overlap scans. Only the order of
 * starts matters (spans starting together may come in any order), and spans already in order
 * (bookings loaded by start) are taken as they are, unsorted and uncopied.
 */
export class SpanIndex {
  /** The spans by start: `items[j]` is the j-th. */
  readonly items: Span[];
  /** At least the longest span's length (it only grows: a removal leaves it as it was). */
  longest: number;

  constructor(spans: Span[]) {
    let sorted = true;
    let longest = 0;
    for (let j = 0; j < spans.length; j++) {
      const s = spans[j];
      if (j > 0 && spans[j - 1].start > s.start) sorted = false;
      if (s.end - s.start > longest) longest = s.end - s.start;
    }
    this.items = sorted ? spans : [...spans].sort((a, b) => a.start - b.start);
    this.longest = longest;
  }

  /** Index of the first span starting at or after `end`: nothing from there on overlaps [·, end). */
  firstStartingFrom(end: number): number {
    const items = this.items;
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (items[mid].start < end) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Adds a span in its place by start (the index then owns `items`: see BookingIndex). */
  insert(span: Span): void {
    const items = this.items;
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (items[mid].start <= span.start) lo = mid + 1;
      else hi = mid;
    }
    items.splice(lo, 0, span);
    if (span.end - span.start > this.longest) this.longest = span.end - span.start;
  }

  /** Removes this span (the same object); false when it is not there. */
  remove(span: Span): boolean {
    const items = this.items;
    for (let j = this.firstStartingFrom(span.start); j < items.length && items[j].start === span.start; j++) {
      if (items[j] === span) {
        items.splice(j, 1);
        return true;
      }
    }
    return false;
  }

  /** Every span overlapping [start, end). */
  overlapping(start: number, end: number): Span[] {
    const out: Span[] = [];
    for (let j = this.firstStartingFrom(end) - 1; j >= 0; j--) {
      const s = this.items[j];
      if (s.start + this.longest <= start) break;
      if (s.end > start) out.push(s);
    }
    return out;
  }

  /** Whether any span overlaps [start, end); no allocation (the hot path of the engine). */
  overlaps(start: number, end: number): boolean {
    const items = this.items;
    const longest = this.longest;
    for (let j = this.firstStartingFrom(end) - 1; j >= 0; j--) {
      const s = items[j];
      if (s.start + longest <= start) return false;
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
