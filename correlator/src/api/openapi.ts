// What the OpenAPI document says that the route schemas cannot: names for client generators,
// the optional authentication, the OTLP request bodies (not validated by schema: they are protobuf
// or OTLP/JSON, decoded by our own decoders) and the records of the JSON log batch (validated one
// by one, so an invalid record is rejected alone rather than failing the batch's schema).
import { LogBatchRecord } from '@correlation-station/api-schema';
import type { Config } from '../config/config.js';
import { OPEN_PATHS } from './auth.js';

/**
 * Stable operationIds, by method and route (fastify's form of the path). Client code generated from
 * the document is named by them, so they never change once given; a route without one fails its test.
 */
export const OPERATION_IDS: Readonly<Record<string, string>> = {
  'POST /v1/traces': 'exportTraces',
  'POST /v1/logs': 'exportLogs',
  'POST /api/otlp/v1/traces': 'exportTracesUnderApi',
  'POST /api/otlp/v1/logs': 'exportLogsUnderApi',
  'POST /api/logs': 'ingestLogBatch',
  'GET /api/logs': 'listLogs',
  'GET /api/circuits': 'listCircuits',
  'GET /api/circuits/:id': 'getCircuit',
  'GET /api/circuits/:id/trace': 'getCircuitTrace',
  'GET /api/circuits/:id/logs': 'getCircuitLogs',
  'GET /api/traces/:traceId': 'getTrace',
  'GET /api/correlations': 'listCorrelations',
  'GET /api/service-graph': 'getServiceGraph',
  'GET /api/services': 'listServices',
  'GET /health': 'getHealth',
  'GET /ready': 'getReadiness',
  'GET /api/info': 'getInfo',
  'GET /metrics': 'getMetrics',
  'GET /api/mdso/errors': 'listMdsoErrors',
  'GET /api/mdso/summary': 'getMdsoSummary',
  'GET /api/mdso/issues': 'listMdsoIssues',
  'GET /api/mdso/issues/:id': 'getMdsoIssue',
  'PATCH /api/mdso/issues/:id': 'updateMdsoIssue',
  'GET /api/mdso/defects': 'listMdsoDefects',
  'POST /api/mdso/defects/validate': 'validateMdsoDefects',
  'POST /api/mdso/defects/reload': 'reloadMdsoDefects',
  'GET /api/mdso/uncategorized': 'listMdsoUncategorized',
  'GET /api/mdso/status': 'getMdsoStatus',
  'POST /api/mdso/collect': 'collectMdso',
};

export const OTLP_PATHS: ReadonlySet<string> = new Set(['/v1/traces', '/v1/logs', '/api/otlp/v1/traces', '/api/otlp/v1/logs']);

type Json = Record<string, unknown>;
interface Operation extends Json {
  requestBody?: { required?: boolean; description?: string; content?: Record<string, { schema?: Json }> };
  parameters?: Json[];
  security?: Json[];
}

const CONTENT_ENCODING = {
  in: 'header',
  name: 'Content-Encoding',
  required: false,
  description: 'gzip (or x-gzip) or deflate (zlib or raw); the size limit applies to the inflated body. Another encoding is a 415.',
  schema: { type: 'string', enum: ['gzip', 'x-gzip', 'deflate', 'identity'] },
};

/** Answered on the socket by the upload timeouts (overload.ts), never by a route's handler. */
const UPLOAD_TIMEOUT = {
  description:
    'Request Timeout: the body did not all arrive within REQUEST_TIMEOUT_MS of the request, or its connection brought ' +
    'nothing for REQUEST_IDLE_TIMEOUT_MS; the connection is closed. The body names the setting: on an OTLP route a ' +
    "google.rpc.Status (code 4, DEADLINE_EXCEEDED) in the request's encoding, on /api/logs the API's JSON error",
};

/**
 * Answered by our client-error handler (client-errors.ts, fastify's answer) while Node parses the
 * request, before routing: the same on every path and method, an OTLP receiver's too, and the body is
 * written even to HEAD. Checked byte for byte by its test over a raw socket.
 */
const HEADERS_TOO_LARGE = {
  description:
    "Request Header Fields Too Large: the request line and headers exceeded Node's limit (16 KiB unless the process runs " +
    'with --max-http-header-size). Answered before routing, alike for every path and method (not as google.rpc.Status on ' +
    'the OTLP receivers; a body even to HEAD): Content-Type application/json and Content-Length, no other header, this ' +
    'body, and the connection is closed. Requests sent before it on the same connection (pipelined) are answered first; ' +
    'one not answered within REQUEST_TIMEOUT_MS has the connection closed without it or the 431',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['error', 'message', 'statusCode'],
        additionalProperties: false,
        properties: {
          error: { type: 'string', enum: ['Request Header Fields Too Large'] },
          message: { type: 'string', enum: ['Exceeded maximum allowed HTTP header size'] },
          statusCode: { type: 'integer', enum: [431] },
        },
      },
    },
  },
};

