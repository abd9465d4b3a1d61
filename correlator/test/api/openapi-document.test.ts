// The OpenAPI document as a client generator reads it. No OpenAPI validator is installed, so its
// structure is checked here by hand: ids, path parameters, responses, references, security.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTestApp } from './app-fixture.js';

type Json = Record<string, unknown>;
interface Operation {
  operationId?: string;
  parameters?: { in: string; name: string; required?: boolean; schema?: Json }[];
  requestBody?: { content: Record<string, { schema: Json & { properties?: Record<string, Json & { items?: Json }> } }> };
  responses: Record<string, { description?: string; content?: unknown }>;
  security?: Json[];
}
interface Doc {
  openapi: string;
  security?: Json[];
  components: { securitySchemes?: Record<string, { type: string; scheme: string }> };
  paths: Record<string, Record<string, Operation>>;
}

const TOKEN = '0123456789abcdef-token';
const modes: { title: string; env: Record<string, string>; authorization?: string; security: Json[] }[] = [
  { title: 'without auth', env: {}, security: [{}] },
  {
    title: 'with AUTH_MODE=basic',
    env: { AUTH_MODE: 'basic', AUTH_USERNAME: 'ops', AUTH_PASSWORD: 'pa55word' },
    authorization: `Basic ${Buffer.from('ops:pa55word').toString('base64')}`,
    security: [{ basicAuth: [] }],
  },
  { title: 'with AUTH_MODE=bearer', env: { AUTH_MODE: 'bearer', AUTH_TOKEN: TOKEN }, authorization: `Bearer ${TOKEN}`, security: [{ bearerAuth: [] }] },
];

const operations = (doc: Doc) =>
  Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op, at: `${method.toUpperCase()} ${path}` })));

/** Every `$ref` in the document, with where it is. */
function refs(v: unknown, at: string, out: [string, string][] = []): [string, string][] {
  if (Array.isArray(v)) v.forEach((x, i) => refs(x, `${at}/${i}`, out));
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string') out.push([at, x]);
      else refs(x, `${at}/${k}`, out);
    }
  }
  return out;
}

function resolve(doc: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map(p => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Json)[key] : undefined), doc);
}

