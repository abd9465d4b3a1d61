// Decides which traces of one key group (one circuit) get a bridge from which earlier trace.
// Pure and order-independent: the same set of traces yields the same bridges whatever order
// the data arrived in, which is what makes re-ingestion and late data safe.
import { keyMatchMethod, type BridgeBasis, type BusinessKeyName } from '@correlation-station/api-schema';
import { bridgeSpanId } from '../correlation/ids.js';
import {
  KEY_CONFIDENCE,
  type BridgePlan,
  type CandidateSpan,
  type TraceState,
} from '../correlation/types.js';
import { isCallKind } from '../otlp/call-destination.js';
import { NAMED_CALL_SKEW_MS, namingStrength, NOT_NAMED } from './named-call.js';
import { NamingIndex } from './naming-index.js';
import { byPlanningOrder } from './plan-order.js';

/**
 * The bridge into each trace that gets one, from the earlier trace whose call named its service last
 * (NamingIndex), else from the nearest earlier trace of another service still active within the
 * window (ParentCandidates). `plansFor`, if given, picks the children to plan: the
 * others still count as parents and links, so each picked child gets the plan all would give it.
 */
export function planBridges(
  key: BusinessKeyName,
  value: string,
  traces: readonly TraceState[],
  windowMs: number,
  plansFor?: (child: TraceState) => boolean,
): Map<string, BridgePlan> {
  const plans = new Map<string, BridgePlan>();
  const ordered = traces.filter(t => t.entry !== null).sort(byPlanningOrder);
  const linkedEarlier = linkedToEarlier(ordered);
  const candidates = new ParentCandidates(ordered);
  const naming = new NamingIndex(() => ordered.map(t => [t.entry!.service, t.entry!.startMs, t.traceId] as const));
  for (const t of ordered) naming.set(t);
  let byId: Map<string, TraceState> | undefined;
  for (let i = 0; i < ordered.length; i++) {
    const child = ordered[i]!;
    // Trace context or explicit span links already connect this trace: never add a guess on top.
    const skip = linkedEarlier.has(i) || (plansFor && !plansFor(child));
    const entry = child.entry!;
    const named = skip ? null : naming.parentOf(entry.startMs, child.traceId, entry.service, windowMs);
    if (named !== null) byId ??= new Map(ordered.map(t => [t.traceId, t]));
    const parent = skip ? null : named !== null ? byId!.get(named)! : candidates.nearestActiveOfOtherService(i, windowMs);
    candidates.add(i);
    if (parent) plans.set(child.traceId, planBridge(key, value, parent, child, windowMs));
  }
  return plans;
}

/** The bridge from `parent`, the trace planBridges picked, into `child`'s entry span. */
export function planBridge(key: BusinessKeyName, value: string, parent: TraceState, child: TraceState, windowMs: number): BridgePlan {
  const childEntry = child.entry!;
  const { basis, ...parentSpan } = chooseParentSpan(parent, childEntry.startMs, childEntry.service);
  const base = KEY_CONFIDENCE[key];
  const gapAfterEnd = Math.max(0, childEntry.startMs - parentSpan.endMs);
  const confidence = round3(base * (1 - 0.5 * Math.min(1, gapAfterEnd / windowMs)));
  return {
    spanId: bridgeSpanId(parentSpan.spanId, childEntry.spanId),
    traceId: parent.traceId,
    parentSpanId: parentSpan.spanId,
    parentService: parentSpan.service,
    parentStartMs: Math.min(parentSpan.startMs, childEntry.startMs),
    childTraceId: child.traceId,
    childSpanId: childEntry.spanId,
    childService: childEntry.service,
    childStartMs: childEntry.startMs,
    key,
    value,
    method: keyMatchMethod(key),
    confidence,
    basis,
  };
}

/** A bridge parent's span, and what makes it one. */
export type ParentSpan = CandidateSpan & { basis: Exclude<BridgeBasis, 'unknown'> };

/**
 * The span in the earlier trace that most plausibly caused the later one, among the spans still
 * running when the child started and the outgoing calls (client/producer) made before it: a call
 * that names the child's service (`childService`) as where it went, by peer.service before by
 * host (named-call.ts); else, and among those that name it alike, the one that started last. A
 * call that names it may also start up to NAMED_CALL_SKEW_MS after the child (the hosts' clocks
 * differ), ranked after those that name it alike in time, the nearest first. A
 * finished call counts because orchestrators accept a request and act on it later; a finished
 * internal step does not. Without a name, a call still running when the child started does not
 * beat a finished one that started later: a caller that fired a request at an orchestrator and
 * then waits on another service looks the same, and SENSE's instrumented calls say where they go.
 * With trace context crossing services (beorn → MDSO in one trace), this picks MDSO's running
 * step rather than beorn's long call around it. With none of these, the parent trace's entry span,
 * on time alone (basis time_only).
 */
