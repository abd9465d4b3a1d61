import { createDataFrame, FieldType, type DataFrame, type QueryResultMetaNotice } from '@grafana/data';
import type { ClockOffset, ServiceGraph } from '@correlation-station/api-schema';

/** Colours of edges: trace-context calls stay default, bridged MDSO hops stand out. */
export const BRIDGED_EDGE_COLOR = 'orange';
const CONTEXT_EDGE_COLOR = 'green';

function errorRatio(errors: number, total: number): number {
  return total > 0 ? errors / total : 0;
}

/** Node-graph frames (`nodes` and `edges`); edges that exist only through bridge spans are dashed and orange. */
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
        // Text, as the node graph shows details: a range, or nothing where no call timed it.
        name: 'detail__clockOffset',
        type: FieldType.string,
        values: edges.map((e) => (e.clockOffset ? clockOffsetText(e.clockOffset) : '')),
        config: { displayName: "Target's clock minus source's (from their calls)" },
      },
      {
        name: 'color',
        type: FieldType.string,
        values: edges.map((e) => (e.bridged ? BRIDGED_EDGE_COLOR : CONTEXT_EDGE_COLOR)),
      },
      { name: 'strokedasharray', type: FieldType.string, values: edges.map((e) => (e.bridged ? '6 4' : '')) },
    ],
  });
  return [nodesFrame, edgesFrame];
}

function clockOffsetText(o: ClockOffset): string {
  const calls = `${o.calls} call${o.calls === 1 ? '' : 's'}`;
  return `${o.lowMs} to ${o.highMs} ms (${calls}${o.conflicting ? ', calls disagree' : ''})`;
}
