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
 * they join and back, OTLP links out, and links pointing in from spans outside the frame. Grafana
 * derives back-links between spans of one frame itself (`subsidiarilyReferencedBy`), so in-frame
 * incoming links are not repeated. Bridges come first so their kind wins over the same OTLP link.
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
    }
  }
  for (const link of linksIn) {
    if (present.has(spanKey(link.sourceTraceId, link.sourceSpanId))) {
      continue;
    }
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
 * its *first* reference (CHILD_OF from parentSpanID, else the first FOLLOWS_FROM), looked up by span
 * id only, and turns every later in-frame reference into a back-link on its target. So for a span
 * without parent the first reference decides where it hangs: the bridge that led to it (the
 * stitched view), else a span it links out to, never one that would close a cycle (that would hide
 * the spans in it). The chosen parent's own reference back to the span is dropped, as Grafana would
 * otherwise show the same link twice. With no acceptable in-frame parent, a reference outside the
 * frame goes first (it resolves to the top level); if there is none, the in-frame references that
 * would close a cycle are dropped.
 */
export function treeSafeReferences(
  spans: Span[],
  candidates: Map<string, ReferenceCandidate[]>
): Map<string, TraceReference[]> {
  const keyBySpanId = new Map(spans.map((s) => [s.spanId, spanKey(s.traceId, s.spanId)]));
  const parentOf = new Map<string, string>();
  for (const span of spans) {
    if (span.parentSpanId && keyBySpanId.has(span.parentSpanId)) {
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
  const inFrame = (c: ReferenceCandidate) => keyBySpanId.has(c.ref.spanID);

  const result = new Map<string, ReferenceCandidate[]>();
  const dropped = new Set<string>();
  for (const span of spans) {
    const key = spanKey(span.traceId, span.spanId);
    result.set(key, candidates.get(key) ?? []);
  }
  const roots = spans.filter((s) => !s.parentSpanId).sort((a, b) => a.startTimeMs - b.startTimeMs);
  for (const span of roots) {
    const key = spanKey(span.traceId, span.spanId);
    const all = result.get(key) ?? [];
    const parent = all
      .filter((c) => c.kind !== 'incoming' && inFrame(c) && !closesCycle(span.spanId, c.ref.spanID))
      .sort((a, b) => Number(b.kind === 'fromBridge') - Number(a.kind === 'fromBridge'))[0];
    if (parent) {
      parentOf.set(span.spanId, parent.ref.spanID);
      result.set(key, [parent, ...all.filter((c) => c !== parent)]);
      dropped.add(`${keyBySpanId.get(parent.ref.spanID)}->${span.spanId}`);
      continue;
    }
    const outside = all.filter((c) => !inFrame(c));
    result.set(key, outside.length ? [...outside, ...all.filter(inFrame)] : []);
  }
  return new Map(
    [...result].map(([key, refs]) => [
      key,
      refs.filter((c) => !dropped.has(`${key}->${c.ref.spanID}`)).map((c) => c.ref),
    ])
  );
}