describe('the OpenAPI document', () => {
  for (const m of modes) {
    it(`is well-formed and declares the authentication ${m.title}`, async t => {
      const app = await buildTestApp(t, m.env);
      const res = await app.inject({ url: '/docs/json', headers: m.authorization ? { authorization: m.authorization } : {} });
      assert.equal(res.statusCode, 200, res.body);
      const doc = res.json<Doc>();
      assert.match(doc.openapi, /^3\.\d+\.\d+$/, 'an OpenAPI 3 document');
      const ops = operations(doc);
      assert.ok(ops.length >= 29, `${ops.length} operations`);

      const ids = new Map<string, string>();
      for (const { path, op, at } of ops) {
        assert.match(op.operationId ?? '', /^[a-z][A-Za-z]+$/, `${at} has an operationId`);
        assert.ok(!ids.has(op.operationId!), `${at}: operationId ${op.operationId} is also ${ids.get(op.operationId!)}'s`);
        ids.set(op.operationId!, at);

        const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map(x => x[1]!);
        const declared = (op.parameters ?? []).filter(p => p.in === 'path');
        assert.deepEqual(declared.map(p => p.name).sort(), [...inPath].sort(), `${at}: every path parameter declared, and only those`);
        for (const p of declared) assert.equal(p.required, true, `${at}: path parameter ${p.name} is required`);

        assert.ok(op.responses['200'], `${at} documents its 200`);
        // Health never refuses: it answers while the process runs.
        if (path !== '/health') assert.ok(Object.keys(op.responses).some(s => /^[45]\d\d$/.test(s)), `${at} documents its errors`);
        for (const [status, r] of Object.entries(op.responses)) assert.ok(r.description, `${at}: response ${status} has a description`);

        for (const requirement of op.security ?? []) {
          for (const name of Object.keys(requirement)) assert.ok(doc.components.securitySchemes?.[name], `${at}: security scheme ${name} is declared`);
        }
      }
      for (const [at, ref] of refs(doc, '#')) assert.ok(resolve(doc, ref) !== undefined, `${at}: $ref ${ref} resolves`);

      assert.deepEqual(
        doc.components.securitySchemes && Object.fromEntries(Object.entries(doc.components.securitySchemes).map(([k, v]) => [k, [v.type, v.scheme]])),
        { basicAuth: ['http', 'basic'], bearerAuth: ['http', 'bearer'] },
        'both schemes are declared, whichever is configured',
      );
      assert.deepEqual(doc.security, m.security, 'the global requirement is the configured one ({} when none)');
      for (const path of ['/health', '/ready']) assert.deepEqual(doc.paths[path]!.get!.security, [], `${path} is always open`);
    });
  }

  it('names the operations clients call, documents the OTLP bodies, the log batch records and the 405 and 415 answers', async t => {
    const app = await buildTestApp(t);
    const doc = (await app.inject('/docs/json')).json<Doc>();
    const expectedIds: [string, string, string][] = [
      ['get', '/api/circuits', 'listCircuits'],
      ['get', '/api/circuits/{id}', 'getCircuit'],
      ['get', '/api/circuits/{id}/trace', 'getCircuitTrace'],
      ['get', '/api/circuits/{id}/logs', 'getCircuitLogs'],
      ['get', '/api/traces/{traceId}', 'getTrace'],
      ['post', '/api/logs', 'ingestLogBatch'],
      ['post', '/v1/traces', 'exportTraces'],
    ];
    for (const [method, path, id] of expectedIds) assert.equal(doc.paths[path]?.[method]?.operationId, id, `${method} ${path} is ${id}`);

    for (const path of ['/v1/traces', '/v1/logs', '/api/otlp/v1/traces', '/api/otlp/v1/logs']) {
      const op = doc.paths[path]!.post!;
      assert.deepEqual(Object.keys(op.requestBody?.content ?? {}).sort(), ['application/json', 'application/x-protobuf'], `${path} takes protobuf and JSON`);
      const encoding = op.parameters?.find(p => p.in === 'header' && p.name === 'Content-Encoding');
      assert.ok(encoding, `${path} documents Content-Encoding`);
      for (const e of ['gzip', 'deflate']) assert.ok((encoding.schema?.enum as string[]).includes(e), `${path} takes ${e}`);
      for (const status of ['405', '415']) assert.ok(op.responses[status], `${path} documents ${status}`);
      assert.match(op.responses['405']!.description ?? '', /Allow: POST/, `${path}: the 405 tells the Allow header`);
    }

    const batch = doc.paths['/api/logs']!.post!;
    const records = batch.requestBody?.content['application/json']?.schema.properties?.records;
    const record = records?.items as { properties?: Record<string, unknown>; required?: string[] } | undefined;
    assert.ok(record?.properties, 'the batch records are described');
    for (const field of ['timestamp', 'severity', 'message', 'trace_id', 'span_id', 'circuit_id', 'labels']) {
      assert.ok(record.properties[field], `a record's ${field} is described`);
    }
    assert.deepEqual([...(record.required ?? [])].sort(), ['message', 'timestamp'], 'a record requires a timestamp and a message');
    for (const status of ['405', '415']) assert.ok(batch.responses[status], `POST /api/logs documents ${status}`);
  });

  it('is OpenAPI 3.0 throughout, and declares the headers, the 408 and the body errors clients meet', async t => {
    const app = await buildTestApp(t, { AUTH_MODE: 'bearer', AUTH_TOKEN: TOKEN });
    const res = await app.inject({ url: '/docs/json', headers: { authorization: `Bearer ${TOKEN}` } });
    const doc = res.json<Doc>();
    // OpenAPI 3.0 has no patternProperties: a generator ignores the keys' schema, or fails.
    assert.doesNotMatch(res.body, /"patternProperties"/, 'no patternProperties anywhere');
    const labels = (
      doc.paths['/api/logs']!.post!.requestBody?.content['application/json']?.schema.properties?.records?.items as
        | { properties?: Record<string, Json> }
        | undefined
    )?.properties?.labels;
    assert.deepEqual(labels?.additionalProperties, { type: 'string' }, 'a record\'s labels map strings to strings');

    const headers = (r: unknown) => Object.keys((r as { headers?: Json }).headers ?? {});
    for (const { path, method, op, at } of operations(doc)) {
      for (const [status, r] of Object.entries(op.responses)) {
        if (status === '429' || status === '503') assert.ok(headers(r).includes('Retry-After'), `${at}: ${status} declares Retry-After`);
        if (status === '401') assert.ok(headers(r).includes('WWW-Authenticate'), `${at}: 401 declares WWW-Authenticate`);
      }
      // A body sent to any of them is parsed: invalid JSON is a 400, another type a 415.
      if (method === 'post' || method === 'patch') {
        for (const status of ['400', '415']) assert.ok(op.responses[status], `${at} documents ${status}`);
      }
      const ingest = method === 'post' && (path.endsWith('/v1/traces') || path.endsWith('/v1/logs') || path === '/api/logs');
      assert.equal(Boolean(op.responses['408']), ingest, `${at}: 408 documented on the ingest routes only`);
    }
    for (const at of ['/api/mdso/collect', '/api/mdso/defects/reload']) assert.ok(doc.paths[at]?.post, `${at} is in the document`);
  });
});
