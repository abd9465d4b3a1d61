import { Type, type Static } from 'typebox';
import { clockOffsetSchema } from './bridges.js';
import { QueryString, TimeParam } from './common.js';

export const ServiceGraphQuery = QueryString({
  from: Type.Optional(TimeParam),
  to: Type.Optional(TimeParam),
  circuit_id: Type.Optional(Type.String({ minLength: 1 })),
});
export type ServiceGraphQuery = Static<typeof ServiceGraphQuery>;

export const ServiceNode = Type.Object({
  id: Type.String(),
  title: Type.String(),
  spanCount: Type.Integer(),
  errorCount: Type.Integer({
    description:
      "Its failed spans, plus the ERROR-or-worse log lines of its traces whose spans all succeeded (a trace's errors, as its circuit counts them); " +
      "a line of a service that drew no span of its trace counts at that trace's first service",
  }),
  traceCount: Type.Integer(),
});
export type ServiceNode = Static<typeof ServiceNode>;

export const ServiceEdge = Type.Object({
  id: Type.String(),
  source: Type.String(),
  target: Type.String(),
  callCount: Type.Integer({
    description:
      "Its trace-context calls plus its bridges: a pair of services that trace context joins is one edge, whose bridges add to it. " +
      "The bridges counted are those from the graph's traces, as the circuit detail and stitched view take theirs: one into them " +
      'from a trace outside the range or cap is not. On a linked edge, its span links',
  }),
  errorCount: Type.Integer({
    description:
      "Calls whose callee failed: a trace-context call's span in the target service, a bridge's child entry span, " +
      "a link's linking span, with status error; a bridge also when its child trace's spans all succeeded and it logged an ERROR-or-worse line",
  }),
  bridged: Type.Boolean({ description: 'True when the edge exists only through bridge spans' }),
  linked: Type.Boolean({
    description:
      "True for an edge of OTLP span links between two of the graph's traces, from the linked span's service to the " +
      "linking span's (a consumer's link to its producer: producer to consumer). Never merged with a call edge of the " +
      'same services: a link relates two traces, it is no call. A link into a trace the graph is not drawn from draws nothing',
  }),
  meanConfidence: Type.Number({
    description:
      "The mean over callCount of 1 per trace-context call and each bridge's confidence: 1 for an edge of trace context only, " +
      'and for a linked edge',
  }),
  clockOffset: Type.Optional(
    clockOffsetSchema(
      "The target's clock minus the source's, from the client and server spans of the edge's calls (trace-context edges with such calls only)",
    ),
  ),
});
export type ServiceEdge = Static<typeof ServiceEdge>;

/**
 * The most traces a graph of a time range is drawn from, the most recent first: every span of each
 * is read, so a wide range over a busy store would otherwise take minutes to answer.
 */
export const MAX_GRAPH_TRACES = 5000;

export const ServiceGraph = Type.Object(
  {
    nodes: Type.Array(ServiceNode),
    edges: Type.Array(ServiceEdge),
    traceCount: Type.Integer({ description: 'Traces the graph was drawn from' }),
    traceLimit: Type.Integer({
      description: `The most traces a graph without circuit_id is drawn from (${MAX_GRAPH_TRACES}), the most recent of the range`,
    }),
    truncated: Type.Boolean({
      description:
        'Whether the range holds more traces than traceLimit, so services and calls seen only in older ones are left out and counts are low; ' +
        "never with circuit_id, whose graph is drawn from all of the circuit's traces in the range",
    }),
  },
);
export type ServiceGraph = Static<typeof ServiceGraph>;

export const ServiceListQuery = QueryString({
  from: Type.Optional(TimeParam),
  to: Type.Optional(TimeParam),
});
export type ServiceListQuery = Static<typeof ServiceListQuery>;

export const ServiceList = Type.Object({
  services: Type.Array(Type.String(), {
    description:
      'Every service with data (spans or logs of a trace) in the hours the range touches, by name: kept per hour, so a ' +
      "range's first and last hours count whole, and a trace longer than 48 hours counts in its first and last only",
  }),
});
export type ServiceList = Static<typeof ServiceList>;
