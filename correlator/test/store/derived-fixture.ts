// What correlation would derive for one trace's spans: its row and its membership of one circuit.
// Store tests write it beside the spans, without running the engine.
import type { DecodedSpan } from '../../src/otlp/decoded.js';
import {
  emptyDerivedWrites,
  type DerivedWrites,
  type TraceUpsert,
} from '../../src/store/derived-writes.js';

/** The trace row of one trace's spans, timed by its first span. */
export function traceRow(spans: DecodedSpan[], keys: Record<string, string> = {}): TraceUpsert {
  const s = spans[0]!;
  return {
    traceId: s.traceId,
    firstMs: s.startMs,
    lastMs: s.endMs,
    spanDelta: spans.length,
    errorDelta: 0,
    errorLogDelta: 0,
    logDelta: 0,
    services: [s.resource.serviceName],
    entry: null,
    keys,
    moreKeys: [],
    linkedTraceIds: [],
    spanFirstMs: Math.min(...spans.map(x => x.startMs)),
    spanLastMs: Math.max(...spans.map(x => x.endMs)),
    keysGained: false,
    entryBecameRoot: false,
  };
}

export function traceAndCircuit(circuitId: string): (spans: DecodedSpan[]) => DerivedWrites {
  return spans => {
    const w = emptyDerivedWrites();
    const s = spans[0]!;
    w.traces.push(traceRow(spans, { circuit_id: circuitId }));
    w.memberships.push({
      key: 'circuit_id',
      value: circuitId,
      traceId: s.traceId,
      firstMs: s.startMs,
      lastMs: s.endMs,
    });
    return w;
  };
}
