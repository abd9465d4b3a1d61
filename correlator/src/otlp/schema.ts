// Loads our OTLP .proto with protobufjs (reflection), used wherever the correlator *writes*
// OTLP: response bodies, bridge spans, Tempo exports, and the JSON → binary normalisation.
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

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
