// A trace's possible bridge parents, kept as parallel arrays rather than an object per span: every
// tracked trace holds up to MAX_CANDIDATES of them for as long as it stays in hot state, and an
// object with two boxed times per span was a third of a trace's heap and most of the objects the
// garbage collector had to walk.
import { isCallKind, type CallDestination } from '../otlp/call-destination.js';
import type { CandidateSpan } from './types.js';

/**
 * A trace's candidates are this many of its spans, in hot state and when reloaded: its outgoing
 * calls (client or producer) first, then the rest, each by start (ties by span id). Earliest-
 * starting alone, an MDSO plan script of 150 steps before its call to arda never had that call as
 * a candidate, and the bridge into arda hung from the script's root (a review). The order is of
 * the spans alone, so the same ones are kept whatever order they arrive in.
 */
export const MAX_CANDIDATES = 128;

/**
 * Whether span a is kept before span b (negative), after it (positive): calls first, then by start,
 * then by span id. On the fields, not on objects: ingest asks once per span of a trace holding
 * MAX_CANDIDATES already, and lastKept() once per candidate of it.
 */
export function compareCandidates(aKind: number, aStartMs: number, aSpanId: string, bKind: number, bStartMs: number, bSpanId: string): number {
  const calls = Number(isCallKind(bKind)) - Number(isCallKind(aKind));
  if (calls !== 0) return calls;
  return aStartMs - bStartMs || (aSpanId < bSpanId ? -1 : aSpanId > bSpanId ? 1 : 0);
}

/** compareCandidates of two spans, for sorting them. */
export function candidateOrder(a: { kind: number; startMs: number; spanId: string }, b: { kind: number; startMs: number; spanId: string }): number {
  return compareCandidates(a.kind, a.startMs, a.spanId, b.kind, b.startMs, b.spanId);
}

// Kind, service and destination share one double, exact up to 2^53: the kind is whatever uint32
// the wire carried (32 bits), the service an index into `names` (10 bits), and the destination 0
// for none, else 1 + 2 × its name's index + 1 for a host (11 bits). Names are kept once per trace,
// a service's and a destination's alike (a call to mdso names the service of mdso's own spans).
const KIND_RANGE = 2 ** 32;
const SERVICE_RANGE = 2 ** 10;
/** Names `names` may hold, so that both indexes fit; replace() leaves unused ones, compacted away. */
const MAX_NAMES = SERVICE_RANGE - 1;

export class CandidateSpans {
  constructor(
    private readonly spanIds: string[] = [],
    // start, end, and kind with service and destination, per candidate, in one array of doubles
    // (epoch milliseconds are beyond small-integer range, so the array stays unboxed).
    private readonly numbers: number[] = [],
    private names: string[] = [],
  ) {}

  /** The list's own arrays, for encoding it (state-codec.ts); `new CandidateSpans(...parts)` restores it. */
  parts(): [spanIds: string[], numbers: number[], names: string[]] {
    return [this.spanIds, this.numbers, this.names];
  }

  static of(spans: readonly CandidateSpan[]): CandidateSpans {
    const list = new CandidateSpans();
    for (const s of spans) list.push(s.spanId, s.service, s.startMs, s.endMs, s.kind, s.destination ?? null);
    return list;
  }

  get length(): number {
    return this.spanIds.length;
  }

  push(spanId: string, service: string, startMs: number, endMs: number, kind: number, destination: CallDestination | null = null): void {
    this.spanIds.push(spanId);
    this.numbers.push(startMs, endMs, this.packed(service, kind, destination));
  }

  /** The candidate kept last (compareCandidates): the first to give way to a span kept before it. */
  lastKept(): number {
    let worst = 0;
    for (let i = 1; i < this.spanIds.length; i++) if (this.compareTo(i, this.kind(worst), this.startMs(worst), this.spanId(worst)) > 0) worst = i;
    return worst;
  }

  /** compareCandidates of candidate i and the span given by its fields. */
  compareTo(i: number, kind: number, startMs: number, spanId: string): number {
    return compareCandidates(this.kind(i), this.startMs(i), this.spanId(i), kind, startMs, spanId);
  }

  replace(
    i: number,
    spanId: string,
    service: string,
    startMs: number,
    endMs: number,
    kind: number,
    destination: CallDestination | null = null,
  ): void {
    this.spanIds[i] = spanId;
    this.numbers[3 * i] = startMs;
    this.numbers[3 * i + 1] = endMs;
    this.numbers[3 * i + 2] = this.packed(service, kind, destination, i);
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

  /** Where candidate i, a call, went (lower-cased), or '' when its span did not say. */
  destinationName(i: number): string {
    const code = destinationCode(this.numbers[3 * i + 2]!);
    return code === 0 ? '' : this.names[(code - 1) >> 1]!;
  }

  /** Whether candidate i's destination is a host rather than a service's name. */
  destinationIsHost(i: number): boolean {
    const code = destinationCode(this.numbers[3 * i + 2]!);
    return code !== 0 && ((code - 1) & 1) === 1;
  }

  at(i: number): CandidateSpan {
    const service = this.names[serviceIndex(this.numbers[3 * i + 2]!)]!;
    const span: CandidateSpan = { spanId: this.spanIds[i]!, service, startMs: this.startMs(i), endMs: this.endMs(i), kind: this.kind(i) };
    const name = this.destinationName(i);
    if (name !== '') span.destination = { name, isHost: this.destinationIsHost(i) };
    return span;
  }

  /** Candidate `replacing`'s names, if given, are no longer in use. */
  private packed(service: string, kind: number, destination: CallDestination | null, replacing = -1): number {
    // Two names at most are added: room for them first, so compacting cannot move either.
    if (this.names.length + 2 > MAX_NAMES) this.compactNames(replacing);
    const s = this.nameIndex(service);
    const d = destination ? 1 + 2 * this.nameIndex(destination.name) + (destination.isHost ? 1 : 0) : 0;
    return (s + SERVICE_RANGE * d) * KIND_RANGE + kind;
  }

  private nameIndex(name: string): number {
    const i = this.names.indexOf(name);
    return i >= 0 ? i : this.names.push(name) - 1;
  }

  /** Keeps only the names candidates other than `unused` use, in the order they first use them. */
  private compactNames(unused: number): void {
    const old = this.names;
    this.names = [];
    for (let i = 0; i < this.spanIds.length; i++) {
      if (i === unused) continue;
      const packed = this.numbers[3 * i + 2]!;
      const s = this.nameIndex(old[serviceIndex(packed)]!);
      const code = destinationCode(packed);
      const d = code === 0 ? 0 : 1 + 2 * this.nameIndex(old[(code - 1) >> 1]!) + ((code - 1) & 1);
      this.numbers[3 * i + 2] = (s + SERVICE_RANGE * d) * KIND_RANGE + (packed % KIND_RANGE);
    }
    // Only a list far longer than MAX_CANDIDATES can use this many names.
    if (this.names.length + 2 > MAX_NAMES) throw new Error(`candidate spans use ${this.names.length} names, more than their packing holds`);
  }
}

function serviceIndex(packed: number): number {
  return Math.floor(packed / KIND_RANGE) % SERVICE_RANGE;
}

function destinationCode(packed: number): number {
  return Math.floor(packed / (KIND_RANGE * SERVICE_RANGE));
}
