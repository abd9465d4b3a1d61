import type {
  Bridge,
  CircuitSummary,
  Correlation,
  LogEntry,
  MdsoErrorRecord,
  MdsoIssue,
  Span,
  SpanResource,
} from '@correlation-station/api-schema';
import type { LinkTargets } from '../frames/links';

/** Shared builders for frame and datasource tests; each test states only the fields it is about. */
export const TRACE_A = 'a'.repeat(32);
export const TRACE_B = 'b'.repeat(32);

export function makeSpan(overrides: Partial<Span> = {}): Span {
  return {
    traceId: TRACE_A,
    spanId: '1111111111111111',
    parentSpanId: '',
    serviceName: 'beorn',
    name: 'POST /activate',
    kind: 'server',
    startTimeUnixNano: '1700000000000000000',
    endTimeUnixNano: '1700000000250000000',
    startTimeMs: 1700000000000,
    durationMs: 250,
    status: { code: 'unset' },
    attributes: { circuit_id: 'CKT-1' },
    resourceId: 1,
    events: [],
    links: [],
    synthetic: false,
    ...overrides,
  };
}

export function makeResource(overrides: Partial<SpanResource> = {}): SpanResource {
  return {
    id: 1,
    attributes: { 'service.name': 'beorn' },
    scope: { name: 'test-scope', version: '1.0.0' },
    ...overrides,
  };
}

export function makeBridge(overrides: Partial<Bridge> = {}): Bridge {
  return {
    spanId: '9999999999999999',
    traceId: TRACE_A,
    parentSpanId: '1111111111111111',
    childTraceId: TRACE_B,
    childSpanId: '2222222222222222',
    parentService: 'beorn',
    childService: 'mdso',
    key: 'circuit_id',
    value: 'CKT-1',
    method: 'circuit_id_match',
    confidence: 0.9,
    basis: 'named_call',
    gapMs: 40,
    createdAt: '2023-11-14T22:13:20.000Z',
    ...overrides,
  };
}

export function makeCircuit(overrides: Partial<CircuitSummary> = {}): CircuitSummary {
  return {
    circuitId: 'CKT-1',
    status: 'ok',
    services: ['beorn', 'mdso'],
    traceCount: 2,
    spanCount: 5,
    errorCount: 0,
    logCount: 3,
    bridgeCount: 1,
    bridged: true,
    firstSeen: '2023-11-14T22:13:20.000Z',
    lastSeen: '2023-11-14T22:13:21.500Z',
    firstSeenMs: 1700000000000,
    lastSeenMs: 1700000001500,
    keys: { circuit_id: 'CKT-1' },
    ...overrides,
  };
}

export function makeCorrelation(overrides: Partial<Correlation> = {}): Correlation {
  return {
    id: 'corr-1',
    method: 'circuit_id_match',
    key: 'circuit_id',
    value: 'CKT-1',
    confidence: 0.8,
    traceIds: [TRACE_A, TRACE_B],
    services: ['beorn', 'mdso'],
    spanCount: 4,
    logCount: 2,
    firstSeen: '2023-11-14T22:13:20.000Z',
    lastSeen: '2023-11-14T22:13:21.000Z',
    firstSeenMs: 1700000000000,
    lastSeenMs: 1700000001000,
    ...overrides,
  };
}

export function makeLog(overrides: Partial<LogEntry> = {}): LogEntry {
  return {
    id: 'log-1',
    timeUnixNano: '1700000000100000000',
    timeMs: 1700000000100,
    severityText: 'ERROR',
    severityNumber: 17,
    body: 'activation failed',
    serviceName: 'mdso',
    traceId: TRACE_B,
    spanId: '2222222222222222',
    keys: { circuit_id: 'CKT-1' },
    attributes: {},
    resource: {},
    source: 'otlp',
    ...overrides,
  };
}

export const SELF = { uid: 'corr-uid', name: 'Correlation Station' };
export const TEMPO = { uid: 'tempo-uid', name: 'Tempo' };
export const LOKI = { uid: 'loki-uid', name: 'Loki' };

export const ONLY_SELF: LinkTargets = { self: SELF };
export const ALL_TARGETS: LinkTargets = { self: SELF, tempo: TEMPO, loki: LOKI };

export function makeMdsoError(overrides: Partial<MdsoErrorRecord> = {}): MdsoErrorRecord {
  return {
    id: 'err-1',
    resourceId: 'res-1',
    resourceTypeId: 'charter.resourceTypes.ServiceMapper',
    product: 'ServiceMapper',
    label: 'CKT-1',
    circuitId: 'CKT-1',
    orchState: 'failed',
    occurredAtMs: 1700000000500,
    occurredAt: '2023-11-14T22:13:20.500Z',
    recordedAtMs: 1700000000600,
    extractionRule: 'meta',
    text: 'Timeout talking to NSO',
    failingStep: 'activate',
    statusUpdaterText: null,
    reason: 'failed',
    traceLogId: null,
    defectCode: 'DE-0042',
    defectTitle: 'NSO timeout',
    ruleIndex: 3,
    system: 'NSO',
    category: 'timeout',
    catalogueVersion: '1',
    catalogueHash: 'h',
    groupingVersion: 1,
    template: 'Timeout talking to <*>',
    fingerprint: 'fp',
    issueId: 'iss-1',
    issueState: 'new',
    ...overrides,
  };
}

export function makeMdsoIssue(overrides: Partial<MdsoIssue> = {}): MdsoIssue {
  return {
    id: 'iss-1',
    fingerprint: 'fp',
    groupingVersion: 1,
    defectCode: 'DE-0042',
    product: 'ServiceMapper',
    title: 'NSO timeout',
    system: 'NSO',
    template: 'Timeout talking to <*>',
    state: 'new',
    assignee: null,
    firstSeenMs: 1700000000500,
    lastSeenMs: 1700000900000,
    count: 7,
    circuitCount: 3,
    stateChangedMs: 1700000000500,
    catalogueVersion: '1',
    ...overrides,
  };
}
