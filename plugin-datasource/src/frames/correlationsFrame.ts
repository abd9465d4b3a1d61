import { createDataFrame, FieldType, type DataFrame } from '@grafana/data';
import type { Correlation } from '@correlation-station/api-schema';
import { limitNotices } from './limitNotice';
import { circuitLinks, type LinkTargets } from './links';

/**
 * Correlation events as a table; the value links like a circuit id when the key is `circuit_id`.
 * `truncated`: the correlator had more than the query's limit.
 */
export function correlationsFrame(
  refId: string,
  correlations: Correlation[],
  targets: LinkTargets,
  truncated = false
): DataFrame {
  const allCircuits = correlations.length > 0 && correlations.every((c) => c.key === 'circuit_id');
  return createDataFrame({
    refId,
    name: 'Correlations',
    meta: { preferredVisualisationType: 'table', notices: limitNotices(truncated, correlations.length, 'correlations') },
    fields: [
      { name: 'id', type: FieldType.string, values: correlations.map((c) => c.id), config: { displayName: 'Id' } },
      {
        name: 'method',
        type: FieldType.string,
        values: correlations.map((c) => c.method),
        config: { displayName: 'Method' },
      },
      { name: 'key', type: FieldType.string, values: correlations.map((c) => c.key), config: { displayName: 'Key' } },
      {
        name: 'value',
        type: FieldType.string,
        values: correlations.map((c) => c.value),
        config: { displayName: 'Value', links: allCircuits ? circuitLinks(targets) : undefined },
      },
      {
        name: 'confidence',
        type: FieldType.number,
        values: correlations.map((c) => c.confidence),
        config: { displayName: 'Confidence', unit: 'percentunit', min: 0, max: 1 },
      },
      {
        name: 'services',
        type: FieldType.string,
        values: correlations.map((c) => c.services.join(', ')),
        config: { displayName: 'Services' },
      },
      {
        name: 'traceIds',
        type: FieldType.string,
        values: correlations.map((c) => c.traceIds.join(', ')),
        config: { displayName: 'Traces' },
      },
      {
        name: 'spanCount',
        type: FieldType.number,
        values: correlations.map((c) => c.spanCount),
        config: { displayName: 'Spans', unit: 'none' },
      },
      {
        name: 'logCount',
        type: FieldType.number,
        values: correlations.map((c) => c.logCount),
        config: { displayName: 'Logs', unit: 'none' },
      },
      {
        name: 'firstSeen',
        type: FieldType.time,
        values: correlations.map((c) => c.firstSeenMs),
        config: { displayName: 'First seen' },
      },
      {
        name: 'lastSeen',
        type: FieldType.time,
        values: correlations.map((c) => c.lastSeenMs),
        config: { displayName: 'Last seen' },
      },
    ],
  });
}
