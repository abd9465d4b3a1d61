import type { DataSourceJsonData } from '@grafana/data';
import type { DataQuery } from '@grafana/schema';

/** Every kind of query the datasource runs; the `queryType` discriminator of {@link CorrelatorQuery}. */
export const QUERY_TYPES = [
  'circuitTrace',
  'circuitSearch',
  'correlations',
  'logs',
  'mdsoErrors',
  'mdsoIssues',
  'serviceGraph',
  'annotations',
] as const;
export type QueryType = (typeof QUERY_TYPES)[number];

interface QueryBase<T extends QueryType> extends DataQuery {
  queryType: T;
}

/**
 * Stitched trace of a circuit. `query` is a circuit id or a bare 32-hex trace id: Grafana's trace view
 * re-queries with `{...query, query: <traceId>}` when a user follows a span link.
 */
export interface CircuitTraceQuery extends QueryBase<'circuitTrace'> {
  query: string;
  limit?: number;
  /**
   * A circuit's traces with a datum in the dashboard's range only: one activation of a circuit
   * polled or reactivated for days. Off, as Tempo's trace-id queries: a link opens the whole circuit.
   */
  inTimeRange?: boolean;
}

export type CircuitStatusFilter = 'ok' | 'error';

export interface CircuitSearchQuery extends QueryBase<'circuitSearch'> {
  /** Substring of the circuit id. */
  query?: string;
  status?: CircuitStatusFilter;
  service?: string;
  limit?: number;
}

export interface CorrelationsQuery extends QueryBase<'correlations'> {
  circuitId?: string;
  traceId?: string;
  service?: string;
  method?: string;
  limit?: number;
}

export interface LogsQuery extends QueryBase<'logs'> {
  circuitId?: string;
  traceId?: string;
  service?: string;
  search?: string;
  /** Only logs of this severity or worse: a name (`error`, `warn`), an OTLP number or a variable. */
  minSeverity?: string;
  limit?: number;
}

export type MdsoGroupBy = 'product' | 'defect_code' | 'system';
/** `records` lists error records, `counts` is a time series of counts per group. */
export type MdsoErrorsFormat = 'records' | 'counts';

export interface MdsoErrorsQuery extends QueryBase<'mdsoErrors'> {
  format: MdsoErrorsFormat;
  product?: string;
  defect?: string;
  state?: string;
  circuitId?: string;
  groupBy?: MdsoGroupBy;
  limit?: number;
}

export interface MdsoIssuesQuery extends QueryBase<'mdsoIssues'> {
  state?: string;
  product?: string;
  defect?: string;
  limit?: number;
}

export interface ServiceGraphQuery extends QueryBase<'serviceGraph'> {
  circuitId?: string;
}

/** What an annotation query marks on a dashboard. */
export type AnnotationSource = 'mdsoFailures' | 'mdsoIssues';

export interface AnnotationsQuery extends QueryBase<'annotations'> {
  source: AnnotationSource;
  product?: string;
  defect?: string;
  circuitId?: string;
}

/** The one query model of the datasource, discriminated by `queryType`. */
export type CorrelatorQuery =
  | AnnotationsQuery
  | CircuitSearchQuery
  | CircuitTraceQuery
  | CorrelationsQuery
  | LogsQuery
  | MdsoErrorsQuery
  | MdsoIssuesQuery
  | ServiceGraphQuery;

export type QueryOfType<T extends QueryType> = Extract<CorrelatorQuery, { queryType: T }>;

export type AuthMode = 'none' | 'basic' | 'bearer';

/**
 * Public settings. The correlator URL is Grafana's own `url` setting and basic auth uses Grafana's
 * `basicAuth`/`basicAuthUser`, so the data proxy adds the credentials; a bearer token is sent as the
 * proxy's custom header `httpHeaderName1: Authorization`.
 */
export interface CorrelatorJsonData extends DataSourceJsonData {
  authMode?: AuthMode;
  httpHeaderName1?: string;
  tempoDatasourceUid?: string;
  lokiDatasourceUid?: string;
  /** Grafana duration such as `1h` or `7d`: the window of variable queries, which have no time range. */
  defaultLookback?: string;
  /**
   * Grafana's own trace-to-logs setting, read by the trace view from the trace's datasource: set
   * with the Loki picker so every span offers "Logs for this span".
   */
  tracesToLogsV2?: TracesToLogsSettings;
}

export interface TracesToLogsSettings {
  datasourceUid: string;
  filterByTraceID: boolean;
  filterBySpanID: boolean;
  spanStartTimeShift: string;
  spanEndTimeShift: string;
  tags: Array<{ key: string; value: string }>;
}

/** Secrets: written by the config page, readable only by Grafana's backend. */
export interface CorrelatorSecureJsonData {
  basicAuthPassword?: string;
  /** `Bearer <token>`, sent by the data proxy as the Authorization header. */
  httpHeaderValue1?: string;
}

/** Kinds of template-variable queries. */
export const VARIABLE_KINDS = ['circuits', 'services', 'products', 'defectCodes', 'states'] as const;
export type VariableKind = (typeof VARIABLE_KINDS)[number];

export interface CorrelatorVariableQuery extends DataQuery {
  kind: VariableKind;
  /** Optional substring filter for circuits. */
  filter?: string;
}
