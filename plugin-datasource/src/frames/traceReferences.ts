import type { Bridge, Span, TraceLink } from '@correlation-station/api-schema';

export interface TraceKeyValue {
  key: string;
  value: unknown;
}

export interface TraceReference {
  traceID: string;
  spanID: string;
  tags?: TraceKeyValue[];
}

/** Why a span refers to another: it follows a bridge, it links out, or another span links to it. */
export type ReferenceKind = 'fromBridge' | 'outgoing' | 'incoming';

export interface ReferenceCandidate {
  kind: ReferenceKind;
  ref: TraceReference;
}

export function toKeyValues(map: Record<string, unknown>): TraceKeyValue[] {
  return Object.entries(map).map(([key, value]) => ({ key, value }));
}

export function spanKey(traceId: string, spanId: string): string {
  return `${traceId}/${spanId}`;
}

/**
 * Every reference per span (keyed by trace/span id): bridge spans to the entry span of the trace
 * they join and back, OTLP links out, and links pointing in (Grafana shows no back-links itself).
 * Bridges come first so their kind wins when a bridge span also carries the same OTLP link.
 */
export function collectReferences(
  spans: Span[],
  bridges: Bridge[],
  linksIn: TraceLink[]
): Map<string, ReferenceCandidate[]> {
  const refs = new Map<string, ReferenceCandidate[]>();
  const seen = new Set<string>();
  const add = (from: string, kind: ReferenceKind, ref: TraceReference) => {
    const id = `${from}->${spanKey(ref.traceID, ref.spanID)}`;
    if (!seen.has(id)) {
      seen.add(id);
      refs.set(from, [...(refs.get(from) ?? []), { kind, ref }]);
    }
  };
  const present = new Set(spans.map((s) => spanKey(s.traceId, s.spanId)));

  for (const bridge of bridges) {
    const bridgeTag = { key: 'link.kind', value: 'bridge' };
    add(spanKey(bridge.traceId, bridge.spanId), 'outgoing', {
      traceID: bridge.childTraceId,
      spanID: bridge.childSpanId,
      tags: [bridgeTag],
    });
    add(spanKey(bridge.childTraceId, bridge.childSpanId), 'fromBridge', {
      traceID: bridge.traceId,
      spanID: bridge.spanId,
      tags: [bridgeTag, { key: 'link.direction', value: 'incoming' }],
    });
  }
  for (const span of spans) {
    const from = spanKey(span.traceId, span.spanId);
    for (const link of span.links) {
      add(from, 'outgoing', { traceID: link.traceId, spanID: link.spanId, tags: toKeyValues(link.attributes) });
      const target = spanKey(link.traceId, link.spanId);
      if (present.has(target)) {
        add(target, 'incoming', {
          traceID: span.traceId,
          spanID: span.spanId,
          tags: [{ key: 'link.direction', value: 'incoming' }],
        });
      }
    }
  }
  for (const link of linksIn) {
    add(spanKey(link.targetTraceId, link.targetSpanId), 'incoming', {
      traceID: link.sourceTraceId,
      spanID: link.sourceSpanId,
      tags: [
        { key: 'link.origin', value: link.origin },
        { key: 'link.direction', value: 'incoming' },
      ],
    });
  }
  return refs;
}

/**
 * Orders references so Grafana's trace tree stays sound. Grafana nests a span under the target of
 * its *first* reference (CHILD_OF from parentSpanID, else the first FOLLOWS_FROM), looked up by
 * span id only. So for a span without parent the first reference decides where it hangs:
 * the bridge that led to it (the stitched view), else a span it links out to, never a span that
 * merely links to it, and never one that would close a cycle (which would hide both spans).
 * When no in-frame reference qualifies, one outside the frame goes first (it resolves to the
 * top level); if there is none, the in-frame references that would misplace the span are dropped.
 */
export function treeSafeReferences(
  spans: Span[],
  candidates: Map<string, ReferenceCandidate[]>
): Map<string, TraceReference[]> {
  const inFrame = new Set(spans.map((s) => s.spanId));
  const parentOf = new Map<string, string>();
  for (const span of spans) {
    if (span.parentSpanId && inFrame.has(span.parentSpanId)) {
      parentOf.set(span.spanId, span.parentSpanId);
    }
  }
  const closesCycle = (child: string, parent: string) => {
    const visited = new Set<string>();
    for (let at: string | undefined = parent; at !== undefined; at = parentOf.get(at)) {
      if (at === child || visited.has(at)) {
        return true;
      }
      visited.add(at);
    }
    return false;
  };

  const result = new Map<string, TraceReference[]>();
  const roots = spans.filter((s) => !s.parentSpanId).sort((a, b) => a.startTimeMs - b.startTimeMs);
  for (const span of spans) {
    if (span.parentSpanId) {
      result.set(
        spanKey(span.traceId, span.spanId),
        (candidates.get(spanKey(span.traceId, span.spanId)) ?? []).map((c) => c.ref)
      );
    }
  }
  for (const span of roots) {
    const key = spanKey(span.traceId, span.spanId);
    const all = candidates.get(key) ?? [];
    const rank = (c: ReferenceCandidate) => (c.kind === 'fromBridge' ? 0 : 1);
    const parent = all
      .filter((c) => c.kind !== 'incoming' && inFrame.has(c.ref.spanID) && !closesCycle(span.spanId, c.ref.spanID))
      .sort((a, b) => rank(a) - rank(b))[0];
    if (parent) {
      parentOf.set(span.spanId, parent.ref.spanID);
      result.set(key, [parent.ref, ...all.filter((c) => c !== parent).map((c) => c.ref)]);
      continue;
    }
    const outside = all.filter((c) => !inFrame.has(c.ref.spanID));
    result.set(
      key,
      outside.length ? [...outside, ...all.filter((c) => inFrame.has(c.ref.spanID))].map((c) => c.ref) : []
    );
  }
  return result;
}
