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
  errorCount: Type.Integer(),
  traceCount: Type.Integer(),
});
export type ServiceNode = Static<typeof ServiceNode>;

export const ServiceEdge = Type.Object({
  id: Type.String(),
  source: Type.String(),
  target: Type.String(),
  callCount: Type.Integer(),
  errorCount: Type.Integer(),
  bridged: Type.Boolean({ description: 'True when the edge exists only through bridge spans' }),
  meanConfidence: Type.Number({ description: '1 for trace-context edges, the mean bridge confidence otherwise' }),
  clockOffset: Type.Optional(
    clockOffsetSchema("The target's clock minus the source's, from the client and server spans of the edge's calls (trace-context edges with such calls only)"),
  ),
});
export type ServiceEdge = Static<typeof ServiceEdge>;

export const ServiceGraph = Type.Object(
  { nodes: Type.Array(ServiceNode), edges: Type.Array(ServiceEdge) },
);
export type ServiceGraph = Static<typeof ServiceGraph>;
