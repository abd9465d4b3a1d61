// Encodes a planned bridge as an OTLP Span, the form it is stored in, served in the stitched
// view and exported to Tempo.
import Long from 'long';
import type { BridgePlan } from '../correlation/types.js';
import { otlpTypes } from '../otlp/schema.js';

export const BRIDGE_SERVICE_NAME = 'correlation-station';
const SPAN_KIND_INTERNAL = 1;

function nanosLong(ms: number): Long {
  // Millisecond floats carry sub-microsecond noise; round to whole microseconds first.
  const micros = Math.round(ms * 1000);
  return Long.fromNumber(micros, true).multiply(1000);
}

function str(key: string, value: string) {
  return { key, value: { stringValue: value } };
}

export function bridgeSpanName(plan: Pick<BridgePlan, 'parentService' | 'childService'>): string {
  return `${plan.parentService}_to_${plan.childService}_bridge`;
}

export function encodeBridgeSpan(plan: BridgePlan): Uint8Array {
  const t = otlpTypes();
  const start = plan.parentStartMs;
  const end = Math.max(plan.childStartMs, start);
  const span = t.Span.fromObject({
    traceId: Buffer.from(plan.traceId, 'hex'),
    spanId: Buffer.from(plan.spanId, 'hex'),
    parentSpanId: Buffer.from(plan.parentSpanId, 'hex'),
    name: bridgeSpanName(plan),
    kind: SPAN_KIND_INTERNAL,
    startTimeUnixNano: nanosLong(start),
    endTimeUnixNano: nanosLong(end),
    attributes: [
      str('bridge.type', 'synthetic'),
      str('bridge.parent_service', plan.parentService),
      str('bridge.child_service', plan.childService),
      str('bridge.child_trace_id', plan.childTraceId),
      str(plan.key, plan.value),
      str('correlation.method', plan.method),
      { key: 'correlation.confidence', value: { doubleValue: plan.confidence } },
    ],
    links: [
      {
        traceId: Buffer.from(plan.childTraceId, 'hex'),
        spanId: Buffer.from(plan.childSpanId, 'hex'),
        attributes: [str('link.type', 'bridge_child'), str('correlation.method', plan.method)],
      },
    ],
    status: { code: 0 },
  });
  return t.Span.encode(span).finish();
}