/**
 * fastify serves HEAD for every GET route (exposeHeadRoutes): the GET's handler runs and its status
 * and headers are sent without the body. The operation is the GET's, its responses without content.
 */
function headOf(get: Operation): Operation {
  const head = JSON.parse(JSON.stringify(get)) as Operation;
  if (typeof get.operationId === 'string') head.operationId = `${get.operationId}Head`;
  if (typeof get.summary === 'string') head.summary = `${get.summary} (HEAD: its status and headers only)`;
  for (const response of Object.values((head.responses ?? {}) as Record<string, Json>)) delete response.content;
  return head;
}

/** Headers answers carry, by status: what a client needs to act on them. */
const RESPONSE_HEADERS: Readonly<Record<string, Json>> = {
  '401': { 'WWW-Authenticate': { description: 'The scheme to authenticate with (Basic or Bearer)', schema: { type: 'string' } } },
  '429': { 'Retry-After': { description: 'Seconds to wait before sending again', schema: { type: 'integer', minimum: 1 } } },
  '503': { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 1 } } },
};

/**
 * OpenAPI 3.0 has no `patternProperties`: TypeBox writes a Record that way. The pattern of our
 * records is "any key", so the value schema becomes `additionalProperties`, as fastify-swagger
 * does for the route schemas it converts.
 */
export function withoutPatternProperties(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutPatternProperties);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema as Json)) {
    if (k === 'patternProperties' && v !== null && typeof v === 'object') {
      const values = Object.values(v as Json);
      if (values.length === 1) out.additionalProperties = withoutPatternProperties(values[0]);
    } else out[k] = withoutPatternProperties(v);
  }
  return out;
}

/** fastify-swagger's `transformObject`: completes the generated document. */
export function completeOpenApi(doc: Json, auth: Readonly<Config['auth']>): Json {
  const components = ((doc.components ??= {}) as Json);
  // Both are declared whatever AUTH_MODE is, so a client knows what a correlator may ask for.
  components.securitySchemes = {
    basicAuth: { type: 'http', scheme: 'basic', description: 'When the correlator runs with AUTH_MODE=basic (AUTH_USERNAME, AUTH_PASSWORD)' },
    bearerAuth: { type: 'http', scheme: 'bearer', description: 'When the correlator runs with AUTH_MODE=bearer (AUTH_TOKEN)' },
  };
  // What this correlator asks for: {} is "no credentials", which AUTH_MODE=none (the default) takes.
  doc.security = auth.mode === 'basic' ? [{ basicAuth: [] }] : auth.mode === 'bearer' ? [{ bearerAuth: [] }] : [{}];
  const record = withoutPatternProperties(JSON.parse(JSON.stringify(LogBatchRecord))) as Json;
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, Record<string, Operation>>)) {
    if (item.get && !item.head) item.head = headOf(item.get);
    for (const [method, op] of Object.entries(item)) {
      if (OPEN_PATHS.has(path) || (path === '/metrics' && !auth.protectMetrics)) op.security = [];
      const responses = (op.responses ??= {}) as Record<string, Json>;
      if (method === 'post' && (OTLP_PATHS.has(path) || path === '/api/logs')) responses['408'] ??= { ...UPLOAD_TIMEOUT };
      responses['431'] ??= JSON.parse(JSON.stringify(HEADERS_TOO_LARGE)) as Json;
      for (const [status, headers] of Object.entries(RESPONSE_HEADERS)) {
        const response = responses[status];
        if (response) response.headers = { ...headers, ...((response.headers as Json | undefined) ?? {}) };
      }
      if (OTLP_PATHS.has(path) && method === 'post') {
        const signal = path.endsWith('/traces') ? 'Trace' : 'Logs';
        op.requestBody = {
          required: true,
          description: `An OTLP Export${signal}ServiceRequest, as protobuf or OTLP/JSON, optionally compressed (Content-Encoding)`,
          content: {
            'application/x-protobuf': { schema: { type: 'string', format: 'binary', description: `Export${signal}ServiceRequest (opentelemetry/proto)` } },
            'application/json': { schema: { type: 'object', description: `Export${signal}ServiceRequest in OTLP/JSON (hex ids, int64 as strings or numbers)` } },
          },
        };
        op.parameters = [...(op.parameters ?? []), CONTENT_ENCODING];
      }
      if (path === '/api/logs' && method === 'post') {
        const schema = op.requestBody?.content?.['application/json']?.schema as { properties?: { records?: Json } } | undefined;
        if (schema?.properties?.records) {
          schema.properties.records.items = {
            ...record,
            description: 'A LogBatchRecord. Each is checked alone: an invalid one is rejected (listed in errors), the others are stored',
          };
        }
        op.parameters = [...(op.parameters ?? []), CONTENT_ENCODING];
      }
    }
  }
  return doc;
}
