import { Type, type Static } from 'typebox';
import { QueryString, TimeParam } from './common.js';

// MDSO error analysis: error records, issues, the defect catalogue and uncategorised clusters.

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const MdsoIssueState = Type.Union(
  [Type.Literal('new'), Type.Literal('acknowledged'), Type.Literal('resolved'), Type.Literal('regressed'), Type.Literal('ignored')],
  { description: '"regressed" and "new" are set by the system only' },
);
export type MdsoIssueState = Static<typeof MdsoIssueState>;

export const MdsoExtractionRule = Type.Union(
  [
    Type.Literal('meta'),
    Type.Literal('status_updater'),
    Type.Literal('network_service_error'),
    Type.Literal('cpe_activation_error'),
    Type.Literal('reason'),
    Type.Literal('none'),
  ],
  { description: 'Where the error text came from: a TraceLog rule, an error property, or the resource reason' },
);
export type MdsoExtractionRule = Static<typeof MdsoExtractionRule>;

const DefectFilter = Type.String({
  pattern: '^(DE-\\d{4}|uncategorized)$',
  description: 'A defect code (DE-1234) or "uncategorized"',
});

export const MdsoErrorListQuery = QueryString({
  product: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  defect: Type.Optional(DefectFilter),
  state: Type.Optional(MdsoIssueState),
  circuit_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  from: Type.Optional(TimeParam),
  to: Type.Optional(TimeParam),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 300, description: 'nextCursor of the previous page' })),
});
export type MdsoErrorListQuery = Static<typeof MdsoErrorListQuery>;

export const MdsoErrorRecord = Type.Object({
  id: Type.String(),
  resourceId: Type.String(),
  resourceTypeId: Type.String(),
  product: Type.String(),
  label: Type.String(),
  circuitId: Nullable(Type.String()),
  orchState: Type.String(),
  occurredAtMs: Type.Number(),
  occurredAt: Type.String({ format: 'date-time' }),
  recordedAtMs: Type.Number(),
  extractionRule: MdsoExtractionRule,
  text: Type.String({ description: 'The error text that was categorised' }),
  failingStep: Nullable(Type.String()),
  statusUpdaterText: Nullable(Type.String({ description: "StatusUpdater's text when META's rule won" })),
  reason: Type.String({ description: 'The resource reason as recorded (bounded)' }),
  traceLogId: Nullable(Type.String()),
  defectCode: Nullable(Type.String()),
  defectTitle: Nullable(Type.String({ description: 'Title in the active catalogue, if the code is still in it' })),
  ruleIndex: Nullable(Type.Integer({ description: 'Position of the matching rule in its catalogue version' })),
  system: Nullable(Type.String()),
  category: Nullable(Type.String()),
  catalogueVersion: Type.String(),
  catalogueHash: Type.String(),
  groupingVersion: Type.Integer(),
  template: Type.String(),
  fingerprint: Type.String(),
  issueId: Type.String(),
  issueState: MdsoIssueState,
});
export type MdsoErrorRecord = Static<typeof MdsoErrorRecord>;

export const MdsoErrorListResponse = Type.Object({
  errors: Type.Array(MdsoErrorRecord),
  nextCursor: Nullable(Type.String()),
});
export type MdsoErrorListResponse = Static<typeof MdsoErrorListResponse>;

export const MdsoSummaryGroupBy = Type.Union([Type.Literal('product'), Type.Literal('defect_code'), Type.Literal('system')]);
export type MdsoSummaryGroupBy = Static<typeof MdsoSummaryGroupBy>;

export const MdsoSummaryQuery = QueryString({
  from: Type.Optional(TimeParam),
  to: Type.Optional(TimeParam),
  step: Type.Optional(Type.Integer({ minimum: 1, maximum: 31_536_000, description: 'Bucket width in seconds' })),
  group_by: Type.Optional(MdsoSummaryGroupBy),
});
export type MdsoSummaryQuery = Static<typeof MdsoSummaryQuery>;

export const MdsoSummarySeries = Type.Object({
  key: Type.String({ description: 'Group value; "uncategorized"/"unknown" when the error has none' }),
  total: Type.Integer(),
  counts: Type.Array(Type.Integer(), { description: 'One count per bucket, aligned with bucketStartsMs' }),
});
export type MdsoSummarySeries = Static<typeof MdsoSummarySeries>;

export const MdsoSummaryResponse = Type.Object({
  fromMs: Type.Number(),
  toMs: Type.Number(),
  stepSeconds: Type.Integer(),
  groupBy: MdsoSummaryGroupBy,
  bucketStartsMs: Type.Array(Type.Number()),
  total: Type.Integer(),
  series: Type.Array(MdsoSummarySeries),
});
export type MdsoSummaryResponse = Static<typeof MdsoSummaryResponse>;

export const MdsoIssueListQuery = QueryString({
  state: Type.Optional(MdsoIssueState),
  product: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  defect: Type.Optional(DefectFilter),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});
export type MdsoIssueListQuery = Static<typeof MdsoIssueListQuery>;

export const MdsoIssue = Type.Object({
  id: Type.String(),
  fingerprint: Type.String(),
  groupingVersion: Type.Integer(),
  defectCode: Nullable(Type.String()),
  product: Type.String(),
  title: Type.String(),
  system: Nullable(Type.String()),
  template: Type.String(),
  state: MdsoIssueState,
  assignee: Nullable(Type.String()),
  firstSeenMs: Type.Number(),
  lastSeenMs: Type.Number(),
  count: Type.Integer(),
  circuitCount: Type.Integer(),
  stateChangedMs: Type.Number(),
  catalogueVersion: Type.String({ description: 'Catalogue version that opened the issue' }),
});
export type MdsoIssue = Static<typeof MdsoIssue>;

