// The shape of the core's span intake as the MDSO feature sees it (integration contract). The core
// satisfies these types; keeping them here means the MDSO code never imports core internals.

export interface OtlpJsonAnyValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}

export interface OtlpJsonKeyValue {
  key: string;
  value: OtlpJsonAnyValue;
}

export interface OtlpJsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpJsonKeyValue[];
  status: { code: 0 | 1 | 2; message?: string };
}

/** The standard OTLP/JSON ExportTraceServiceRequest, reduced to what the MDSO feature sends. */
export interface OtlpJsonTraceRequest {
  resourceSpans: Array<{
    resource: { attributes: OtlpJsonKeyValue[] };
    scopeSpans: Array<{ scope: { name: string; version?: string }; spans: OtlpJsonSpan[] }>;
  }>;
}

export interface IngestOutcome {
  /** spans stored, duplicates included */
  accepted: number;
  /** of the accepted, spans stored before (every poll re-sends identical spans) */
  duplicates: number;
  rejected: number;
  errorMessage: string;
}

export type IngestTraces = (request: OtlpJsonTraceRequest) => Promise<IngestOutcome>;
