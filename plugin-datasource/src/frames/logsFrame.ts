import { createDataFrame, DataFrameType, FieldType, type DataFrame } from '@grafana/data';
import type { LogEntry } from '@correlation-station/api-schema';
import { limitNotices } from './limitNotice';
import { traceLinks, type LinkTargets } from './links';

/** Labels of a line: its service, business keys and source, all as strings for the logs panel's filters. */
export function logLabels(entry: LogEntry): Record<string, string> {
  const labels: Record<string, string> = { service_name: entry.serviceName, source: entry.source };
  for (const [key, value] of Object.entries(entry.keys)) {
    if (typeof value === 'string' && value !== '') {
      labels[key] = value;
    }
  }
  return labels;
}

/** Stored log lines in Grafana's logs contract; `traceID` links to the trace (Tempo when configured). */
export function logsFrame(
  refId: string,
  logs: LogEntry[],
  targets: LinkTargets,
  searchWords: string[] = [],
  truncated = false
): DataFrame {
  return createDataFrame({
    refId,
    name: 'Logs',
    meta: {
      type: DataFrameType.LogLines,
      preferredVisualisationType: 'logs',
      custom: searchWords.length ? { searchWords } : undefined,
      notices: limitNotices(truncated, logs.length, 'log lines'),
    },
    fields: [
      { name: 'timestamp', type: FieldType.time, values: logs.map((l) => l.timeMs) },
      { name: 'body', type: FieldType.string, values: logs.map((l) => l.body) },
      { name: 'severity', type: FieldType.string, values: logs.map((l) => l.severityText.toLowerCase()) },
      { name: 'id', type: FieldType.string, values: logs.map((l) => l.id) },
      { name: 'labels', type: FieldType.other, values: logs.map(logLabels) },
      {
        name: 'traceID',
        type: FieldType.string,
        // Lines without a trace id have "" here; Grafana hides links whose value is empty.
        values: logs.map((l) => l.traceId),
        config: { links: traceLinks(targets) },
      },
      { name: 'spanID', type: FieldType.string, values: logs.map((l) => l.spanId) },
    ],
  });
}
