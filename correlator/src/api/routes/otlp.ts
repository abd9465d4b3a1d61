// OTLP/HTTP receivers: /v1/traces and /v1/logs, and the same under /api/otlp (the path the
// user's collector already points at). Protobuf and JSON on one port, chosen by Content-Type.
import { OtlpExportResponse, OtlpStatus } from '@correlation-station/api-schema';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { IngestPipeline, IngestResult } from '../../ingest/pipeline.js';
import type { CoreMetrics } from '../../metrics/core-metrics.js';
import { countJsonItems, countProtobufItems, itemLimitExceeded } from '../../otlp/item-count.js';
import { CONTENT_TYPE, exportSuccess, type OtlpEncoding, type OtlpSignal } from '../../otlp/responses.js';
import { DecodeError } from '../../otlp/wire-reader.js';
import { useJsonBodyParser } from '../json-body.js';
import { mediaTypeOf } from '../media-type.js';
import { otherMethods } from '../other-methods.js';
import { errors, ingestRefusal } from '../errors.js';
import type { OverloadGuard } from '../overload.js';

export interface OtlpRoutesOptions {
  pipeline: IngestPipeline;
  guard: OverloadGuard;
  metrics: CoreMetrics;
  /** MAX_ITEMS_PER_REQUEST */
  maxItemsPerRequest: number;
  /** MAX_ATTRIBUTES_PER_REQUEST */
  maxAttributesPerRequest: number;
}

/** What the receivers take, in the order a 415 lists them. */
export const OTLP_MEDIA_TYPES: readonly string[] = ['application/x-protobuf', 'application/json'];

export function requestEncoding(request: FastifyRequest): OtlpEncoding | null {
  const ct = mediaTypeOf(request);
  if (ct === 'application/x-protobuf' || ct === 'application/protobuf') return 'protobuf';
  if (ct === 'application/json') return 'json';
  return null;
}

const failure = {
  400: OtlpStatus,
  // Other methods have no operation of their own in the document; their answer is told here.
  405: { ...OtlpStatus, description: 'Not this method: any other method on this path (GET, PUT, OPTIONS, PROPFIND…) is answered 405 with Allow: POST' },
  413: OtlpStatus,
  415: {
    ...OtlpStatus,
    description: 'A Content-Type other than application/x-protobuf or application/json, or a Content-Encoding other than gzip or deflate',
  },
  429: OtlpStatus,
  503: OtlpStatus,
};

export const otlpRoutes: FastifyPluginAsync<OtlpRoutesOptions> = async (app, opts) => {
  const { pipeline, guard, metrics, maxItemsPerRequest, maxAttributesPerRequest } = opts;

  app.addContentTypeParser(['application/x-protobuf', 'application/protobuf'], { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, body),
  );
  // JSON's items and attributes are counted before it is parsed: parsing and normalising cost
  // time per member (20 million `{}` in 60 MiB took minutes, 2.6 million attributes of one span
  // 5 to 9 s). Then the parser the other routes use (json-body.ts: it names a key it refuses).
  // Protobuf's attributes are not counted: its decoder keeps them as bytes and walks them at the
  // rate of any other bytes, so MAX_BODY_BYTES bounds them (6 million in 42 MB took about 1 s).
  useJsonBodyParser(app, (request, text) => {
    const signal = request.routeOptions.config?.otlpSignal;
    if (!signal) return null;
    const count = countJsonItems(text, signal, maxItemsPerRequest, maxAttributesPerRequest);
    const refusal = itemLimitExceeded(signal, count, maxItemsPerRequest, maxAttributesPerRequest);
    return refusal ? errors.tooManyItems(refusal) : null;
  });

  const receive = (signal: OtlpSignal) => async (request: FastifyRequest, reply: FastifyReply) => {
    const encoding = requestEncoding(request);
    if (!encoding) throw errors.unsupportedMediaType(request.headers['content-type'], OTLP_MEDIA_TYPES);
    let result: IngestResult;
    try {
      // Before decoding, whose cost grows with the items: a cheap pass over their tags.
      if (encoding === 'protobuf') {
        const refusal = itemLimitExceeded(signal, countProtobufItems(request.body as Buffer, signal, maxItemsPerRequest), maxItemsPerRequest);
        if (refusal) throw errors.tooManyItems(refusal);
      }
      if (signal === 'traces') {
        result =
          encoding === 'protobuf'
            ? await pipeline.tracesFromProtobuf(request.body as Buffer)
            : await pipeline.tracesFromJson(request.body);
      } else {
        result =
          encoding === 'protobuf'
            ? await pipeline.logsFromProtobuf(request.body as Buffer)
            : await pipeline.logsFromJson(request.body);
      }
    } catch (e) {
      if (e instanceof DecodeError) throw errors.undecodable(e.message);
      throw ingestRefusal(e, request.log) ?? e;
    }
    metrics.ingestRequests.inc({ signal, outcome: result.rejected > 0 ? 'partial' : 'ok' });
    reply.type(CONTENT_TYPE[encoding]);
    return exportSuccess(signal, encoding, result.rejected, result.message);
  };

  for (const prefix of ['', '/api/otlp']) {
    for (const signal of ['traces', 'logs'] as const) {
      const url = `${prefix}/v1/${signal}`;
      app.route({
        method: 'POST',
        url,
        config: { otlpSignal: signal },
        schema: {
          tags: ['otlp'],
          summary: `OTLP/HTTP ${signal} receiver`,
          description:
            'Accepts application/x-protobuf or application/json, optionally gzip or deflate. Answers in the request encoding: ' +
            'Export*ServiceResponse (partial_success when some items were rejected) or google.rpc.Status.',
          consumes: ['application/x-protobuf', 'application/json'],
          produces: ['application/x-protobuf', 'application/json'],
          response: { 200: OtlpExportResponse, ...failure },
        },
        onRequest: guard.admitRequest,
        handler: receive(signal),
      });
      app.route({
        method: otherMethods(app, ['POST']),
        url,
        config: { otlpSignal: signal },
        schema: { hide: true },
        handler: async (request, reply) => {
          reply.header('Allow', 'POST');
          throw errors.methodNotAllowed(request.method, url, ['POST']);
        },
      });
    }
  }
};
