// Decides which traces of one key group (one circuit) get a bridge from which earlier trace.
// Pure and order-independent: the same set of traces yields the same bridges whatever order
// the data arrived in, which is what makes re-ingestion and late data safe.
import type { BusinessKeyName } from '@correlation-station/api-schema';
import { bridgeSpanId } from '../correlation/ids.js';
import {
  KEY_CONFIDENCE,
  SPAN_KIND_CLIENT,
  SPAN_KIND_PRODUCER,
  type BridgePlan,
  type CandidateSpan,
  type TraceState,
} from '../correlation/types.js';

const MAX_PARENT_SCAN = 64;

export function planBridges(
  key: BusinessKeyName,
  value: string,
  traces: readonly TraceState[],
  windowMs: number,
): Map<string, BridgePlan> {
  const plans = new Map<string, BridgePlan>();
  const ordered = traces
    .filter(t => t.entry !== null)
    .sort((a, b) => a.entry!.startMs - b.entry!.startMs || (a.traceId < b.traceId ? -1 : 1));
  const anyLinks = ordered.some(t => t.linkedTraceIds.length > 0);
  for (let i = 1; i < ordered.length; i++) {
    const child = ordered[i]!;
    const childEntry = child.entry!;
    // Trace context or explicit span links already connect this trace: never add a guess on top.
    // Either side may hold the link: an earlier trace's span can link forward to this one.
    if (anyLinks && linkedToEarlier(ordered, i)) continue;
    let parent: TraceState | null = null;
    // Nearest earlier trace of another service still active within the window. The scan is
    // bounded so one huge circuit cannot make a batch quadratic.
    for (let j = i - 1; j >= 0 && j >= i - MAX_PARENT_SCAN; j--) {
      const candidate = ordered[j]!;
      if (candidate.entry!.service === childEntry.service) continue;
      if (childEntry.startMs - candidate.lastMs > windowMs) continue;
      parent = candidate;
      break;
    }
    if (!parent) continue;
    const parentSpan = chooseParentSpan(parent, childEntry.startMs);
    const base = KEY_CONFIDENCE[key];
    const gapAfterEnd = Math.max(0, childEntry.startMs - parentSpan.endMs);
    const confidence = round3(base * (1 - 0.5 * Math.min(1, gapAfterEnd / windowMs)));
    plans.set(child.traceId, {
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
      method: `${key}_match`,
      confidence,
    });
  }
  return plans;
}

/**
 * The span in the earlier trace that most plausibly caused the later one: among the spans still
 * running when the child started and the outgoing calls (client/producer) made before it, the one
 * that started last. A finished call counts because orchestrators accept a request and act on it
 * later; a finished internal step does not. With trace context crossing services (beorn → MDSO in
 * one trace), this picks MDSO's running step rather than beorn's long call around it.
 */
export function chooseParentSpan(parent: TraceState, childStartMs: number): CandidateSpan {
  const c = parent.candidates;
  let best = -1;
  const isCall = (i: number) => c.kind(i) === SPAN_KIND_CLIENT || c.kind(i) === SPAN_KIND_PRODUCER;
  for (let i = 0; i < c.length; i++) {
    const start = c.startMs(i);
    if (start > childStartMs) continue;
    if (!isCall(i) && c.endMs(i) < childStartMs) continue;
    if (
      best < 0 ||
      start > c.startMs(best) ||
      (start === c.startMs(best) && ((isCall(i) && !isCall(best)) || (isCall(i) === isCall(best) && c.spanId(i) < c.spanId(best))))
    ) {
      best = i;
    }
  }
  if (best >= 0) return c.at(best);
  const e = parent.entry!;
  return { spanId: e.spanId, service: e.service, startMs: e.startMs, endMs: e.endMs, kind: 2 };
}

function linkedToEarlier(ordered: readonly TraceState[], i: number): boolean {
  const child = ordered[i]!;
  for (let j = 0; j < i; j++) {
    const t = ordered[j]!;
    if (t.linkedTraceIds.includes(child.traceId) || child.linkedTraceIds.includes(t.traceId)) return true;
  }
  return false;
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
