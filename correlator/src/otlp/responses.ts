// OTLP/HTTP response bodies, in the request's encoding as the specification requires.
import { otlpTypes } from './schema.js';

export type OtlpEncoding = 'protobuf' | 'json';
export type OtlpSignal = 'traces' | 'logs';

export const CONTENT_TYPE: Record<OtlpEncoding, string> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};

/** google.rpc.Code values for the HTTP statuses we answer with. */
const RPC_CODE_BY_STATUS: Record<number, number> = {
  400: 3, // INVALID_ARGUMENT
  401: 16, // UNAUTHENTICATED
  403: 7, // PERMISSION_DENIED
  404: 5, // NOT_FOUND
  405: 12, // UNIMPLEMENTED
  408: 4, // DEADLINE_EXCEEDED
  413: 3, // INVALID_ARGUMENT: too large is never retryable
  415: 3,
  429: 8, // RESOURCE_EXHAUSTED
  500: 13, // INTERNAL
  503: 14, // UNAVAILABLE
};

export function exportSuccess(signal: OtlpSignal, encoding: OtlpEncoding, rejected: number, message: string): Buffer | string {
  const partial =
    rejected > 0 || message
      ? signal === 'traces'
        ? { partialSuccess: { rejectedSpans: rejected, errorMessage: message } }
        : { partialSuccess: { rejectedLogRecords: rejected, errorMessage: message } }
      : {};
  if (encoding === 'json') {
    // proto3 JSON renders int64 as a string.
    if ('partialSuccess' in partial) {
      const ps = partial.partialSuccess as Record<string, unknown>;
      for (const k of ['rejectedSpans', 'rejectedLogRecords']) if (k in ps) ps[k] = String(ps[k]);
    }
    return JSON.stringify(partial);
  }
  const t = otlpTypes();
  const type = signal === 'traces' ? t.ExportTraceServiceResponse : t.ExportLogsServiceResponse;
  return Buffer.from(type.encode(type.fromObject(partial)).finish());
}

export function rpcStatus(httpStatus: number, message: string, encoding: OtlpEncoding): Buffer | string {
  const status = { code: RPC_CODE_BY_STATUS[httpStatus] ?? 2, message };
  if (encoding === 'json') return JSON.stringify(status);
  const t = otlpTypes();
  return Buffer.from(t.RpcStatus.encode(t.RpcStatus.fromObject(status)).finish());
}
