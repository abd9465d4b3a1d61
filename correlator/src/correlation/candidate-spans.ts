// A trace's possible bridge parents, kept as parallel arrays rather than an object per span: every
// tracked trace holds up to MAX_CANDIDATES of them for as long as it stays in hot state, and an
// object with two boxed times per span was a third of a trace's heap and most of the objects the
// garbage collector had to walk.
import type { CandidateSpan } from './types.js';

/** A trace's candidates are its earliest-starting spans, this many, in hot state and when reloaded. */
export const MAX_CANDIDATES = 128;

// Kind and service index share one double: the kind is whatever uint32 the wire carried.
const KIND_RANGE = 2 ** 32;

export class CandidateSpans {
  constructor(
    private readonly spanIds: string[] = [],
    // start, end, kind per candidate, in one array of doubles (epoch milliseconds are beyond
    // small-integer range, so the array stays unboxed); services are indexes into `services`.
    private readonly numbers: number[] = [],
    private readonly services: string[] = [],
  ) {}

  /** The list's own arrays, for encoding it (state-codec.ts); `new CandidateSpans(...parts)` restores it. */
  parts(): [spanIds: string[], numbers: number[], services: string[]] {
    return [this.spanIds, this.numbers, this.services];
  }

  static of(spans: readonly CandidateSpan[]): CandidateSpans {
    const list = new CandidateSpans();
    for (const s of spans) list.push(s.spanId, s.service, s.startMs, s.endMs, s.kind);
    return list;
  }

  get length(): number {
    return this.spanIds.length;
  }

  push(spanId: string, service: string, startMs: number, endMs: number, kind: number): void {
    let serviceIndex = this.services.indexOf(service);
    if (serviceIndex < 0) serviceIndex = this.services.push(service) - 1;
    this.spanIds.push(spanId);
    this.numbers.push(startMs, endMs, serviceIndex * KIND_RANGE + kind);
  }

  /** The candidate that starts last (the greatest span id among those that start together). */
  latest(): number {
    let best = 0;
    for (let i = 1; i < this.spanIds.length; i++) if (startsAfter(this, i, best)) best = i;
    return best;
  }

  replace(i: number, spanId: string, service: string, startMs: number, endMs: number, kind: number): void {
    let serviceIndex = this.services.indexOf(service);
    if (serviceIndex < 0) serviceIndex = this.services.push(service) - 1;
    this.spanIds[i] = spanId;
    this.numbers[3 * i] = startMs;
    this.numbers[3 * i + 1] = endMs;
    this.numbers[3 * i + 2] = serviceIndex * KIND_RANGE + kind;
  }

  spanId(i: number): string {
    return this.spanIds[i]!;
  }

  startMs(i: number): number {
    return this.numbers[3 * i]!;
  }

  endMs(i: number): number {
    return this.numbers[3 * i + 1]!;
  }

  kind(i: number): number {
    return this.numbers[3 * i + 2]! % KIND_RANGE;
  }

  at(i: number): CandidateSpan {
    const service = this.services[Math.floor(this.numbers[3 * i + 2]! / KIND_RANGE)]!;
    return { spanId: this.spanIds[i]!, service, startMs: this.startMs(i), endMs: this.endMs(i), kind: this.kind(i) };
  }
}

function startsAfter(c: CandidateSpans, i: number, j: number): boolean {
  return c.startMs(i) > c.startMs(j) || (c.startMs(i) === c.startMs(j) && c.spanId(i) > c.spanId(j));
}
