// A trace's possible bridge parents, kept as parallel arrays rather than an object per span: every
// tracked trace holds up to MAX_CANDIDATES of them for as long as it stays in hot state, and an
// object with two boxed times per span was a third of a trace's heap and most of the objects the
// garbage collector had to walk.
import { isCallKind, type CallDestination } from '../otlp/call-destination.js';
import type { CandidateSpan } from './types.js';

/**
 * A trace's candidates are this many of its spans, in hot state and when reloaded: its outgoing
 * calls (client or producer) that say where they went first, then its other calls, then the rest.
 * Of the calls that name a destination, each destination's latest calls are kept before any
 * destination's earlier ones (offer): a call is the bridge parent of a child that started
 * during it, and a script that polled palantir 128 times and then called MDSO lost the MDSO call
 * to its earliest polls, so the bridge into MDSO hung from another trace (a review). Earliest-
 * starting alone, an MDSO plan script of 150 steps before its call to arda never had that call as
 * a candidate either. The order is of the spans alone, so the same ones are kept whatever order
 * they arrive in.
 */
export const MAX_CANDIDATES = 128;

const NAMED_CALL = 0;
const UNNAMED_CALL = 1;
const OTHER = 2;

function tier(kind: number, destinationName: string): number {
  return !isCallKind(kind) ? OTHER : destinationName === '' ? UNNAMED_CALL : NAMED_CALL;
}

function startOrder(aStartMs: number, aSpanId: string, bStartMs: number, bSpanId: string): number {
  return aStartMs - bStartMs || (aSpanId < bSpanId ? -1 : aSpanId > bSpanId ? 1 : 0);
}

// Per name index, while dropIndex scans: calls to it, and the earliest of them (-1: the new span).
const callsTo = new Int32Array(1024);
const earliestTo = new Int32Array(1024);

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

  /** How many names its candidates' services and destinations use (for live-entry-bytes.ts). */
  get nameCount(): number {
    return this.names.length;
  }

  /**
   * Takes a span of the trace in: kept while the list has room, else in place of the candidate
   * that gives way to it (dropIndex), or not at all; whether the list changed. Ingest and the
   * store's reload both take spans so, and keep the same ones whatever order they come in: calls
   * naming a destination first, by how many later calls went to the same destination (each
   * destination's latest, then each one's second latest, ...), then latest first; then the other
   * calls, then the rest, each earliest first; ties by span id.
   */
  offer(spanId: string, service: string, startMs: number, endMs: number, kind: number, destination: CallDestination | null = null): boolean {
    if (this.spanIds.length < MAX_CANDIDATES) {
      this.push(spanId, service, startMs, endMs, kind, destination);
      return true;
    }
    const drop = this.dropIndex(kind, startMs, spanId, destination?.name ?? '');
    if (drop < 0) return false;
    this.replace(drop, spanId, service, startMs, endMs, kind, destination);
    return true;
  }

  push(spanId: string, service: string, startMs: number, endMs: number, kind: number, destination: CallDestination | null = null): void {
    this.spanIds.push(spanId);
    this.numbers.push(startMs, endMs, this.packed(service, kind, destination));
  }

  /**
   * The candidate to give way to the span given by its fields, in a list holding MAX_CANDIDATES
   * already, or -1 when that span is the one not kept: the last of them all in offer's order. Of calls naming a destination that is the earliest call to the destination most called
   * (ties: the earliest of those). Ingest asks once per span of a trace holding MAX_CANDIDATES.
   */
  private dropIndex(kind: number, startMs: number, spanId: string, destinationName: string): number {
    const n = this.spanIds.length;
    const spanTier = tier(kind, destinationName);
    let worstTier = spanTier;
    for (let i = 0; i < n; i++) {
      // A span seen again (a replay) changes nothing.
      if (this.spanIds[i] === spanId) return -1;
      const t = this.tierOf(i);
      if (t > worstTier) worstTier = t;
    }
    if (worstTier !== NAMED_CALL)
      return this.latestOfTier(worstTier, spanTier === worstTier ? startMs : -Infinity, spanId);
    return this.earliestToMostCalled(startMs, spanId, this.names.indexOf(destinationName));
  }

  /** The latest-starting candidate of the tier, or -1 when a span starting at `startMs` is later. */
  private latestOfTier(t: number, startMs: number, spanId: string): number {
    let worst = -1;
    let worstStart = startMs;
    let worstId = spanId;
    for (let i = 0; i < this.spanIds.length; i++) {
      if (this.tierOf(i) !== t) continue;
      const start = this.startMs(i);
      const id = this.spanIds[i]!;
      if (startOrder(start, id, worstStart, worstId) > 0) {
        worst = i;
        worstStart = start;
        worstId = id;
      }
    }
    return worst;
  }

  /**
   * Of candidates all calls naming a destination, and a new one to the destination of name index
   * `nameIndex` (-1: a name no candidate uses), the earliest call to the destination most called,
   * ties the earliest of those; -1 when that is the new call.
   */
  private earliestToMostCalled(startMs: number, spanId: string, nameIndex: number): number {
    const n = this.spanIds.length;
    for (let i = 0; i < n; i++) {
      const g = this.destinationIndex(i);
      callsTo[g] = 0;
      earliestTo[g] = -1;
    }
    // The new call's name may be one no candidate went to (a service's): its slots are stale.
    if (nameIndex >= 0) {
      callsTo[nameIndex] = 1;
      earliestTo[nameIndex] = -1;
    }
    for (let i = 0; i < n; i++) {
      const g = this.destinationIndex(i);
      callsTo[g] = callsTo[g]! + 1;
      const e = earliestTo[g]!;
      const start = this.startMs(i);
      const id = this.spanIds[i]!;
      // -1 is no call yet, but for the new call's destination the new call.
      const earlier =
        e !== -1
          ? startOrder(start, id, this.startMs(e), this.spanIds[e]!) < 0
          : g !== nameIndex || startOrder(start, id, startMs, spanId) < 0;
      if (earlier) earliestTo[g] = i;
    }
    // The new call, if earliest to its destination, is where the search starts.
    let worst = -1;
    let worstCalls = nameIndex < 0 ? 1 : earliestTo[nameIndex] === -1 ? callsTo[nameIndex]! : 0;
    let worstStart = startMs;
    let worstId = spanId;
    for (let i = 0; i < n; i++) {
      const g = this.destinationIndex(i);
      if (earliestTo[g] !== i) continue;
      const calls = callsTo[g]!;
      const start = this.startMs(i);
      const id = this.spanIds[i]!;
      if (calls > worstCalls || (calls === worstCalls && startOrder(start, id, worstStart, worstId) < 0)) {
        worst = i;
        worstCalls = calls;
        worstStart = start;
        worstId = id;
      }
    }
    return worst;
  }

  private tierOf(i: number): number {
    return !isCallKind(this.kind(i)) ? OTHER : destinationCode(this.numbers[3 * i + 2]!) === 0 ? UNNAMED_CALL : NAMED_CALL;
  }

  /** The index in `names` of where candidate i, a call naming its destination, went. */
  private destinationIndex(i: number): number {
    return (destinationCode(this.numbers[3 * i + 2]!) - 1) >> 1;
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
