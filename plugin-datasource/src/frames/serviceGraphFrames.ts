import { createDataFrame, FieldType, type DataFrame, type QueryResultMetaNotice } from '@grafana/data';
import type { ClockOffset, ServiceGraph } from '@correlation-station/api-schema';

/** Colours of edges: trace-context calls stay default, bridged MDSO hops and span links stand out. */
export const BRIDGED_EDGE_COLOR = 'orange';
export const LINKED_EDGE_COLOR = 'purple';
const CONTEXT_EDGE_COLOR = 'green';
/** Dash patterns: a bridge is a guessed call (dashed), a link relates two traces and is no call (dotted). */
const BRIDGED_EDGE_DASH = '6 4';
const LINKED_EDGE_DASH = '2 4';

type Edge = ServiceGraph['edges'][number];

// `linked` is absent from the answers of correlators older than link edges: those edges are calls.
const isLinked = (e: Edge): boolean => e.linked === true;

function edgeColor(e: Edge): string {
  return isLinked(e) ? LINKED_EDGE_COLOR : e.bridged ? BRIDGED_EDGE_COLOR : CONTEXT_EDGE_COLOR;
}

function edgeDash(e: Edge): string {
  return isLinked(e) ? LINKED_EDGE_DASH : e.bridged ? BRIDGED_EDGE_DASH : '';
}

function errorRatio(errors: number, total: number): number {
  return total > 0 ? errors / total : 0;
}

/**
 * Node-graph frames (`nodes` and `edges`); edges that exist only through bridge spans are dashed and
 * orange, edges of span links dotted and purple.
 */
export function serviceGraphFrames(refId: string, graph: ServiceGraph): DataFrame[] {
  const { nodes, edges } = graph;
  // On the nodes frame only: Grafana shows each frame's notices, and one warning is enough.
  const notices: QueryResultMetaNotice[] = graph.truncated
    ? [
        {
          severity: 'warning',
          text:
            `Drawn from the ${graph.traceCount} most recent traces of the time range only; ` +
            'services and calls of older traces are missing and counts are low. Narrow the time range or pick a circuit.',
        },
      ]
    : [];
  const nodesFrame = createDataFrame({
    refId,
    name: 'nodes',
    meta: { preferredVisualisationType: 'nodeGraph', notices: notices.length ? notices : undefined },
    fields: [
      { name: 'id', type: FieldType.string, values: nodes.map((n) => n.id) },
      { name: 'title', type: FieldType.string, values: nodes.map((n) => n.title) },
      {
        name: 'mainstat',
        type: FieldType.number,
        values: nodes.map((n) => n.spanCount),
        config: { displayName: 'Spans', unit: 'none' },
      },
      {
        name: 'secondarystat',
        type: FieldType.number,
        values: nodes.map((n) => n.errorCount),
        config: { displayName: 'Errors', unit: 'none' },
      },
      {
        name: 'arc__errors',
        type: FieldType.number,
        values: nodes.map((n) => errorRatio(n.errorCount, n.spanCount)),
        config: { displayName: 'Errors', color: { mode: 'fixed', fixedColor: 'red' } },
      },
      {
        name: 'arc__ok',
        type: FieldType.number,
        values: nodes.map((n) => 1 - errorRatio(n.errorCount, n.spanCount)),
        config: { displayName: 'OK', color: { mode: 'fixed', fixedColor: 'green' } },
      },
      {
        name: 'detail__traceCount',
        type: FieldType.number,
        values: nodes.map((n) => n.traceCount),
        config: { displayName: 'Traces' },
      },
    ],
  });
  const edgesFrame = createDataFrame({
    refId,
    name: 'edges',
    meta: { preferredVisualisationType: 'nodeGraph' },
    fields: [
      { name: 'id', type: FieldType.string, values: edges.map((e) => e.id) },
      { name: 'source', type: FieldType.string, values: edges.map((e) => e.source) },
      { name: 'target', type: FieldType.string, values: edges.map((e) => e.target) },
      {
        name: 'mainstat',
        type: FieldType.number,
        values: edges.map((e) => e.callCount),
        config: { displayName: 'Calls', unit: 'none' },
      },
      {
        name: 'secondarystat',
        type: FieldType.number,
        values: edges.map((e) => e.meanConfidence),
        config: { displayName: 'Confidence', unit: 'percentunit' },
      },
      {
        name: 'detail__errorCount',
        type: FieldType.number,
        values: edges.map((e) => e.errorCount),
        config: { displayName: 'Errors' },
      },
      {
        name: 'detail__bridged',
        type: FieldType.boolean,
        values: edges.map((e) => e.bridged),
        config: { displayName: 'Bridged (no trace context)' },
      },
      {
        name: 'detail__linked',
        type: FieldType.boolean,
        values: edges.map(isLinked),
        // Its "calls" are the span links between the two services' traces.
        config: { displayName: 'Span links (no call: Calls counts the links)' },
      },
      {
        // Text, as the node graph shows details: a range, or nothing where no call timed it.
        name: 'detail__clockOffset',
        type: FieldType.string,
        values: edges.map((e) => (e.clockOffset ? clockOffsetText(e.clockOffset) : '')),
        config: { displayName: "Target's clock minus source's (from their calls)" },
      },
      {
        name: 'color',
        type: FieldType.string,
        values: edges.map(edgeColor),
      },
      { name: 'strokedasharray', type: FieldType.string, values: edges.map(edgeDash) },
    ],
  });
  return [nodesFrame, edgesFrame];
}

function clockOffsetText(o: ClockOffset): string {
  const calls = `${o.calls} call${o.calls === 1 ? '' : 's'}`;
  return `${o.lowMs} to ${o.highMs} ms (${calls}${o.conflicting ? ', calls disagree' : ''})`;
}
