// OTLP request bodies produced by the OpenTelemetry JS SDK itself (spans and log records made by
// real providers, serialized by @opentelemetry/otlp-transformer), so tests never hand-write the
// wire format. Response decoding uses the same library, or an independent protobufjs schema for
// google.rpc.Status, never the correlator's own types.
import { ROOT_CONTEXT, SpanKind, trace, type Attributes } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import {
  JsonLogsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import protobuf from 'protobufjs';
import { SeededIds } from '../fixtures/seeded-ids.js';

export interface SpanSpec {
  name: string;
  /** Offset from baseMs. */
  startMs: number;
  endMs: number;
  kind?: SpanKind;
  attributes?: Record<string, string>;
  /** Index into the same list: that span becomes the parent (same trace). */
  parent?: number;
  logs?: Array<{ atMs: number; body: string; attributes?: Record<string, string> }>;
}

export interface ServiceTelemetry {
  spans: ReadableSpan[];
  traceId: string;
  spanIds: string[];
  traces: { protobuf: Uint8Array; json: Uint8Array };
  logs: { protobuf: Uint8Array; json: Uint8Array; count: number };
}

/**
 * One service's root trace (and its logs) made by SDK providers, serialized both ways. The
 * resource holds service.name, then `resourceAttributes` in their order.
 */
export async function serviceTelemetry(
  service: string,
  baseMs: number,
  specs: SpanSpec[],
  seed = `${service}:${baseMs}`,
  resourceAttributes: Attributes = {},
): Promise<ServiceTelemetry> {
  const resource = resourceFromAttributes({ 'service.name': service, ...resourceAttributes });
  const spanSink = new InMemorySpanExporter();
  const logSink = new InMemoryLogRecordExporter();
  const tracerProvider = new TracerProvider({
    resource,
    idGenerator: new SeededIds(seed),
    spanProcessors: [new SimpleSpanProcessor({ exporter: spanSink })],
  });
  const loggerProvider = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: logSink })] });
  const tracer = tracerProvider.getTracer('bad-input-tests');
  const logger = loggerProvider.getLogger('bad-input-tests');
  const made: ReturnType<typeof tracer.startSpan>[] = [];
  for (const spec of specs) {
    const parent = spec.parent !== undefined ? made[spec.parent] : undefined;
    const ctx = parent ? trace.setSpan(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
    const s = tracer.startSpan(
      spec.name,
      { kind: spec.kind ?? SpanKind.INTERNAL, startTime: baseMs + spec.startMs, ...(spec.attributes ? { attributes: spec.attributes } : {}) },
      ctx,
    );
    made.push(s);
    for (const l of spec.logs ?? []) {
      logger.emit({
        timestamp: baseMs + l.atMs,
        observedTimestamp: baseMs + l.atMs,
        severityNumber: SeverityNumber.INFO,
        severityText: 'INFO',
        body: l.body,
        ...(l.attributes ? { attributes: l.attributes } : {}),
        context: trace.setSpan(ROOT_CONTEXT, s),
      });
    }
  }
  // Children end before parents, as real code does.
  for (let i = made.length - 1; i >= 0; i--) made[i]!.end(baseMs + specs[i]!.endMs);
  await tracerProvider.forceFlush();
  await loggerProvider.forceFlush();
  const spans = spanSink.getFinishedSpans();
  const logs = logSink.getFinishedLogRecords();
  await tracerProvider.shutdown();
  await loggerProvider.shutdown();
  return {
    spans,
    traceId: made[0]!.spanContext().traceId,
    spanIds: made.map(s => s.spanContext().spanId),
    traces: { protobuf: ProtobufTraceSerializer.serializeRequest(spans)!, json: JsonTraceSerializer.serializeRequest(spans)! },
    logs: {
      protobuf: ProtobufLogsSerializer.serializeRequest(logs)!,
      json: JsonLogsSerializer.serializeRequest(logs)!,
      count: logs.length,
    },
  };
}

export const decodeTraceResponse = (body: Uint8Array) => ProtobufTraceSerializer.deserializeResponse(body);
export const decodeLogsResponse = (body: Uint8Array) => ProtobufLogsSerializer.deserializeResponse(body);

// google/rpc/status.proto, written from the published definition: code = 1, message = 2, details = 3.
const rpcRoot = protobuf.Root.fromJSON({
  nested: {
    google: {
      nested: {
        protobuf: { nested: { Any: { fields: { type_url: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } } } },
        rpc: {
          nested: {
            Status: {
              fields: {
                code: { type: 'int32', id: 1 },
                message: { type: 'string', id: 2 },
                details: { rule: 'repeated', type: 'google.protobuf.Any', id: 3 },
              },
            },
          },
        },
      },
    },
  },
});
const RpcStatus = rpcRoot.lookupType('google.rpc.Status');

export function decodeRpcStatus(body: Uint8Array): { code: number; message: string } {
  const m = RpcStatus.toObject(RpcStatus.decode(body), { defaults: true }) as { code: number; message: string };
  return { code: m.code, message: m.message };
}
