// The query API's schemas and types. Explicit named exports only: the plugins import the types,
// the correlator registers the schemas on its routes, so neither side can drift.
export {
  AttributeMap,
  BUSINESS_KEY_NAMES,
  MAX_KEY_VALUE_LENGTH,
  BusinessKeys,
  ErrorResponse,
  LimitParam,
  NoQuery,
  QueryString,
  TimeParam,
  TruncatedFlag,
} from './common.js';
export type { BusinessKeyName } from './common.js';
export {
  EntityRef,
  Span,
  SpanEvent,
  SpanKindName,
  SpanLink,
  SpanResource,
  SpanStatus,
  TraceLink,
  TraceLinkOrigin,
  TraceSummary,
} from './traces.js';
export { Bridge, BridgeBasis, BridgeClockCheck, ClockOffset } from './bridges.js';
export {
  CORRELATION_METHODS,
  Correlation,
  CorrelationListQuery,
  CorrelationListResponse,
  CorrelationMethod,
  keyMatchMethod,
  type CorrelationMethodName,
} from './correlations.js';
export {
  CircuitDetail,
  CircuitIdParams,
  CircuitDetailQuery,
  DETAIL_TRACES_DEFAULT,
  CircuitTimeRange,
  CircuitListQuery,
  CircuitListResponse,
  CircuitStatus,
  CircuitSummary,
  StitchedTrace,
  StitchedTraceQuery,
} from './circuits.js';
export { TraceDetail, TraceDetailQuery, TraceIdParams } from './trace-detail.js';
export {
  CircuitLogQuery,
  LogBatch,
  LogBatchRecord,
  LogBatchResponse,
  LogEntry,
  LogListQuery,
  LogListResponse,
} from './logs.js';
export {
  MAX_GRAPH_TRACES,
  ServiceEdge,
  ServiceGraph,
  ServiceGraphQuery,
  ServiceList,
  ServiceListQuery,
  ServiceNode,
} from './service-graph.js';
export {
  API_VERSION,
  CORRELATOR_SERVICE_NAME,
  HealthResponse,
  InfoResponse,
  ReadyResponse,
} from './system.js';
export {
  MdsoCatalogueProblem,
  MdsoCatalogueReload,
  MdsoDefectCatalogueResponse,
  MdsoDefectReloadResponse,
  MdsoDefectRule,
  MdsoDefectValidateBody,
  MdsoDefectValidateResponse,
  MdsoErrorListQuery,
  MdsoErrorListResponse,
  MdsoErrorRecord,
  MdsoExtractionRule,
  MdsoIssue,
  MdsoIssueCircuit,
  MdsoIssueDetail,
  MdsoIssueHistoryEntry,
  MdsoIssueIdParams,
  MdsoIssueListQuery,
  MdsoIssueListResponse,
  MdsoIssuePatchBody,
  MdsoIssueState,
  MdsoSuggestedRule,
  MdsoSummaryGroupBy,
  MdsoSummaryQuery,
  MdsoSummaryResponse,
  MdsoSummarySeries,
  MdsoUncategorizedCluster,
  MdsoUncategorizedQuery,
  MdsoUncategorizedResponse,
} from './mdso-analysis.js';
export {
  MdsoCollectResponse,
  MdsoPollOutcome,
  MdsoPollSummary,
  MdsoProductCursor,
  MdsoProductPollResult,
  MdsoStatusResponse,
} from './mdso-status.js';
export { OtlpExportResponse, OtlpStatus } from './otlp.js';
