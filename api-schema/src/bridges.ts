import { Type, type Static } from 'typebox';

const clockOffsetProperties = {
  lowMs: Type.Number(),
  highMs: Type.Number(),
  calls: Type.Integer({ minimum: 0, description: 'Calls behind the bounds (for a chain of services, its least-observed step)' }),
  conflicting: Type.Boolean({
    description: 'The calls disagree (a clock that drifted over the range, or a server span that outlived its call); the bounds are then those of the disagreement',
  }),
};

/**
 * How far one service's clock is from another's, bounded by the calls trace context shows between
 * them: a server span runs within its client span in true time. `description` says which two.
 */
export function clockOffsetSchema(description: string) {
  return Type.Object(clockOffsetProperties, { description });
}

export const ClockOffset = clockOffsetSchema('One clock minus another');
export type ClockOffset = Static<typeof ClockOffset>;

/** What the services' clocks say about a bridge's direction. */
export const BridgeClockCheck = Type.Object(
  {
    order: Type.Union([Type.Literal('consistent'), Type.Literal('uncertain'), Type.Literal('reversed'), Type.Literal('unknown')], {
      description:
        'consistent: the child started after the parent span whatever the offset the calls allow; reversed: before it for every such offset (a clock, not causality, ordered the traces); uncertain: either; unknown: no call between the two services, directly or through others, in the traces looked at',
    }),
    childClockOffset: Type.Optional(clockOffsetSchema("The child's clock minus the parent's")),
  },
  { description: "In the stitched view: the bridge's direction checked against the clock offsets the circuit's own traces show"},
);
export type BridgeClockCheck = Static<typeof BridgeClockCheck>;

/**
 * What in the parent trace the bridge hangs from, strongest first: the evidence behind it, beside
 * its confidence (which says how far apart the two are in time).
 */
export const BridgeBasis = Type.Union(
  [Type.Literal('named_call'), Type.Literal('call'), Type.Literal('running_span'), Type.Literal('time_only'), Type.Literal('unknown')],
  {
    description:
      "named_call: a call of the parent trace said it went to the child's service (peer.service, or its host); " +
      'call: an outgoing call (client or producer span) of the parent trace made before the child started, naming another destination or none ' +
      '(an orchestrator that is not traced, such as MDSO, calls on later); ' +
      'running_span: a span of the parent trace still running when the child started; ' +
      'time_only: nothing of the parent trace points at the child: it is the nearest earlier trace of another service of the circuit within the window, ' +
      'and the bridge hangs from its entry span (a guess: a retry or a poll before an activation looks the same); ' +
      'unknown: planned before the correlator kept the basis (stored before 2026-12-08)',
  },
);
export type BridgeBasis = Static<typeof BridgeBasis>;

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
    basis: BridgeBasis,
    gapMs: Type.Number({ description: 'Child entry start minus parent span start' }),
    createdAt: Type.String({ format: 'date-time' }),
    // In the stitched view, which reads the spans the check needs.
    clockCheck: Type.Optional(BridgeClockCheck),
  },
);
export type Bridge = Static<typeof Bridge>;
