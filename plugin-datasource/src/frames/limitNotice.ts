import type { QueryResultMetaNotice } from '@grafana/data';

/**
 * The notice of a list the correlator cut at the query's limit (its `truncated` flag): a table of
 * exactly `limit` rows otherwise reads as everything there is.
 */
export function limitNotices(truncated: boolean | undefined, listed: number, items: string): QueryResultMetaNotice[] | undefined {
  if (!truncated) {
    return undefined;
  }
  return [
    {
      severity: 'warning',
      text: `Showing the first ${listed} ${items} only: more matched. Raise the query's limit, narrow the time range or filter.`,
    },
  ];
}
