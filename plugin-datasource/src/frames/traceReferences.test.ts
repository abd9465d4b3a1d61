import type { Span } from '@correlation-station/api-schema';
import { TRACE_A, TRACE_B, makeBridge, makeSpan } from '../test/fixtures';
import { collectReferences, spanKey, treeSafeReferences, type TraceReference } from './traceReferences';

const TRACE_C = 'c'.repeat(32);

/** Grafana's rule (getTraceSpanIdsAsTree): a span hangs under its parent, else its first reference, by span id. */
function grafanaParent(span: Span, refs: Map<string, TraceReference[]>, inFrame: Set<string>): string | undefined {
  const first = span.parentSpanId || refs.get(spanKey(span.traceId, span.spanId))?.[0]?.spanID;
  return first && inFrame.has(first) ? first : undefined;
}

function parentsOf(spans: Span[], refs: Map<string, TraceReference[]>): Record<string, string | undefined> {
  const inFrame = new Set(spans.map((s) => s.spanId));
  return Object.fromEntries(spans.map((s) => [s.spanId, grafanaParent(s, refs, inFrame)]));
}

/** Every span must reach the top level; a cycle would make Grafana drop the spans in it. */
function expectNoCycles(parents: Record<string, string | undefined>) {
  for (const start of Object.keys(parents)) {
    const seen = new Set<string>();
    for (let at: string | undefined = start; at !== undefined; at = parents[at]) {
      expect(seen.has(at)).toBe(false);
      seen.add(at);
    }
  }
}

const rootA = makeSpan({ spanId: 'a0', startTimeMs: 0 });
const bridgeSpan = makeSpan({ spanId: 'br', parentSpanId: 'a0', synthetic: true, startTimeMs: 1 });
const rootB = makeSpan({ traceId: TRACE_B, spanId: 'b0', startTimeMs: 2 });
const childB = makeSpan({ traceId: TRACE_B, spanId: 'b1', parentSpanId: 'b0', startTimeMs: 3 });
const link = (traceId: string, spanId: string) => ({ traceId, spanId, attributes: {} });

