import { createDataFrame, DataFrameType, FieldType, type DataFrame } from '@grafana/data';
import type { MdsoErrorRecord, MdsoIssue, MdsoSummaryResponse } from '@correlation-station/api-schema';
import { circuitLinks, type LinkTargets } from './links';

/** MDSO error records as a table, newest first as the correlator returns them; circuit ids link. */
export function mdsoErrorsFrame(
  refId: string,
  errors: MdsoErrorRecord[],
  targets: LinkTargets,
  hasMore: boolean
): DataFrame {
  return createDataFrame({
    refId,
    name: 'MDSO errors',
    meta: {
      preferredVisualisationType: 'table',
      notices: hasMore
        ? [
            {
              severity: 'info',
              text: `Showing the first ${errors.length} errors; raise the limit or narrow the filters to see more.`,
            },
          ]
        : undefined,
    },
    fields: [
      {
        name: 'time',
        type: FieldType.time,
        values: errors.map((e) => e.occurredAtMs),
        config: { displayName: 'Time' },
      },
      {
        name: 'product',
        type: FieldType.string,
        values: errors.map((e) => e.product),
        config: { displayName: 'Product' },
      },
      {
        name: 'defectCode',
        type: FieldType.string,
        values: errors.map((e) => e.defectCode ?? 'uncategorized'),
        config: { displayName: 'Defect' },
      },
      {
        name: 'defectTitle',
        type: FieldType.string,
        values: errors.map((e) => e.defectTitle ?? ''),
        config: { displayName: 'Title' },
      },
      {
        name: 'system',
        type: FieldType.string,
        values: errors.map((e) => e.system ?? ''),
        config: { displayName: 'System' },
      },
      {
        name: 'circuitId',
        type: FieldType.string,
        values: errors.map((e) => e.circuitId ?? ''),
        config: { displayName: 'Circuit', links: circuitLinks(targets) },
      },
      {
        name: 'issueState',
        type: FieldType.string,
        values: errors.map((e) => e.issueState),
        config: { displayName: 'Issue state' },
      },
      { name: 'text', type: FieldType.string, values: errors.map((e) => e.text), config: { displayName: 'Error' } },
      {
        name: 'failingStep',
        type: FieldType.string,
        values: errors.map((e) => e.failingStep ?? ''),
        config: { displayName: 'Failing step' },
      },
      {
        name: 'resourceId',
        type: FieldType.string,
        values: errors.map((e) => e.resourceId),
        config: { displayName: 'Resource' },
      },
      {
        name: 'issueId',
        type: FieldType.string,
        values: errors.map((e) => e.issueId),
        config: { displayName: 'Issue' },
      },
      { name: 'id', type: FieldType.string, values: errors.map((e) => e.id), config: { displayName: 'Id' } },
    ],
  });
}

/** One time series per group (product, defect code or system), bucketed at the step the correlator used. */
export function mdsoSummaryFrames(refId: string, summary: MdsoSummaryResponse): DataFrame[] {
  return summary.series.map((series) =>
    createDataFrame({
      refId,
      name: series.key,
      meta: { type: DataFrameType.TimeSeriesMulti, custom: { total: series.total, stepSeconds: summary.stepSeconds } },
      fields: [
        {
          name: 'time',
          type: FieldType.time,
          values: summary.bucketStartsMs,
          config: { interval: summary.stepSeconds * 1000 },
        },
        {
          name: 'errors',
          type: FieldType.number,
          values: series.counts,
          labels: { [summary.groupBy]: series.key },
          config: { displayNameFromDS: series.key, unit: 'none' },
        },
      ],
    })
  );
}

/** Defect issues as a table with state, counts and first/last seen. */
export function mdsoIssuesFrame(refId: string, issues: MdsoIssue[]): DataFrame {
  return createDataFrame({
    refId,
    name: 'MDSO issues',
    meta: { preferredVisualisationType: 'table' },
    fields: [
      { name: 'id', type: FieldType.string, values: issues.map((i) => i.id), config: { displayName: 'Issue' } },
      { name: 'state', type: FieldType.string, values: issues.map((i) => i.state), config: { displayName: 'State' } },
      { name: 'title', type: FieldType.string, values: issues.map((i) => i.title), config: { displayName: 'Title' } },
      {
        name: 'defectCode',
        type: FieldType.string,
        values: issues.map((i) => i.defectCode ?? 'uncategorized'),
        config: { displayName: 'Defect' },
      },
      {
        name: 'product',
        type: FieldType.string,
        values: issues.map((i) => i.product),
        config: { displayName: 'Product' },
      },
      {
        name: 'system',
        type: FieldType.string,
        values: issues.map((i) => i.system ?? ''),
        config: { displayName: 'System' },
      },
      {
        name: 'count',
        type: FieldType.number,
        values: issues.map((i) => i.count),
        config: { displayName: 'Errors', unit: 'none' },
      },
      {
        name: 'circuitCount',
        type: FieldType.number,
        values: issues.map((i) => i.circuitCount),
        config: { displayName: 'Circuits', unit: 'none' },
      },
      {
        name: 'assignee',
        type: FieldType.string,
        values: issues.map((i) => i.assignee ?? ''),
        config: { displayName: 'Assignee' },
      },
      {
        name: 'firstSeen',
        type: FieldType.time,
        values: issues.map((i) => i.firstSeenMs),
        config: { displayName: 'First seen' },
      },
      {
        name: 'lastSeen',
        type: FieldType.time,
        values: issues.map((i) => i.lastSeenMs),
        config: { displayName: 'Last seen' },
      },
      {
        name: 'stateChanged',
        type: FieldType.time,
        values: issues.map((i) => i.stateChangedMs),
        config: { displayName: 'State changed' },
      },
    ],
  });
}
