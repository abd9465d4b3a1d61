// Which earlier trace of a key group made a call that names a later trace's service: that trace is
// the bridge's parent before the nearest active one (a review: beorn called MDSO at 50 ms, palantir's
// trace ran 100–110 ms, and MDSO's trace at 120 ms hung from palantir's root). One index serves the
// full plan (planBridges) and the kept planning order (PlanOrder), so both pick the same parent.
import type { TraceState } from '../correlation/types.js';
import { isCallKind } from '../otlp/call-destination.js';
import { NAMED_BY_HOST, NAMED_BY_HOST_PREFIX, NAMED_BY_SERVICE, NAMED_CALL_SKEW_MS } from './named-call.js';

/** Strengths that name a service, strongest first: the order a child asks for them in. */
const STRENGTHS = [NAMED_BY_SERVICE, NAMED_BY_HOST, NAMED_BY_HOST_PREFIX] as const;

/**
 * The services (lower-cased) a call's destination names, each with how plainly: every service that
 * namingStrength(name, isHost, service) rates above NOT_NAMED (named-call.ts), found from the name alone. A host
 * names each of its prefixes that ends where a label, port or dash begins, so a child's service is
 * looked up, not compared with every call.
 */
export function servicesNamed(name: string, isHost: boolean): [service: string, strength: number][] {
  if (name === '') return [];
  if (!isHost) return [[name, NAMED_BY_SERVICE]];
  const out: [string, number][] = [];
  for (let end = 1; end <= name.length; end++) {
    const next = name.charAt(end);
    if (next === '' || next === '.' || next === ':') out.push([name.slice(0, end), NAMED_BY_HOST]);
    else if (next === '-') out.push([name.slice(0, end), NAMED_BY_HOST_PREFIX]);
  }
  return out;
}

/**
 * A trace's calls that name another service, as (strength, service) → the earliest such call's
 * start: the trace names a child's service at a strength if that call starts early enough. A
 * service naming its own (case aside) is left out: it never parents its own traces.
 */
function namedCalls(t: TraceState): Map<string, number> | null {
  // Null for a trace without any: most, and every planning of a key group asks each member.
  let out: Map<string, number> | null = null;
  const c = t.candidates;
  for (let i = 0; i < c.length; i++) {
    if (!isCallKind(c.kind(i))) continue;
    const name = c.destinationName(i);
    if (name === '') continue;
    const own = t.entry!.service.toLowerCase();
    const start = c.startMs(i);
    for (const [service, strength] of servicesNamed(name, c.destinationIsHost(i))) {
      if (service === own) continue;
      const k = listKey(strength, service);
      const before = (out ??= new Map()).get(k);
      if (before === undefined || start < before) out.set(k, start);
    }
  }
  return out;
}

const listKey = (strength: number, service: string) => `${strength}\u0000${service}`;

export class NamingIndex {
  private readonly lists = new Map<string, NamingList>();
  /** Each indexed trace's entry start and the lists it is in, to take it out again. */
  private readonly indexed = new Map<string, { startMs: number; keys: string[] }>();

  /** Takes in a trace with an entry span; one already in is taken out first. */
  set(t: TraceState): void {
    this.delete(t.traceId);
    const named = namedCalls(t);
    if (!named) return;
    const startMs = t.entry!.startMs;
    for (const [k, callStartMs] of named) {
      let list = this.lists.get(k);
      if (!list) this.lists.set(k, (list = new NamingList()));
      list.insert(startMs, t.traceId, t.spanLastMs, callStartMs);
    }
    this.indexed.set(t.traceId, { startMs, keys: [...named.keys()] });
  }

  delete(traceId: string): void {
    const was = this.indexed.get(traceId);
    if (!was) return;
    for (const k of was.keys) {
      const list = this.lists.get(k)!;
      list.remove(was.startMs, traceId);
      if (list.length === 0) this.lists.delete(k);
    }
    this.indexed.delete(traceId);
  }

  get size(): number {
    return this.indexed.size;
  }

  /**
   * The trace that parents a child whose entry (of `service`) starts at `startMs` (trace id
   * `traceId`) by naming it: among the traces before it in planning order whose spans run within
   * the window of its start, those with a call naming its service that starts no later than it
   * (or, clocks differing, NAMED_CALL_SKEW_MS after it); of them the strongest naming, then one
   * whose call starts in time, then the latest in planning order. Null when none names it.
   */
  parentOf(startMs: number, traceId: string, service: string, windowMs: number): string | null {
    if (this.lists.size === 0) return null;
    const s = service.toLowerCase();
    for (const strength of STRENGTHS) {
      const list = this.lists.get(listKey(strength, s));
      if (!list) continue;
      const found =
        list.latest(startMs, traceId, startMs - windowMs, startMs) ??
        list.latest(startMs, traceId, startMs - windowMs, startMs + NAMED_CALL_SKEW_MS);
      if (found !== null) return found;
    }
    return null;
  }
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

  /** Where (startMs, traceId) is, or goes, in planning order. */
  private position(startMs: number, traceId: string): number {
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const s = this.starts[mid]!;
      if (s < startMs || (s === startMs && this.ids[mid]! < traceId)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
