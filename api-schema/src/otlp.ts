import { Type, type Static } from 'typebox';

/** ExportTraceServiceResponse / ExportLogsServiceResponse in OTLP/JSON form (int64 as strings). */
export const OtlpExportResponse = Type.Object({
  partialSuccess: Type.Optional(
    Type.Object({
      rejectedSpans: Type.Optional(Type.String()),
      rejectedLogRecords: Type.Optional(Type.String()),
      errorMessage: Type.Optional(Type.String()),
    }),
  ),
});
export type OtlpExportResponse = Static<typeof OtlpExportResponse>;

/** google.rpc.Status, the OTLP failure body (JSON form; protobuf when the request was protobuf). */
export const OtlpStatus = Type.Object({
  code: Type.Integer({ description: 'google.rpc.Code' }),
  message: Type.String(),
});
export type OtlpStatus = Static<typeof OtlpStatus>;