describe('treeSafeReferences', () => {
  it.each<[string, Span[], Parameters<typeof collectReferences>[1], Record<string, string | undefined>]>([
    [
      'nests the joined trace under the bridge span',
      [rootA, bridgeSpan, rootB, childB],
      [makeBridge({ spanId: 'br', childTraceId: TRACE_B, childSpanId: 'b0' })],
      { a0: undefined, br: 'a0', b0: 'br', b1: 'b0' },
    ],
    [
      'nests a root under the span it links out to',
      [rootA, { ...rootB, links: [link(TRACE_A, 'a0')] }],
      [],
      { a0: undefined, b0: 'a0' },
    ],
    [
      'never nests a root under a span that only links to it',
      [
        { ...rootA, links: [link(TRACE_B, 'b0')] },
        { ...rootB, startTimeMs: -5 },
      ],
      [],
      { a0: 'b0', b0: undefined },
    ],
    [
      'breaks a cycle of two roots linking each other',
      [
        { ...rootA, links: [link(TRACE_B, 'b0')] },
        { ...rootB, links: [link(TRACE_A, 'a0')] },
      ],
      [],
      { a0: 'b0', b0: undefined },
    ],
    [
      'breaks a longer cycle through children',
      [
        { ...rootA, links: [link(TRACE_B, 'b1')] },
        { ...rootB, links: [link(TRACE_C, 'c0')] },
        childB,
        makeSpan({ traceId: TRACE_C, spanId: 'c0', startTimeMs: 9, links: [link(TRACE_A, 'a0')] }),
      ],
      [],
      { a0: 'b1', b0: 'c0', b1: 'b0', c0: undefined },
    ],
  ])('%s', (_name, spans, bridges, expectedParents) => {
    const refs = treeSafeReferences(spans, collectReferences(spans, bridges, []));
    const parents = parentsOf(spans, refs);
    expect(parents).toEqual(expectedParents);
    expectNoCycles(parents);
  });

  it('keeps every reference of a span with a parent, in order', () => {
    const spans = [rootA, { ...childB, links: [link(TRACE_C, 'x1'), link(TRACE_A, 'a0')] }];
    const refs = treeSafeReferences(spans, collectReferences(spans, [], []));
    expect(refs.get(spanKey(TRACE_B, 'b1'))?.map((r) => r.spanID)).toEqual(['x1', 'a0']);
  });

  it('puts a reference outside the frame first when no in-frame one may be the parent', () => {
    const spans = [
      { ...rootA, links: [link(TRACE_B, 'b0')] },
      { ...rootB, links: [link(TRACE_C, 'elsewhere'), link(TRACE_A, 'a0')] },
    ];
    const refs = treeSafeReferences(spans, collectReferences(spans, [], []));
    // a0 already hangs under b0, so b0 → a0 cannot lead (a cycle) and is not repeated (Grafana
    // shows it as a back-link from a0's reference).
    expect(refs.get(spanKey(TRACE_B, 'b0'))?.map((r) => r.spanID)).toEqual(['elsewhere']);
  });

  it('drops a cyclic reference when nothing outside the frame can lead', () => {
    const spans = [
      { ...rootA, links: [link(TRACE_B, 'b0')] },
      { ...rootB, links: [link(TRACE_A, 'a0')] },
    ];
    const refs = treeSafeReferences(spans, collectReferences(spans, [], []));
    expect(refs.get(spanKey(TRACE_B, 'b0'))).toEqual([]);
  });

  it('adds no back-link for links inside the frame (Grafana derives them)', () => {
    const spans = [{ ...rootA, links: [link(TRACE_B, 'b0')] }, rootB];
    const refs = treeSafeReferences(spans, collectReferences(spans, [], []));
    expect(refs.get(spanKey(TRACE_B, 'b0'))).toEqual([]);
  });

  it("drops the parent's reference back to a root it now holds", () => {
    const spans = [rootA, { ...bridgeSpan, links: [link(TRACE_B, 'b0')] }, rootB];
    const refs = treeSafeReferences(
      spans,
      collectReferences(spans, [makeBridge({ spanId: 'br', childTraceId: TRACE_B, childSpanId: 'b0' })], [])
    );
    expect(refs.get(spanKey(TRACE_A, 'br'))).toEqual([]);
    expect(refs.get(spanKey(TRACE_B, 'b0'))?.map((r) => r.spanID)).toEqual(['br']);
  });

  it('keeps incoming links from outside the frame only (single-trace view)', () => {
    const spans = [rootB, makeSpan({ traceId: TRACE_B, spanId: 'b7', parentSpanId: 'b0' })];
    const linkIn = (sourceTraceId: string, sourceSpanId: string) => ({
      sourceTraceId,
      sourceSpanId,
      targetTraceId: TRACE_B,
      targetSpanId: 'b0',
      origin: 'otlp' as const,
    });
    const linksIn = [linkIn(TRACE_A, 'a9'), linkIn(TRACE_B, 'b7')];
    const refs = treeSafeReferences(spans, collectReferences(spans, [], linksIn));
    expect(refs.get(spanKey(TRACE_B, 'b0'))?.map((r) => r.spanID)).toEqual(['a9']);
  });
});

describe('collectReferences', () => {
  it('lets a bridge win over the same OTLP link on the bridge span', () => {
    const spans = [rootA, { ...bridgeSpan, links: [link(TRACE_B, 'b0')] }, rootB];
    const refs = collectReferences(spans, [makeBridge({ spanId: 'br', childTraceId: TRACE_B, childSpanId: 'b0' })], []);
    expect(refs.get(spanKey(TRACE_A, 'br'))).toEqual([
      { kind: 'outgoing', ref: { traceID: TRACE_B, spanID: 'b0', tags: [{ key: 'link.kind', value: 'bridge' }] } },
    ]);
    expect(refs.get(spanKey(TRACE_B, 'b0'))?.map((c) => c.kind)).toEqual(['fromBridge']);
  });
});
