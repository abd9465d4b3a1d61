import { Type, type Static } from 'typebox';

/** A synthetic bridge span joining two traces of one circuit that trace context did not connect. */
export const Bridge = Type.Object(
  {
    spanId: Type.String(),
    traceId: Type.String({ description: 'The earlier (parent) trace, which holds the bridge span' }),
    parentSpanId: Type.String(),
    childTraceId: Type.String(),
    childSpanId: Type.String({ description: "Entry span of the later trace, the bridge's link target" }),
    parentService: Type.String(),
    childService: Type.String(),
    key: Type.String(),
    value: Type.String(),
    method: Type.String(),
    confidence: Type.Number({ minimum: 0, maximum: 1 }),
    gapMs: Type.Number({ description: 'Child entry start minus parent span start' }),
    createdAt: Type.String({ format: 'date-time' }),
  },
);
export type Bridge = Static<typeof Bridge>;
