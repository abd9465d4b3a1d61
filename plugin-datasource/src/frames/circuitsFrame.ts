import { createDataFrame, FieldType, type DataFrame } from '@grafana/data';
import type { CircuitSummary } from '@correlation-station/api-schema';
import { limitNotices } from './limitNotice';
import { circuitLinks, type LinkTargets } from './links';

/**
 * Circuit search results as a table, one row per circuit; the id links to the app and the stitched
 * trace. `truncated`: the correlator had more than the query's limit.
 */
export function circuitsFrame(refId: string, circuits: CircuitSummary[], targets: LinkTargets, truncated = false): DataFrame {
  return createDataFrame({
    refId,
    name: 'Circuits',
    meta: { preferredVisualisationType: 'table', notices: limitNotices(truncated, circuits.length, 'circuits') },
    fields: [
      {
        name: 'circuitId',
        type: FieldType.string,
        values: circuits.map((c) => c.circuitId),
        config: { displayName: 'Circuit', links: circuitLinks(targets) },
      },
      {
        name: 'status',
        type: FieldType.string,
        values: circuits.map((c) => c.status),
        config: { displayName: 'Status' },
      },
      {
        name: 'services',
        type: FieldType.string,
        values: circuits.map((c) => c.services.join(', ')),
        config: { displayName: 'Services' },
      },
      {
        name: 'traceCount',
        type: FieldType.number,
        values: circuits.map((c) => c.traceCount),
        config: { displayName: 'Traces', unit: 'none' },
      },
      {
        name: 'spanCount',
        type: FieldType.number,
        values: circuits.map((c) => c.spanCount),
        config: { displayName: 'Spans', unit: 'none' },
      },
      {
        name: 'errorCount',
        type: FieldType.number,
        values: circuits.map((c) => c.errorCount),
        config: { displayName: 'Errors', unit: 'none' },
      },
      {
        name: 'logCount',
        type: FieldType.number,
        values: circuits.map((c) => c.logCount),
        config: { displayName: 'Logs', unit: 'none' },
      },
      {
        name: 'bridged',
        type: FieldType.boolean,
        values: circuits.map((c) => c.bridged),
        config: { displayName: 'Bridged' },
      },
      {
        name: 'firstSeen',
        type: FieldType.time,
        values: circuits.map((c) => c.firstSeenMs),
        config: { displayName: 'First seen' },
      },
      {
        name: 'lastSeen',
        type: FieldType.time,
        values: circuits.map((c) => c.lastSeenMs),
        config: { displayName: 'Last seen' },
      },
      {
        name: 'duration',
        type: FieldType.number,
        values: circuits.map((c) => c.lastSeenMs - c.firstSeenMs),
        config: { displayName: 'Duration', unit: 'ms' },
      },
    ],
  });
}