export const MdsoIssueListResponse = Type.Object({ issues: Type.Array(MdsoIssue) });
export type MdsoIssueListResponse = Static<typeof MdsoIssueListResponse>;

export const MdsoIssueIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
export type MdsoIssueIdParams = Static<typeof MdsoIssueIdParams>;

export const MdsoIssueHistoryEntry = Type.Object({
  atMs: Type.Number(),
  actor: Type.String(),
  from: Nullable(MdsoIssueState),
  to: MdsoIssueState,
  assignee: Nullable(Type.String()),
  note: Nullable(Type.String()),
});
export type MdsoIssueHistoryEntry = Static<typeof MdsoIssueHistoryEntry>;

export const MdsoIssueCircuit = Type.Object({
  circuitId: Type.String(),
  firstSeenMs: Type.Number(),
  lastSeenMs: Type.Number(),
  count: Type.Integer(),
});
export type MdsoIssueCircuit = Static<typeof MdsoIssueCircuit>;

export const MdsoDefectRule = Type.Object({
  code: Type.String(),
  title: Type.String(),
  category: Type.String(),
  system: Type.String(),
  products: Type.Array(Type.String(), { description: 'Empty: applies to every product' }),
  severity: Type.String(),
  team: Type.String(),
  runbook: Type.String(),
  patterns: Type.Array(Type.String()),
  line: Type.Integer({ description: 'Line of the rule in its file' }),
});
export type MdsoDefectRule = Static<typeof MdsoDefectRule>;

export const MdsoIssueDetail = Type.Object({
  issue: MdsoIssue,
  rule: Nullable(MdsoDefectRule),
  history: Type.Array(MdsoIssueHistoryEntry),
  recentErrors: Type.Array(MdsoErrorRecord),
  circuits: Type.Array(MdsoIssueCircuit),
});
export type MdsoIssueDetail = Static<typeof MdsoIssueDetail>;

export const MdsoIssuePatchBody = Type.Object(
  {
    state: Type.Optional(MdsoIssueState),
    assignee: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200 }))),
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
    actor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Who makes the change (history)' })),
  },
  { additionalProperties: false },
);
export type MdsoIssuePatchBody = Static<typeof MdsoIssuePatchBody>;

export const MdsoCatalogueProblem = Type.Object({
  line: Type.Integer({ description: '1-based; 0 when the file could not be read' }),
  column: Type.Integer(),
  message: Type.String(),
});
export type MdsoCatalogueProblem = Static<typeof MdsoCatalogueProblem>;

export const MdsoCatalogueReload = Type.Object({
  ok: Type.Boolean(),
  atMs: Type.Number(),
  source: Type.String(),
  problems: Type.Array(MdsoCatalogueProblem),
});
export type MdsoCatalogueReload = Static<typeof MdsoCatalogueReload>;

export const MdsoDefectCatalogueResponse = Type.Object({
  version: Type.String(),
  hash: Type.String(),
  source: Type.String(),
  loadedAtMs: Type.Number(),
  lastReload: Nullable(MdsoCatalogueReload),
  rules: Type.Array(
    Type.Object({
      ...MdsoDefectRule.properties,
      matchCount: Type.Integer({ description: 'Errors recorded with this code, all catalogue versions' }),
      lastMatchedMs: Nullable(Type.Number()),
    }),
  ),
});
export type MdsoDefectCatalogueResponse = Static<typeof MdsoDefectCatalogueResponse>;

export const MdsoDefectValidateBody = Type.String({
  maxLength: 2_000_000,
  description: 'The rule file as YAML text (content type text/plain or application/yaml)',
});
export type MdsoDefectValidateBody = Static<typeof MdsoDefectValidateBody>;

export const MdsoDefectValidateResponse = Type.Object({
  valid: Type.Boolean(),
  version: Nullable(Type.String()),
  ruleCount: Type.Integer(),
  problems: Type.Array(MdsoCatalogueProblem),
});
export type MdsoDefectValidateResponse = Static<typeof MdsoDefectValidateResponse>;

export const MdsoDefectReloadResponse = Type.Object({
  reload: MdsoCatalogueReload,
  version: Type.String({ description: 'The active version after the attempt' }),
});
export type MdsoDefectReloadResponse = Static<typeof MdsoDefectReloadResponse>;

export const MdsoUncategorizedQuery = QueryString({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
});
export type MdsoUncategorizedQuery = Static<typeof MdsoUncategorizedQuery>;

export const MdsoSuggestedRule = Type.Object({
  code: Type.String({ description: 'Next free DE code' }),
  pattern: Type.String({ description: 'RE2 pattern' }),
  verified: Type.Boolean({ description: 'The pattern matched every example' }),
  yaml: Type.String({ description: 'A rule list item to paste into the catalogue' }),
});
export type MdsoSuggestedRule = Static<typeof MdsoSuggestedRule>;

export const MdsoUncategorizedCluster = Type.Object({
  template: Type.String(),
  count: Type.Integer(),
  firstSeenMs: Type.Number(),
  lastSeenMs: Type.Number(),
  examples: Type.Array(Type.String()),
  products: Type.Array(Type.String()),
  suggestedRule: MdsoSuggestedRule,
});
export type MdsoUncategorizedCluster = Static<typeof MdsoUncategorizedCluster>;

export const MdsoUncategorizedResponse = Type.Object({
  catalogueVersion: Type.String(),
  templatesScanned: Type.Integer(),
  clusters: Type.Array(MdsoUncategorizedCluster),
});
export type MdsoUncategorizedResponse = Static<typeof MdsoUncategorizedResponse>;
