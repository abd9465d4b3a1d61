// Which earlier trace of a key group made a call that names a later trace's service: that trace is
// the bridge's parent before the nearest active one (a review: beorn called MDSO at 50 ms, palantir's
// trace ran 100–110 ms, and MDSO's trace at 120 ms hung from palantir's root). One index serves the
// full plan (planBridges) and the kept planning order (PlanOrder), so both pick the same parent.
import type { TraceState } from '../correlation/types.js';
import { isCallKind } from '../otlp/call-destination.js';
import { NAMED_BY_HOST, NAMED_BY_HOST_PREFIX, NAMED_BY_SERVICE, NAMED_CALL_SKEW_MS, namingStrength, NOT_NAMED } from './named-call.js';
import { planningPosition } from './planning-position.js';

/**
 * Up to this many traces with calls that say where they went, a child's parent is found by asking
 * each (NamingIndex.scan): a circuit has a few traces, and lists per service cost more to make
 * than they save. Past it, each service asked about gets its lists.
 */
const SCAN_ALL_UP_TO = 32;

/** Strengths that name a service, strongest first: the order a child asks for them in. */
const STRENGTHS = [NAMED_BY_SERVICE, NAMED_BY_HOST, NAMED_BY_HOST_PREFIX] as const;

/**
 * A trace's calls that say where they went, with what places the trace. PlanOrder keeps one per
 * member with such calls for as long as hot state keeps its group: two arrays, not three, as a
 * whether-a-host array was a quarter of what these added to a tracked trace (bench: correlation,
 * 1616 B/trace before them, 1767 with three arrays, 1730 with two).
 */
interface NamingCalls {
  startMs: number;
  lastMs: number;
  /** Its entry's service: a trace never parents one of its own service, naming it or not. */
  own: string;
  names: string[];
  /** Each call's start, or for a host, -1 - its start (callStart, callIsHost). */
  starts: number[];
}

const callStart = (calls: NamingCalls, i: number) => {
  const v = calls.starts[i]!;
  return v < 0 ? -1 - v : v;
};
const callIsHost = (calls: NamingCalls, i: number) => calls.starts[i]! < 0;

/** Null for a trace whose calls say nothing of where they went: most, and every plan asks each member. */
function namingCalls(t: TraceState): NamingCalls | null {
  let out: NamingCalls | null = null;
  const c = t.candidates;
  for (let i = 0; i < c.length; i++) {
    if (!isCallKind(c.kind(i))) continue;
    const name = c.destinationName(i);
    if (name === '') continue;
    out ??= { startMs: t.entry!.startMs, lastMs: t.spanLastMs, own: t.entry!.service, names: [], starts: [] };
    out.names.push(name);
    out.starts.push(c.destinationIsHost(i) ? -1 - c.startMs(i) : c.startMs(i));
  }
  return out;
}

/**
 * The members' calls that say where they went, and for each child service asked about, the
 * traces naming it by strength (NamingList). A service's lists are made on its first question and
 * kept up to date after, so a change costs a namingStrength per call and service asked about (a
 * circuit's few), not one per service every host could name.
 */
export class NamingIndex {
  private readonly traces = new Map<string, NamingCalls>();
  /** Per child service (as its entry names it), a list per strength in STRENGTHS' order. */
  private readonly byService = new Map<string, NamingList[]>();

  /** Takes in a trace with an entry span; one already in is taken out first. */
  set(t: TraceState): void {
    this.delete(t.traceId);
    const calls = namingCalls(t);
    if (!calls) return;
    this.traces.set(t.traceId, calls);
    for (const [service, lists] of this.byService)
      earliestNaming(calls, service).forEach((callStartMs, k) => {
        if (callStartMs !== Infinity) lists[k]!.insert(calls.startMs, t.traceId, calls.lastMs, callStartMs);
      });
  }

  delete(traceId: string): void {
    const calls = this.traces.get(traceId);
    if (!calls) return;
    for (const lists of this.byService.values()) for (const list of lists) list.remove(calls.startMs, traceId);
    this.traces.delete(traceId);
  }

