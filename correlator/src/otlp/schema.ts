// Loads our OTLP .proto with protobufjs (reflection), used wherever the correlator *writes*
// OTLP: response bodies, bridge spans, Tempo exports, and the JSON → binary normalisation.
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

// protobufjs refuses to write more than 100 nested messages. An attribute value may nest 32 key-value
// lists (MAX_DEPTH, checked before anything is written), three messages each under a span's or log
// record's six: 102, which threw for the whole request. Past that the depth check refuses first.
protobuf.util.recursionLimit = Math.max(protobuf.util.recursionLimit, 128);

const PROTO_PATH = fileURLToPath(new URL('../../proto/otlp.proto', import.meta.url));

export interface OtlpTypes {
  ExportTraceServiceRequest: protobuf.Type;
  ExportTraceServiceResponse: protobuf.Type;
  ExportLogsServiceRequest: protobuf.Type;
  ExportLogsServiceResponse: protobuf.Type;
  ResourceSpans: protobuf.Type;
  ScopeSpans: protobuf.Type;
  Span: protobuf.Type;
  Resource: protobuf.Type;
  InstrumentationScope: protobuf.Type;
  LogRecord: protobuf.Type;
  RpcStatus: protobuf.Type;
}

let cached: OtlpTypes | null = null;

export function otlpTypes(): OtlpTypes {
  if (cached) return cached;
  const root = protobuf.loadSync(PROTO_PATH);
  const t = (name: string) => root.lookupType(`opentelemetry.proto.${name}`);
  cached = {
    ExportTraceServiceRequest: t('ExportTraceServiceRequest'),
    ExportTraceServiceResponse: t('ExportTraceServiceResponse'),
    ExportLogsServiceRequest: t('ExportLogsServiceRequest'),
    ExportLogsServiceResponse: t('ExportLogsServiceResponse'),
    ResourceSpans: t('ResourceSpans'),
    ScopeSpans: t('ScopeSpans'),
    Span: t('Span'),
    Resource: t('Resource'),
    InstrumentationScope: t('InstrumentationScope'),
    LogRecord: t('LogRecord'),
    RpcStatus: t('RpcStatus'),
  };
  return cached;
}