export function chooseParentSpan(parent: TraceState, childStartMs: number, childService?: string): ParentSpan {
  const c = parent.candidates;
  const service = childService?.toLowerCase() ?? '';
  let best = -1;
  let bestNaming = NOT_NAMED;
  let bestLate = false;
  const isCall = (i: number) => isCallKind(c.kind(i));
  for (let i = 0; i < c.length; i++) {
    const start = c.startMs(i);
    let naming = NOT_NAMED;
    if (service !== '' && isCall(i)) {
      const name = c.destinationName(i);
      if (name !== '') naming = namingStrength(name, c.destinationIsHost(i), service);
    }
    const late = start > childStartMs;
    if (late && !(naming > NOT_NAMED && start <= childStartMs + NAMED_CALL_SKEW_MS)) continue;
    if (!isCall(i) && c.endMs(i) < childStartMs) continue;
    const nearer = best >= 0 && (late ? start < c.startMs(best) : start > c.startMs(best));
    if (
      best < 0 ||
      naming > bestNaming ||
      (naming === bestNaming &&
        (late !== bestLate
          ? !late
          : nearer ||
            (start === c.startMs(best) && ((isCall(i) && !isCall(best)) || (isCall(i) === isCall(best) && c.spanId(i) < c.spanId(best))))))
    ) {
      best = i;
      bestNaming = naming;
      bestLate = late;
    }
  }
  if (best >= 0) return { ...c.at(best), basis: bestNaming > NOT_NAMED ? 'named_call' : isCall(best) ? 'call' : 'running_span' };
  const e = parent.entry!;
  return { spanId: e.spanId, service: e.service, startMs: e.startMs, endMs: e.endMs, kind: 2, basis: 'time_only' };
}

/** How far back a child first looks, trace by trace, before it asks each service's candidates. */
const NEAR_SCAN = 8;

/**
 * The earlier traces that can still be a parent, by service. A trace is active while its spans
 * run (TraceState.spanLastMs): a log line of it long after them dates it for its episode, but the
 * bridge would hang from a span that ended long before the child. A trace that ends no later than a
 * later trace of its service never is (whenever it is within the window, the later one is too, and
 * nearer), so each service's list ends earlier as it goes on, and its latest trace still within the
 * window is found by bisection: exact however many traces a circuit has, where a bounded scan back
 * missed a long-running parent behind a run of short traces.
 */
class ParentCandidates {
  private readonly serviceIndex = new Map<string, number>();
  private readonly lists: number[][] = [];
  private readonly spanLastMs: Float64Array;

  constructor(private readonly ordered: readonly TraceState[]) {
    this.spanLastMs = Float64Array.from(ordered, t => t.spanLastMs);
  }

  add(i: number): void {
    const service = this.ordered[i]!.entry!.service;
    let s = this.serviceIndex.get(service);
    if (s === undefined) {
      this.serviceIndex.set(service, (s = this.lists.length));
      this.lists.push([]);
    }
    const list = this.lists[s]!;
    while (list.length > 0 && this.spanLastMs[list[list.length - 1]!]! <= this.spanLastMs[i]!) list.pop();
    list.push(i);
  }

  /** The latest trace before position i, of a service other than its entry's, whose spans run within the window. */
  nearestActiveOfOtherService(i: number, windowMs: number): TraceState | null {
    const { ordered, spanLastMs } = this;
    const entry = ordered[i]!.entry!;
    const startMs = entry.startMs;
    // Usually a trace just before is one: the same answer as the search below, found sooner.
    for (let j = i - 1; j >= 0 && j >= i - NEAR_SCAN; j--)
      if (ordered[j]!.entry!.service !== entry.service && !(startMs - spanLastMs[j]! > windowMs)) return ordered[j]!;
    const own = this.serviceIndex.get(entry.service);
    let best = -1;
    for (let s = 0; s < this.lists.length; s++) {
      const list = this.lists[s]!;
      // Its latest trace is no nearer than the best so far, or even its longest-running one has ended.
      if (s === own || list[list.length - 1]! <= best || startMs - spanLastMs[list[0]!]! > windowMs) continue;
      // The last position within the window: those within are a prefix of the list.
      let lo = 0;
      let hi = list.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (startMs - spanLastMs[list[mid]!]! > windowMs) hi = mid - 1;
        else lo = mid;
      }
      if (list[lo]! > best) best = list[lo]!;
    }
    return best >= 0 ? ordered[best]! : null;
  }
}

/**
 * The positions of traces linked to an earlier one. Either side may hold the link: an earlier
 * trace's span can link forward to this one. One pass over the links, not a scan of the earlier
 * traces per trace.
 */
function linkedToEarlier(ordered: readonly TraceState[]): Set<number> {
  const out = new Set<number>();
  if (!ordered.some(t => t.linkedTraceIds.length > 0)) return out;
  const position = new Map(ordered.map((t, i) => [t.traceId, i]));
  for (let i = 0; i < ordered.length; i++)
    for (const linked of ordered[i]!.linkedTraceIds) {
      const j = position.get(linked);
      if (j === undefined || j === i) continue;
      // The later of the two is the one linked to an earlier trace.
      out.add(Math.max(i, j));
    }
  return out;
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
