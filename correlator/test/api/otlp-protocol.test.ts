import assert from 'node:assert/strict';
import { deflateSync, gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { otlpTypes } from '../../src/otlp/schema.js';
import { decodeTraceRequest } from '../../src/otlp/trace-decoder.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import { loadConfig } from '../../src/config/config.js';
import { buildLogs, buildTraces, logsJson, logsProtobuf, tracesJson, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { buildTestApp } from './app-fixture.js';

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);

async function sampleSpans(attrs: Record<string, string> = { circuit_id: 'C1' }, startMs = T0) {
  const [t] = await buildTraces([{ service: 'beorn', spans: [{ name: 'op', startMs, endMs: startMs + 5, attributes: attrs }] }]);
  return t!.spans;
}

describe('OTLP/HTTP protocol', () => {
  it('answers protobuf with an empty ExportTraceServiceResponse in protobuf', async t => {
    const app = await buildTestApp(t);
    // Within retention: an older span is answered with a warning (time-warnings.test.ts).
    const res = await app.inject({
      method: 'POST',
      url: '/v1/traces',
      headers: { 'content-type': 'application/x-protobuf' },
      payload: tracesProtobuf(await sampleSpans(undefined, Date.now() - 60_000)),
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/x-protobuf');
    const decoded = otlpTypes().ExportTraceServiceResponse.decode(res.rawPayload).toJSON();
    assert.deepEqual(decoded, {});
  });

  it('reports partial success in protobuf with the count and the reason', async t => {
    const app = await buildTestApp(t, { MAX_ATTRIBUTE_VALUE_BYTES: '100' });
    const spans = [...(await sampleSpans()), ...(await sampleSpans({ blob: 'x'.repeat(500) }))];
    const res = await app.inject({
      method: 'POST',
      url: '/v1/traces',
      headers: { 'content-type': 'application/x-protobuf' },
      payload: tracesProtobuf(spans),
    });
    assert.equal(res.statusCode, 200);
    const ps = otlpTypes().ExportTraceServiceResponse.decode(res.rawPayload).toJSON() as {
      partialSuccess: { rejectedSpans: string; errorMessage: string };
    };
    assert.equal(ps.partialSuccess.rejectedSpans, '1');
    assert.match(ps.partialSuccess.errorMessage, /attribute "blob"/);
  });

  // The reviewer's otlp5 and logs1: an item rejected after one with a bad id lost its place.
  // Within retention: older items are answered with a warning as well (time-warnings.test.ts).
  const ns = String(BigInt(Date.now() - 60_000) * 1_000_000n);
  const placed: { url: string; body: unknown; field: string; message: string }[] = [
    {
      url: '/v1/traces',
      field: 'partialSuccess.rejectedSpans',
      body: {
        resourceSpans: [
          {
            scopeSpans: [
              {
                spans: [
                  { traceId: 'a'.repeat(32), spanId: 'bad', name: 'x', startTimeUnixNano: ns },
                  { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), name: 'y', startTimeUnixNano: ns, attributes: [{ key: 'payload', value: { stringValue: 'x'.repeat(200) } }] },
                ],
              },
            ],
          },
        ],
      },
      message:
        '2 span(s) rejected: resourceSpans[0].scopeSpans[0].spans[0]: spanId "bad" is not 16 hex characters; ' +
        'resourceSpans[0].scopeSpans[0].spans[1]: attribute "payload" value is 200 bytes, over the limit of 100 (MAX_ATTRIBUTE_VALUE_BYTES)',
    },
    {
      url: '/api/otlp/v1/logs',
      field: 'partialSuccess.rejectedLogRecords',
      body: {
        resourceLogs: [
          {
            scopeLogs: [
              {
                logRecords: [
                  { timeUnixNano: ns, traceId: 'xyz', body: { stringValue: 'a' } },
                  { timeUnixNano: ns, body: { stringValue: 'ok' } },
                  { timeUnixNano: ns, body: { stringValue: 'x'.repeat(500) } },
                ],
              },
            ],
          },
        ],
      },
      message:
        '2 log record(s) rejected: resourceLogs[0].scopeLogs[0].logRecords[0]: traceId "xyz" is not 32 hex characters; ' +
        'resourceLogs[0].scopeLogs[0].logRecords[2]: log body is 500 bytes, over the limit of 400 (4 × MAX_ATTRIBUTE_VALUE_BYTES)',
    },
  ];
  for (const c of placed) {
    it(`names the place of every JSON item ${c.url} rejects, as the client sent it`, async t => {
      const app = await buildTestApp(t, { MAX_ATTRIBUTE_VALUE_BYTES: '100' });
      const res = await app.inject({ method: 'POST', url: c.url, payload: c.body as object });
      assert.equal(res.statusCode, 200, res.body);
      const ps = res.json<{ partialSuccess: Record<string, unknown> }>().partialSuccess;
      assert.equal(ps[c.field.split('.')[1]!], '2', `${c.url}: two rejected: ${res.body}`);
      assert.equal(ps.errorMessage, c.message, `${c.url}: each rejection has its place`);
    });
  }

  const encodings: [string, (b: Buffer) => Buffer][] = [
    ['identity', b => b],
    ['gzip', b => gzipSync(b)],
    ['deflate', b => deflateSync(b)],
  ];
  for (const [name, encode] of encodings) {
    it(`accepts logs and traces with Content-Encoding ${name}, protobuf and JSON`, async t => {
      const app = await buildTestApp(t);
      const spans = await sampleSpans();
      const logs = await buildLogs('beorn', [{ body: 'hello circuit_id=C1', atMs: T0 }]);
      const bodies: [string, string, Buffer][] = [
        ['/v1/traces', 'application/x-protobuf', tracesProtobuf(spans)],
        ['/v1/traces', 'application/json', Buffer.from(JSON.stringify(tracesJson(spans)))],
        ['/v1/logs', 'application/x-protobuf', logsProtobuf(logs)],
        ['/api/otlp/v1/logs', 'application/json; charset=utf-8', Buffer.from(JSON.stringify(logsJson(logs)))],
      ];
      for (const [url, ct, body] of bodies) {
        const res = await app.inject({
          method: 'POST',
          url,
          headers: { 'content-type': ct, ...(name === 'identity' ? {} : { 'content-encoding': name }) },
          payload: encode(body),
        });
        assert.equal(res.statusCode, 200, `${url} ${ct}: ${res.body}`);
        assert.equal(res.headers['content-type']?.toString().split(';')[0], ct.split(';')[0]);
      }
      const logsStored = (await app.inject('/api/logs?circuit_id=C1')).json<{ logs: unknown[] }>().logs;
      assert.equal(logsStored.length, 1, 'the same record sent twice is stored once');
    });
  }

  const refusals: { title: string; env?: Record<string, string>; req: InjectOptions; status: number; message: RegExp; retryAfter?: boolean }[] = [
    { title: 'text/plain', req: { method: 'POST', url: '/v1/traces', headers: { 'content-type': 'text/plain' }, payload: 'hi' }, status: 415, message: /Content-Type "text\/plain": send application\/x-protobuf or application\/json$/ },
    { title: 'a type no parser takes', req: { method: 'POST', url: '/v1/logs', headers: { 'content-type': 'application/xml' }, payload: '<x/>' }, status: 415, message: /^unsupported Content-Type "application\/xml": send application\/x-protobuf or application\/json$/ },
    { title: 'GET', req: { method: 'GET', url: '/v1/traces' }, status: 405, message: /GET is not allowed/ },
    { title: 'unknown encoding', req: { method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/json', 'content-encoding': 'br' }, payload: '{}' }, status: 415, message: /Content-Encoding "br"/ },
    { title: 'corrupt gzip', req: { method: 'POST', url: '/v1/logs', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, payload: 'not gzip at all' }, status: 400, message: /not valid gzip/ },
    { title: 'invalid JSON', req: { method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/json' }, payload: '{"resourceSpans": [' }, status: 400, message: /JSON/i },
    { title: 'JSON that is not a request', req: { method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/json' }, payload: '{"resourceSpans": 5}' }, status: 400, message: /resourceSpans must be an array/ },
    { title: 'a body without a Content-Type', req: { method: 'POST', url: '/v1/traces', payload: Buffer.from('{}') }, status: 415, message: /^the Content-Type header is missing: send application\/x-protobuf or application\/json$/ },
    { title: 'an empty body without a Content-Type', req: { method: 'POST', url: '/v1/logs' }, status: 415, message: /^the Content-Type header is missing: send application\/x-protobuf or application\/json$/ },
    {
      title: 'an uncompressed body over the limit',
      env: { MAX_BODY_BYTES: '2048' },
      req: { method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/json' }, payload: `{"x":"${'a'.repeat(100_000)}"}` },
      status: 413,
      message: /^request body is larger than the limit \(MAX_BODY_BYTES, 2048 bytes\)$/,
    },
    {
      title: 'a body over the limit after decompression',
      env: { MAX_BODY_BYTES: '2048' },
      req: { method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, payload: gzipSync(Buffer.from(`{"x":"${'a'.repeat(100_000)}"}`)) },
      status: 413,
      message: /^request body is larger than the limit \(MAX_BODY_BYTES, 2048 bytes\) after decompression$/,
    },
  ];
  for (const c of refusals) {
    it(`refuses ${c.title} with ${c.status} and a google.rpc.Status naming the problem`, async t => {
      const app = await buildTestApp(t, c.env);
      const res = await app.inject(c.req);
      assert.equal(res.statusCode, c.status, res.body);
      const body = res.json<{ code: number; message: string }>();
      assert.equal(typeof body.code, 'number');
      assert.match(body.message, c.message);
      if (c.status === 405) assert.equal(res.headers.allow, 'POST');
      const ok = await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/json' }, payload: '{}' });
      assert.equal(ok.statusCode, 200, 'the app keeps serving');
    });
  }

  // The JSON log batch refuses what the OTLP receivers refuse, with the same statuses.
  const batch = JSON.stringify({ resource: { service: 's' }, records: [] });
  const logBatchRefusals: { title: string; req: InjectOptions; status: number; code: string; message: string; allow?: string }[] = [
    {
      title: 'text/plain',
      req: { method: 'POST', url: '/api/logs', headers: { 'content-type': 'text/plain' }, payload: batch },
      status: 415,
      code: 'CORR_ERR_BAD_CONTENT_TYPE',
      message: 'unsupported Content-Type "text/plain": send application/json',
    },
    {
      title: 'a type no parser takes',
      req: { method: 'POST', url: '/api/logs', headers: { 'content-type': 'application/xml' }, payload: '<logs/>' },
      status: 415,
      code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
      message: 'unsupported Content-Type "application/xml": send application/json',
    },
    {
      title: 'a body without a Content-Type',
      req: { method: 'POST', url: '/api/logs', payload: Buffer.from(batch) },
      status: 415,
      code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
      message: 'the Content-Type header is missing: send application/json',
    },
    ...(['PUT', 'DELETE', 'PATCH'] as const).map(method => ({
      title: method,
      req: { method, url: '/api/logs', headers: { 'content-type': 'application/json' }, payload: batch },
      status: 405,
      code: 'CORR_ERR_METHOD_NOT_ALLOWED',
      message: `${method} is not allowed on /api/logs; use GET or POST`,
      allow: 'GET, HEAD, POST',
    })),
  ];
  for (const c of logBatchRefusals) {
    it(`refuses ${c.title} on the JSON log batch with ${c.status}, naming what it takes`, async t => {
      const app = await buildTestApp(t);
      const res = await app.inject(c.req);
      assert.equal(res.statusCode, c.status, res.body);
      const body = res.json<{ code: string; message: string }>();
      assert.deepEqual([body.code, body.message], [c.code, c.message], `${c.title}: code and message`);
      assert.equal(res.headers.allow, c.allow, `${c.title}: Allow header`);
      const ok = await app.inject({ method: 'POST', url: '/api/logs', headers: { 'content-type': 'application/json; charset=utf-8' }, payload: batch });
      assert.equal(ok.statusCode, 200, `a JSON batch is still taken: ${ok.body}`);
    });
  }

  it('answers a truncated protobuf with 400 and a protobuf google.rpc.Status', async t => {
    const app = await buildTestApp(t);
    const full = tracesProtobuf(await sampleSpans());
    const res = await app.inject({
      method: 'POST',
      url: '/v1/traces',
      headers: { 'content-type': 'application/x-protobuf' },
      payload: full.subarray(0, full.length - 9),
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.headers['content-type'], 'application/x-protobuf');
    const status = otlpTypes().RpcStatus.decode(res.rawPayload).toJSON() as { code: number; message: string };
    assert.equal(status.code, 3);
    assert.match(status.message, /cannot decode OTLP request: truncated/);
  });

  for (const writerThread of ['true', 'false']) {
    it(`answers 503 with Retry-After when the store cannot take the data, and stores it when sent again (writer thread ${writerThread})`, async t => {
      const app = await buildTestApp(t, { STORE_WRITER_THREAD: writerThread });
      const db = app.correlator.store.db;
      // A failing write as SQLite reports one (its error code), on whichever connection writes.
      for (const table of ['span_chunks', 'logs'])
        db.exec(`CREATE TRIGGER refuse_${table} BEFORE INSERT ON ${table} BEGIN SELECT RAISE(ABORT, 'no room'); END`);
      const spans = { method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: tracesProtobuf(await sampleSpans()) } as const;
      const logs = { method: 'POST', url: '/api/logs', payload: { resource: { service: 's' }, records: [{ timestamp: new Date(T0).toISOString(), message: 'circuit_id=C1 m' }] } } as const;
      for (const req of [spans, logs]) {
        const res = await app.inject(req);
        assert.equal(res.statusCode, 503, `${req.url}: ${res.body}`);
        assert.equal(res.headers['retry-after'], '10');
        assert.match(res.body, /the store could not accept the data \(SQLITE_CONSTRAINT_TRIGGER\); retry later/);
      }
      for (const table of ['span_chunks', 'logs']) db.exec(`DROP TRIGGER refuse_${table}`);
      for (const req of [spans, logs]) assert.equal((await app.inject(req)).statusCode, 200, req.url);
      assert.equal((await app.inject('/api/logs?circuit_id=C1')).json<{ logs: unknown[] }>().logs.length, 1);
    });
  }

  it('is not ready while the store refuses every write for lack of room, and ready again once it has room', async t => {
    // Rows written in line, on the connection whose page budget the test sets.
    const app = await buildTestApp(t, { STORE_WRITER_THREAD: 'false' });
    const db = app.correlator.store.db;
    assert.equal((await app.inject('/ready')).statusCode, 200);
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    // Enough bytes that the request needs pages the file does not have.
    const [big] = await buildTraces([
      { service: 'beorn', spans: Array.from({ length: 50 }, (_, i) => ({ name: `step ${i}`, startMs: T0 + i, endMs: T0 + i + 1, attributes: { circuit_id: 'C-FULL', note: 'n'.repeat(2048) } })) },
    ]);
    const post = () => app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: tracesProtobuf(big!.spans) });
    const refused = await post();
    assert.equal(refused.statusCode, 503);
    assert.match(otlpTypes().RpcStatus.decode(refused.rawPayload).toJSON().message as string, /SQLITE_FULL/);
    const notReady = await app.inject('/ready');
    assert.equal(notReady.statusCode, 503);
    assert.match(notReady.body, /writes fail: SQLITE_FULL/);
    db.pragma('max_page_count = 1073741823');
    assert.equal((await app.inject('/ready')).statusCode, 200, 'ready once a write goes through');
    assert.equal((await post()).statusCode, 200);
  });

  it('refuses log records and query times that are not RFC 3339, naming them', async t => {
    const app = await buildTestApp(t);
    const records = ['1', 'Dec 25', '2026-01-01T00:00:00', new Date(T0).toISOString()].map(timestamp => ({ timestamp, message: 'circuit_id=C7 m' }));
    const res = await app.inject({ method: 'POST', url: '/api/logs', payload: { resource: { service: 's' }, records } });
    assert.equal(res.statusCode, 200);
    const body = res.json<{ accepted: number; rejected: number; errors: { index: number; message: string }[] }>();
    assert.deepEqual([body.accepted, body.rejected], [1, 3]);
    assert.deepEqual(body.errors.map(e => e.index), [0, 1, 2]);
    assert.match(body.errors[0]!.message, /timestamp must be an RFC 3339 time with a zone \(2026-01-01T00:00:00\.000Z\), got "1"/);
    for (const from of ['-5', 'Dec%2025', '2026-01-01T00:00:00']) {
      const q = await app.inject(`/api/circuits?from=${from}`);
      assert.equal(q.statusCode, 400, from);
      assert.match(q.json<{ message: string }>().message, /^from ".*" is no time: give epoch seconds \(up to 10 digits\), milliseconds \(11 to 15\), nanoseconds \(19\) or RFC 3339$/);
    }
    assert.equal((await app.inject(`/api/circuits?from=${T0}&to=2026-11-21T13:00:00%2B01:00`)).statusCode, 200);
    // Every digit of a record's time is kept.
    const exact = { timestamp: '2026-11-21T12:00:03.123456789Z', message: 'circuit_id=C8 m' };
    assert.equal((await app.inject({ method: 'POST', url: '/api/logs', payload: { resource: { service: 's' }, records: [exact] } })).statusCode, 200);
    const stored = (await app.inject('/api/logs?circuit_id=C8')).json<{ logs: { timeUnixNano: string }[] }>().logs;
    assert.deepEqual(stored.map(l => l.timeUnixNano), [(BigInt(T0 + 3123) * 1_000_000n + 456_789n).toString()]);
  });

  it('takes no business key over 512 characters from a log, explicit or in its text', async t => {
    const app = await buildTestApp(t);
    const long = `C${'x'.repeat(512)}`;
    const at = new Date(T0).toISOString();
    const res = await app.inject({
      method: 'POST',
      url: '/api/logs',
      payload: { resource: { service: 's' }, records: [{ timestamp: at, message: 'm', circuit_id: long }, { timestamp: at, message: `circuit_id=${long} request_id=R-9` }] },
    });
    const body = res.json<{ accepted: number; errors: { index: number; message: string }[] }>();
    assert.deepEqual(body.errors, [{ index: 0, message: 'circuit_id is 513 characters, over the limit of 512' }]);
    assert.equal(body.accepted, 1);
    assert.equal((await app.inject('/api/circuits')).json<{ circuits: unknown[] }>().circuits.length, 0);
    assert.equal((await app.inject('/api/logs?limit=5')).json<{ logs: { keys: Record<string, string> }[] }>().logs[0]!.keys.request_id, 'R-9');
  });

  it('refuses the JSON log batch when it exceeds MAX_BATCH_SIZE', async t => {
    const app = await buildTestApp(t, { MAX_BATCH_SIZE: '2' });
    const rec = { timestamp: new Date(T0).toISOString(), message: 'm' };
    const res = await app.inject({ method: 'POST', url: '/api/logs', payload: { resource: { service: 's' }, records: [rec, rec, rec] } });
    assert.equal(res.statusCode, 413);
    assert.match(res.json<{ message: string }>().message, /3 records, over MAX_BATCH_SIZE \(2\)/);
    // Refusals count as OTLP's do, invalid bodies too.
    assert.equal((await app.inject({ method: 'POST', url: '/api/logs', payload: { records: [] } })).statusCode, 400);
    const metrics = (await app.inject('/metrics')).body;
    assert.match(metrics, /ingest_requests_total\{signal="api_logs",outcome="413"\} 1/);
    assert.match(metrics, /ingest_requests_total\{signal="api_logs",outcome="400"\} 1/);
  });

  it('counts the batch records before parsing: a body over MAX_BATCH_SIZE is refused even when its JSON is cut short', async t => {
    const app = await buildTestApp(t, { MAX_BATCH_SIZE: '1000' });
    const rec = JSON.stringify({ timestamp: new Date(T0).toISOString(), message: 'm' });
    // 200,000 records and no closing brackets: parsed first, this was a 400 for its JSON.
    const cut = `{"resource":{"service":"s"},"records":[${`${rec},`.repeat(200_000)}`;
    const res = await app.inject({ method: 'POST', url: '/api/logs', headers: { 'content-type': 'application/json' }, payload: cut });
    assert.equal(res.statusCode, 413, res.body);
    // The count stopped just past the limit rather than going through the 200,000.
    assert.match(res.json<{ message: string }>().message, /^batch has at least 1001 records, over MAX_BATCH_SIZE \(1000\); send them in smaller batches$/);
  });

  it('counts only the batch records, not an array of that name inside a record', async t => {
    const app = await buildTestApp(t, { MAX_BATCH_SIZE: '2' });
    const rec = { timestamp: new Date().toISOString(), message: 'm', labels: { records: [1, 2, 3, 4, 5] } };
    const res = await app.inject({ method: 'POST', url: '/api/logs', payload: { resource: { service: 's' }, records: [rec, { ...rec, message: 'n' }] } });
    // 200, not 413: whether a record's labels may hold an array is the record's own check.
    assert.equal(res.statusCode, 200, res.body);
    const answer = res.json<{ accepted: number; rejected: number }>();
    assert.equal(answer.accepted + answer.rejected, 2, res.body);
  });
});

describe('authentication', () => {
  const modes: { env: Record<string, string>; good: string; bad: string; challenge: RegExp }[] = [
    {
      env: { AUTH_MODE: 'basic', AUTH_USERNAME: 'ops', AUTH_PASSWORD: 'pa55word' },
      good: `Basic ${Buffer.from('ops:pa55word').toString('base64')}`,
      bad: `Basic ${Buffer.from('ops:wrong').toString('base64')}`,
      challenge: /^Basic realm=/,
    },
    {
      env: { AUTH_MODE: 'bearer', AUTH_TOKEN: '0123456789abcdef-token' },
      good: 'Bearer 0123456789abcdef-token',
      bad: 'Bearer 0123456789abcdef-tokeX',
      challenge: /^Bearer realm=/,
    },
  ];
  for (const m of modes) {
    it(`${m.env.AUTH_MODE}: 401 with WWW-Authenticate, open health/ready/metrics, credentials pass`, async t => {
      const app = await buildTestApp(t, m.env);
      for (const url of ['/health', '/ready', '/metrics']) assert.equal((await app.inject(url)).statusCode, 200, url);
      for (const headers of [{}, { authorization: m.bad }]) {
        const res = await app.inject({ url: '/api/circuits', headers });
        assert.equal(res.statusCode, 401);
        assert.match(String(res.headers['www-authenticate']), m.challenge);
        const otlp = await app.inject({ method: 'POST', url: '/v1/traces', headers: { ...headers, 'content-type': 'application/json' }, payload: '{}' });
        assert.equal(otlp.statusCode, 401);
      }
      assert.equal((await app.inject({ url: '/api/circuits', headers: { authorization: m.good } })).statusCode, 200);
    });
  }

  it('documents the 401 of every route that answers one, with the body it sends', async t => {
    const token = '0123456789abcdef-token';
    const app = await buildTestApp(t, { AUTH_MODE: 'bearer', AUTH_TOKEN: token, AUTH_PROTECT_METRICS: 'true' });
    type Schema = { type?: string; required?: string[]; properties?: Record<string, { type?: string }> };
    const doc = (await app.inject({ url: '/docs/json', headers: { authorization: `Bearer ${token}` } })).json<{
      paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: Schema }> }> }>>;
    }>();
    let refused = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const url = path.replace('{id}', 'C-1').replace('{traceId}', 'a'.repeat(32));
        const res = await app.inject({
          method: method.toUpperCase() as InjectOptions['method'],
          url,
          ...(method === 'get' || method === 'head' ? {} : { headers: { 'content-type': 'application/json' }, payload: '{}' }),
        });
        const documented = op.responses['401'];
        if (res.statusCode !== 401) {
          assert.ok(['/health', '/ready'].includes(path), `${method} ${path} answers ${res.statusCode} without credentials`);
          continue;
        }
        assert.ok(documented, `${method} ${path} answers 401 and documents it`);
        // HEAD answers the GET's 401 without its body, and documents none; not counted below, which
        // counts the routes as it did before HEAD was documented.
        if (method === 'head') {
          assert.deepEqual([res.body, documented.content], ['', undefined], `${method} ${path}: a 401 without a body`);
          continue;
        }
        refused++;
        const schema = documented.content?.['application/json']?.schema ?? Object.values(documented.content ?? {})[0]?.schema;
        assert.ok(schema?.properties, `${method} ${path} documents the 401 body`);
        const body = res.json<Record<string, unknown>>();
        for (const name of schema.required ?? []) assert.ok(name in body, `${method} ${path}: 401 body has ${name}: ${res.body}`);
        for (const [name, value] of Object.entries(body)) {
          const type = schema.properties[name]?.type;
          assert.ok(type, `${method} ${path}: 401 body's ${name} is documented`);
          assert.ok(type === 'integer' ? Number.isInteger(value) : typeof value === type, `${method} ${path}: 401 body's ${name} is ${type}`);
        }
      }
    }
    assert.ok(refused >= 20, `${refused} routes refused`);
  });

  it('protects /metrics when AUTH_PROTECT_METRICS is set', async t => {
    const app = await buildTestApp(t, { AUTH_MODE: 'bearer', AUTH_TOKEN: '0123456789abcdef-token', AUTH_PROTECT_METRICS: 'true' });
    assert.equal((await app.inject('/metrics')).statusCode, 401);
    assert.equal((await app.inject({ url: '/metrics', headers: { authorization: 'Bearer 0123456789abcdef-token' } })).statusCode, 200);
  });
});

describe('service endpoints', () => {
  it('serves health, readiness, info, metrics and the OpenAPI document with every route', async t => {
    const app = await buildTestApp(t);
    assert.equal((await app.inject('/health')).json<{ status: string }>().status, 'healthy');
    assert.equal((await app.inject('/ready')).json<{ status: string }>().status, 'ready');
    const info = (await app.inject('/api/info')).json<{ service: string; apiVersion: number }>();
    assert.equal(info.service, 'correlation-station-correlator');
    assert.equal(info.apiVersion, 1);
    const metrics = (await app.inject('/metrics')).body;
    for (const name of ['otlp_ingest_requests_total', 'otlp_ingest_items_total', 'correlation_events_total', 'bridges_created_total', 'export_queue_depth', 'export_failures_total', 'hot_state_entries', 'hot_state_evictions_total']) {
      assert.ok(metrics.includes(name), name);
    }
    assert.match(metrics, /^store_writer_thread 1$/m);
    assert.match(metrics, /^store_writes_in_flight 0$/m);
    assert.match(metrics, /^store_inflight_waits_total 0$/m);
    assert.match(metrics, /^store_commits_total 0$/m);
    const doc = (await app.inject('/docs/json')).json<{ paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }>();
    for (const path of ['/v1/traces', '/v1/logs', '/api/otlp/v1/traces', '/api/logs', '/api/circuits', '/api/circuits/{id}', '/api/circuits/{id}/trace', '/api/circuits/{id}/logs', '/api/traces/{traceId}', '/api/correlations', '/api/service-graph', '/health', '/ready', '/metrics', '/api/info']) {
      assert.ok(doc.paths[path], `OpenAPI lists ${path}`);
      for (const [method, op] of Object.entries(doc.paths[path]!)) {
        assert.ok(op.responses['200'], `${method} ${path} documents its 200 response`);
        // With auth on, every route but health and readiness can answer 401.
        if (path !== '/health' && path !== '/ready') assert.ok(op.responses['401'], `${method} ${path} documents 401`);
      }
    }
    for (const path of ['/api/circuits/{id}', '/api/circuits/{id}/trace', '/api/circuits/{id}/logs', '/api/traces/{traceId}', '/api/circuits', '/api/logs'])
      for (const [method, op] of Object.entries(doc.paths[path]!)) assert.ok(op.responses['400'], `${method} ${path} documents 400`);
  });

  it('counts the store lookups the seen filter spared, and the filter itself', async t => {
    const app = await buildTestApp(t);
    const metric = async (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec((await app.inject('/metrics')).body)?.[1]);
    assert.equal(await metric('store_seen_filter_builds_total'), 1);
    assert.equal(await metric('store_seen_filter_bytes'), 64 * 1024);
    assert.equal(await metric('store_lookups_skipped_total'), 0);
    const send = async () =>
      (await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload })).statusCode;
    const payload = tracesProtobuf(await sampleSpans());
    assert.equal(await send(), 200);
    // A new trace and a new circuit: neither the duplicate check nor correlation asked the store.
    const skipped = await metric('store_lookups_skipped_total');
    assert.ok(skipped >= 2, `skipped ${skipped}`);
    const entries = await metric('store_seen_filter_entries');
    assert.ok(entries >= 2, `entries ${entries}`);
    // The request's span bytes are the first segment file's.
    assert.equal(await metric('store_span_segments'), 1);
    // Its one span's bytes as received: the Span message inside the request.
    const [span] = decodeTraceRequest(payload, keyRulesFromConfig(loadConfig({ LOG_LEVEL: 'silent' }))).spans;
    assert.equal(await metric('store_span_segment_bytes'), span!.bytes.byteLength);
    // Sent again: the trace is held, so the duplicate check asks the store, and finds it.
    assert.equal(await send(), 200);
    assert.match((await app.inject('/metrics')).body, /^otlp_ingest_items_total\{signal="traces",outcome="duplicate"\} 1$/m);
    assert.equal(await metric('store_lookups_skipped_total'), skipped);
  });

  it('says whether ingest rows are written by the writer thread', async t => {
    const app = await buildTestApp(t, { STORE_WRITER_THREAD: 'false' });
    assert.match((await app.inject('/metrics')).body, /^store_writer_thread 0$/m);
  });
});