  get size(): number {
    return this.traces.size;
  }

  /**
   * The trace that parents a child whose entry (of `service`) starts at `startMs` (trace id
   * `traceId`) by naming it: among the traces before it in planning order whose spans run within
   * the window of its start, those with a call naming its service that starts no later than it
   * (or, clocks differing, NAMED_CALL_SKEW_MS after it); of them the strongest naming, then one
   * whose call starts in time, then the latest in planning order. Null when none names it.
   */
  parentOf(startMs: number, traceId: string, service: string, windowMs: number): string | null {
    if (this.traces.size === 0) return null;
    if (this.traces.size <= SCAN_ALL_UP_TO && !this.byService.has(service)) return this.scan(startMs, traceId, service, windowMs);
    const lists = this.listsOf(service);
    for (const list of lists) {
      if (list.length === 0) continue;
      const found =
        list.latest(startMs, traceId, startMs - windowMs, startMs) ??
        list.latest(startMs, traceId, startMs - windowMs, startMs + NAMED_CALL_SKEW_MS);
      if (found !== null) return found;
    }
    return null;
  }

  /** parentOf by asking every trace: exact, and for a circuit's usual few, cheaper than lists. */
  private scan(startMs: number, traceId: string, service: string, windowMs: number): string | null {
    let best: string | null = null;
    let bestRank = 0;
    let bestStartMs = 0;
    const lower = service.toLowerCase();
    for (const [id, calls] of this.traces) {
      if (!(calls.startMs < startMs || (calls.startMs === startMs && id < traceId)) || !(calls.lastMs >= startMs - windowMs)) continue;
      const rank = calls.own === service ? 0 : namingRank(calls, lower, startMs);
      if (rank > bestRank || (rank === bestRank && rank > 0 && (calls.startMs > bestStartMs || (calls.startMs === bestStartMs && id > best!)))) {
        best = id;
        bestRank = rank;
        bestStartMs = calls.startMs;
      }
    }
    return best;
  }

  private listsOf(service: string): NamingList[] {
    const known = this.byService.get(service);
    if (known) return known;
    const entries: [startMs: number, traceId: string, lastMs: number, callStartMs: number][][] = STRENGTHS.map(() => []);
    for (const [traceId, calls] of this.traces)
      earliestNaming(calls, service).forEach((callStartMs, k) => {
        if (callStartMs !== Infinity) entries[k]!.push([calls.startMs, traceId, calls.lastMs, callStartMs]);
      });
    const lists = entries.map(e => NamingList.of(e));
    this.byService.set(service, lists);
    return lists;
  }
}

/**
 * How a trace's calls name a service (`lower`, lower-cased) for a child starting at `startMs`, as
 * parentOf ranks it: 2 × strength, plus 1 when the call starts in time (not only within
 * NAMED_CALL_SKEW_MS after); 0 when none names it.
 */
function namingRank(calls: NamingCalls, lower: string, startMs: number): number {
  let rank = 0;
  for (let i = 0; i < calls.names.length; i++) {
    const start = callStart(calls, i);
    if (start > startMs + NAMED_CALL_SKEW_MS) continue;
    const strength = namingStrength(calls.names[i]!, callIsHost(calls, i), lower);
    if (strength > NOT_NAMED) rank = Math.max(rank, 2 * strength + (start <= startMs ? 1 : 0));
  }
  return rank;
}

/** Per strength (STRENGTHS' order), the earliest start of a call naming `service` so; Infinity for none. */
function earliestNaming(calls: NamingCalls, service: string): number[] {
  const out = STRENGTHS.map(() => Infinity);
  if (calls.own === service) return out;
  // Destinations are kept lower-cased; services are matched without regard to case (named-call.ts).
  const lower = service.toLowerCase();
  for (let i = 0; i < calls.names.length; i++) {
    const k = STRENGTHS.indexOf(namingStrength(calls.names[i]!, callIsHost(calls, i), lower) as (typeof STRENGTHS)[number]);
    const start = callStart(calls, i);
    if (k >= 0 && start < out[k]!) out[k] = start;
  }
  return out;
}

