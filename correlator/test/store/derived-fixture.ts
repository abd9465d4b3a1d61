// What correlation would derive for one trace's spans: its row and its membership of one circuit.
// Store tests write it beside the spans, without running the engine.
import type { DecodedSpan } from '../../src/otlp/decoded.js';
import { emptyDerivedWrites, type DerivedWrites } from '../../src/store/derived-writes.js';

export function traceAndCircuit(circuitId: string): (spans: DecodedSpan[]) => DerivedWrites {
  return spans => {
    const w = emptyDerivedWrites();
    const s = spans[0]!;
    w.traces.push({
      traceId: s.traceId,
      firstMs: s.startMs,
      lastMs: s.endMs,
      spanDelta: spans.length,
      errorDelta: 0,
      logDelta: 0,
      services: [s.resource.serviceName],
      entry: null,
      keys: { circuit_id: circuitId },
      linkedTraceIds: [],
    });
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