/**
 * The traces naming one service at one strength, in planning order (entry start, then trace id),
 * with their spans' last end and their earliest such call's start. A max tree over the ends finds
 * the latest trace still active at a child's start in O(log n), exact however many ended traces
 * lie between; it is built again on the first query after a change, as PlanOrder's arrays splice.
 */
class NamingList {
  private readonly starts: number[] = [];
  private readonly ids: string[] = [];
  private readonly lasts: number[] = [];
  private readonly callStarts: number[] = [];
  private tree: Float64Array | null = null;
  private leaves = 0;

  /** The list of `entries` in any order. */
  static of(entries: [startMs: number, traceId: string, lastMs: number, callStartMs: number][]): NamingList {
    const list = new NamingList();
    entries.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1));
    for (const [startMs, traceId, lastMs, callStartMs] of entries) {
      list.starts.push(startMs);
      list.ids.push(traceId);
      list.lasts.push(lastMs);
      list.callStarts.push(callStartMs);
    }
    return list;
  }

  get length(): number {
    return this.ids.length;
  }

  insert(startMs: number, traceId: string, lastMs: number, callStartMs: number): void {
    const at = this.position(startMs, traceId);
    this.starts.splice(at, 0, startMs);
    this.ids.splice(at, 0, traceId);
    this.lasts.splice(at, 0, lastMs);
    this.callStarts.splice(at, 0, callStartMs);
    this.tree = null;
  }

  remove(startMs: number, traceId: string): void {
    const at = this.position(startMs, traceId);
    if (this.ids[at] !== traceId) return;
    this.starts.splice(at, 1);
    this.ids.splice(at, 1);
    this.lasts.splice(at, 1);
    this.callStarts.splice(at, 1);
    this.tree = null;
  }

  /**
   * The latest trace before (startMs, traceId) whose spans end at or after `activeFromMs` and
   * whose call starts at or before `callByMs`. Those active whose call comes later are still
   * running at the child's start: few at a time, each skipped in O(log n).
   */
  latest(startMs: number, traceId: string, activeFromMs: number, callByMs: number): string | null {
    const tree = this.tree ?? this.build();
    let k = this.position(startMs, traceId) - 1;
    while (k >= 0) {
      const j = this.lastActiveAtOrBefore(tree, 1, 0, this.leaves, k, activeFromMs);
      if (j < 0) return null;
      if (this.callStarts[j]! <= callByMs) return this.ids[j]!;
      k = j - 1;
    }
    return null;
  }

  private build(): Float64Array {
    let leaves = 1;
    while (leaves < this.lasts.length) leaves *= 2;
    const tree = new Float64Array(2 * leaves).fill(-Infinity);
    for (let i = 0; i < this.lasts.length; i++) tree[leaves + i] = this.lasts[i]!;
    for (let n = leaves - 1; n >= 1; n--) tree[n] = Math.max(tree[2 * n]!, tree[2 * n + 1]!);
    this.leaves = leaves;
    return (this.tree = tree);
  }

  /** The last position ≤ k, within node's range [lo, hi), whose end is at or after fromMs; -1 for none. */
  private lastActiveAtOrBefore(tree: Float64Array, node: number, lo: number, hi: number, k: number, fromMs: number): number {
    if (lo > k || !(tree[node]! >= fromMs)) return -1;
    if (hi - lo === 1) return lo;
    const mid = (lo + hi) >> 1;
    const right = this.lastActiveAtOrBefore(tree, 2 * node + 1, mid, hi, k, fromMs);
    return right >= 0 ? right : this.lastActiveAtOrBefore(tree, 2 * node, lo, mid, k, fromMs);
  }

  private position(startMs: number, traceId: string): number {
    return planningPosition(this.starts, this.ids, startMs, traceId);
  }
}
