// Bad input through real HTTP against the correlator running as its own process. After every
// case the process must still be alive and must accept a good export: a bad request may be
// refused, never fatal.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { deflateSync, gzipSync } from 'node:zlib';
import { SpanKind } from '@opentelemetry/api';
import { startServer, type ChildServer } from '../helpers/child-server.js';
import { cleanupStack, tempDir } from '../helpers/cleanup.js';
import { headOnlyPost, streamingPost } from '../helpers/raw-http.js';
import { decodeLogsResponse, decodeRpcStatus, decodeTraceResponse, serviceTelemetry, type ServiceTelemetry } from '../helpers/sdk-bodies.js';

const MiB = 1024 * 1024;
const MAX_BODY_BYTES = 8 * MiB;
const PROTOBUF = { 'content-type': 'application/x-protobuf' };
const JSON_CT = { 'content-type': 'application/json' };

interface Answer {
  status: number;
  headers: Headers;
  body: Uint8Array;
  text: string;
}

async function post(base: string, path: string, body: Uint8Array | string, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(base + path, { method: 'POST', body, headers });
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body: bytes, text: Buffer.from(bytes).toString('utf8') };
}

async function get(base: string, path: string): Promise<Answer & { json: () => { message: string } }> {
  const res = await fetch(base + path);
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: Buffer.from(text),
    text,
    json: () => JSON.parse(text) as { message: string },
  };
}

// The timeout only keeps a hung connection from stalling the suite; nothing asserts on time.
describe('bad input against a correlator process', { timeout: 120_000 }, () => {
  const cleanup = cleanupStack(after);
  let server: ChildServer;
  let good: ServiceTelemetry;
  let seq = 0;
  const baseMs = Date.now() - 30_000;

  /** A fresh, valid export from the SDK must be fully accepted and be queryable afterwards. */
  async function assertStillServing(): Promise<void> {
    assert.equal(server.child.exitCode, null, `correlator exited:\n${server.output()}`);
    const fresh = await serviceTelemetry('beorn', baseMs + ++seq, [
      { name: 'GET /health-probe', startMs: 0, endMs: 5, kind: SpanKind.SERVER, attributes: { circuit_id: `serving-${seq}` } },
    ]);
    const r = await post(server.url, '/v1/traces', fresh.traces.protobuf, PROTOBUF);
    assert.equal(r.status, 200, `good export after a bad one: ${r.status} ${r.text}`);
    assert.equal(decodeTraceResponse(r.body).partialSuccess?.rejectedSpans ?? 0, 0);
    const t = await get(server.url, `/api/traces/${fresh.traceId}`);
    assert.equal(t.status, 200, `the good export is stored: ${t.text}`);
  }

  before(async () => {
    server = await startServer(cleanup, { DATA_DIR: await tempDir(cleanup), MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
    good = await serviceTelemetry('beorn', baseMs, [
      {
        name: 'POST /beorn/api/v1/service/create',
        startMs: 0,
        endMs: 100,
        kind: SpanKind.SERVER,
        attributes: { circuit_id: 'bad-input-1' },
        logs: [{ atMs: 1, body: 'request received', attributes: { circuit_id: 'bad-input-1' } }],
      },
      { name: 'POST mdso', startMs: 10, endMs: 90, kind: SpanKind.CLIENT, parent: 0, attributes: { circuit_id: 'bad-input-1' } },
    ]);
  });

  it('truncated protobuf traces → 400 with a google.rpc.Status naming the truncation', async () => {
    for (const cut of [1, 7, Math.floor(good.traces.protobuf.length / 2)]) {
      const body = good.traces.protobuf.subarray(0, good.traces.protobuf.length - cut);
      const r = await post(server.url, '/v1/traces', body, PROTOBUF);
      assert.equal(r.status, 400, `cut ${cut}: ${r.text}`);
      assert.match(r.headers.get('content-type') ?? '', /^application\/x-protobuf/);
      const status = decodeRpcStatus(r.body);
      assert.equal(status.code, 3, 'INVALID_ARGUMENT');
      assert.match(status.message, /truncated/i);
      await assertStillServing();
    }
  });

  it('truncated protobuf logs → 400 with a google.rpc.Status', async () => {
    const body = good.logs.protobuf.subarray(0, good.logs.protobuf.length - 3);
    const r = await post(server.url, '/v1/logs', body, PROTOBUF);
    assert.equal(r.status, 400, r.text);
    assert.match(decodeRpcStatus(r.body).message, /truncated/i);
    await assertStillServing();
  });

  it('wrong content type → 415 naming it', async () => {
    for (const ct of ['text/plain', 'application/xml', 'application/grpc']) {
      const r = await post(server.url, '/v1/traces', good.traces.protobuf, { 'content-type': ct });
      assert.equal(r.status, 415, `${ct}: ${r.text}`);
      assert.ok(r.text.includes(ct), `message names ${ct}: ${r.text}`);
      await assertStillServing();
    }
  });

  it('invalid JSON → 400 in JSON', async () => {
    const valid = Buffer.from(good.traces.json).toString('utf8');
    for (const body of [valid.slice(0, valid.length - 5), '{"resourceSpans": [', 'null,']) {
      const r = await post(server.url, '/v1/traces', body, JSON_CT);
      assert.equal(r.status, 400, `${body.slice(0, 30)}: ${r.text}`);
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
      assert.match((JSON.parse(r.text) as { message: string }).message, /JSON/);
      await assertStillServing();
    }
  });

  it('non-hex ids in JSON → 200 with partial_success naming the field', async () => {
    for (const field of ['traceId', 'spanId'] as const) {
      const request = JSON.parse(Buffer.from(good.traces.json).toString('utf8')) as {
        resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }>;
      };
      const spans = request.resourceSpans[0]!.scopeSpans[0]!.spans;
      const victim = spans[0]!;
      victim[field] = 'zz' + String(victim[field]).slice(2);
      const r = await post(server.url, '/v1/traces', JSON.stringify(request), JSON_CT);
      assert.equal(r.status, 200, r.text);
      const ps = (JSON.parse(r.text) as { partialSuccess?: { rejectedSpans: string; errorMessage: string } }).partialSuccess;
      assert.ok(ps, `partialSuccess expected: ${r.text}`);
      assert.equal(Number(ps.rejectedSpans), 1);
      assert.ok(ps.errorMessage.includes(field), `message names ${field}: ${ps.errorMessage}`);
      await assertStillServing();
    }
  });

  it('non-numeric 64-bit fields in JSON → partial_success naming the field', async () => {
    for (const [field, mutate] of [
      ['startTimeUnixNano', (sp: Record<string, unknown>) => (sp.startTimeUnixNano = 'soon')],
      ['intValue', (sp: Record<string, unknown>) => (sp.attributes as unknown[]).push({ key: 'retries', value: { intValue: 'abc' } })],
    ] as const) {
      const fresh = await serviceTelemetry('beorn', baseMs + 7000 + field.length, [
        { name: 'POST /int64', startMs: 0, endMs: 5, attributes: { circuit_id: `bad-input-${field}` } },
      ]);
      const request = JSON.parse(Buffer.from(fresh.traces.json).toString('utf8')) as {
        resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }>;
      };
      mutate(request.resourceSpans[0]!.scopeSpans[0]!.spans[0]!);
      const r = await post(server.url, '/v1/traces', JSON.stringify(request), JSON_CT);
      assert.equal(r.status, 200, r.text);
      const ps = (JSON.parse(r.text) as { partialSuccess?: { errorMessage: string } }).partialSuccess;
      assert.ok(ps?.errorMessage.includes(field), `${field}: ${r.text}`);
    }
  });

  it('a gzip bomb (1 GiB of zeros, streamed) → 413 and the process RSS stays bounded', async t => {
    // 1024 concatenated gzip members of 1 MiB of zeros: about 1 MiB on the wire, 1 GiB inflated.
    const member = gzipSync(Buffer.alloc(MiB));
    const members = 1024;
    const before = server.memory();
    const r = await streamingPost(
      `${server.url}/v1/traces`,
      { ...PROTOBUF, 'content-encoding': 'gzip' },
      Readable.from(
        (function* () {
          for (let i = 0; i < members; i++) yield member;
        })(),
      ),
    );
    assert.equal(r.status, 413, r.body.toString('utf8'));
    assert.match(decodeRpcStatus(r.body).message, /MAX_BODY_BYTES/);
    const afterBomb = server.memory();
    // Inflating the bomb would need ≥ 1 GiB; stopping at the limit needs a few times 8 MiB.
    const growth = afterBomb.peak - before.peak;
    t.diagnostic(
      `gzip bomb: ${r.bytesWritten} of ${member.length * members} compressed bytes written before the 413; ` +
        `peak RSS ${(before.peak / MiB).toFixed(0)} → ${(afterBomb.peak / MiB).toFixed(0)} MiB`,
    );
    assert.ok(growth < 256 * MiB, `peak RSS grew by ${(growth / MiB).toFixed(0)} MiB`);
    await assertStillServing();
  });

  it('an oversized body → 413, with and without Content-Length', async () => {
    // Judged by the declared length: the answer comes before any body byte is sent.
    const r = await headOnlyPost(`${server.url}/v1/traces`, { ...PROTOBUF, 'content-length': String(MAX_BODY_BYTES + 1024) });
    assert.equal(r.status, 413, r.body.toString('utf8'));
    assert.match(decodeRpcStatus(r.body).message, /MAX_BODY_BYTES/);
    await assertStillServing();

    const chunk = Buffer.alloc(MiB);
    const chunked = await streamingPost(
      `${server.url}/v1/logs`,
      PROTOBUF,
      Readable.from(
        (function* () {
          for (let i = 0; i < 12; i++) yield chunk;
        })(),
      ),
    );
    assert.equal(chunked.status, 413, chunked.body.toString('utf8'));
    await assertStillServing();

    const json = await streamingPost(
      `${server.url}/v1/traces`,
      JSON_CT,
      Readable.from([Buffer.from(JSON.stringify({ resourceSpans: [], pad: 'x'.repeat(MAX_BODY_BYTES) }))]),
    );
    assert.equal(json.status, 413, json.body.toString('utf8'));
    assert.match(json.headers['content-type'] ?? '', /^application\/json/);
    await assertStillServing();
  });

  it('a 5 MB attribute value (limit 64 KiB) → 200 with partial_success naming the attribute', async () => {
    const huge = await serviceTelemetry('arda', baseMs + 1000, [
      { name: 'get_topology', startMs: 0, endMs: 10, kind: SpanKind.SERVER, attributes: { circuit_id: 'bad-input-2' } },
      { name: 'load', startMs: 1, endMs: 9, parent: 0, attributes: { circuit_id: 'bad-input-2', 'topology.dump': 'x'.repeat(5_000_000) } },
    ]);
    const r = await post(server.url, '/v1/traces', huge.traces.protobuf, PROTOBUF);
    assert.equal(r.status, 200, r.text);
    const ps = decodeTraceResponse(r.body).partialSuccess;
    assert.equal(ps?.rejectedSpans, 1, JSON.stringify(ps));
    assert.ok(ps?.errorMessage?.includes('topology.dump'), `names the attribute: ${ps?.errorMessage}`);
    // The sibling span in the same request is kept.
    const kept = await get(server.url, `/api/traces/${huge.traceId}`);
    assert.equal(kept.status, 200, kept.text);
    const spans = (JSON.parse(kept.text) as { spans: Array<{ name: string }> }).spans;
    assert.deepEqual(
      spans.map(s => s.name),
      ['get_topology'],
    );
    await assertStillServing();

    const hugeLog = await serviceTelemetry('arda', baseMs + 2000, [
      {
        name: 'get_topology',
        startMs: 0,
        endMs: 10,
        kind: SpanKind.SERVER,
        logs: [
          { atMs: 1, body: 'fine', attributes: { circuit_id: 'bad-input-3' } },
          { atMs: 2, body: 'dump', attributes: { circuit_id: 'bad-input-3', 'topology.dump': 'y'.repeat(5_000_000) } },
        ],
      },
    ]);
    const lr = await post(server.url, '/v1/logs', hugeLog.logs.protobuf, PROTOBUF);
    assert.equal(lr.status, 200, lr.text);
    const lps = decodeLogsResponse(lr.body).partialSuccess;
    assert.equal(lps?.rejectedLogRecords, 1, JSON.stringify(lps));
    assert.match(lps?.errorMessage ?? '', /over the limit/);
    await assertStillServing();
  });

  it('corrupt gzip → 400 naming the encoding', async () => {
    const zipped = gzipSync(good.traces.protobuf);
    const corrupt = Buffer.from(zipped);
    // Flip bytes inside the deflate stream and cut the trailer.
    for (let i = 12; i < Math.min(corrupt.length - 8, 40); i++) corrupt[i] = corrupt[i]! ^ 0xff;
    for (const [what, body] of [
      ['bit-flipped', corrupt],
      ['cut short', zipped.subarray(0, zipped.length - 6)],
      ['not gzip at all', Buffer.from(good.traces.protobuf)],
    ] as const) {
      const r = await post(server.url, '/v1/traces', body, { ...PROTOBUF, 'content-encoding': 'gzip' });
      assert.equal(r.status, 400, `${what}: ${r.text}`);
      assert.match(decodeRpcStatus(r.body).message, /gzip/, what);
      await assertStillServing();
    }
  });

  it('deflate bodies are accepted, corrupt deflate → 400', async () => {
    const fresh = await serviceTelemetry('mdso', baseMs + 3000, [
      { name: 'mdso.product.ServiceMapper', startMs: 0, endMs: 10, attributes: { circuit_id: 'bad-input-deflate' } },
    ]);
    const ok = await post(server.url, '/v1/traces', deflateSync(fresh.traces.protobuf), { ...PROTOBUF, 'content-encoding': 'deflate' });
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await get(server.url, `/api/traces/${fresh.traceId}`)).status, 200);
    const bad = await post(server.url, '/v1/traces', gzipSync(fresh.traces.protobuf), { ...PROTOBUF, 'content-encoding': 'deflate' });
    assert.equal(bad.status, 400, bad.text);
    assert.match(decodeRpcStatus(bad.body).message, /deflate/);
    await assertStillServing();
  });

  it('a 5 MB log attribute → partial_success naming the attribute', async () => {
    const hugeLog = await serviceTelemetry('arda', baseMs + 4000, [
      {
        name: 'get_topology',
        startMs: 0,
        endMs: 10,
        logs: [{ atMs: 2, body: 'dump', attributes: { circuit_id: 'bad-input-4', 'topology.dump': 'y'.repeat(5_000_000) } }],
      },
    ]);
    const r = await post(server.url, '/v1/logs', hugeLog.logs.protobuf, PROTOBUF);
    assert.equal(r.status, 200, r.text);
    const ps = decodeLogsResponse(r.body).partialSuccess;
    assert.ok(ps?.errorMessage?.includes('topology.dump'), `names the attribute: ${ps?.errorMessage}`);
  });

  it('an unsupported Content-Encoding → 415 naming it', async () => {
    const r = await post(server.url, '/v1/traces', good.traces.protobuf, { ...PROTOBUF, 'content-encoding': 'br' });
    assert.equal(r.status, 415, r.text);
    assert.match(decodeRpcStatus(r.body).message, /"br"/);
    // A list is allowed by HTTP but no OTLP client encodes twice: said so, not "unsupported gzip".
    const twice = await post(server.url, '/v1/traces', good.traces.protobuf, { ...PROTOBUF, 'content-encoding': 'gzip, gzip' });
    assert.equal(twice.status, 415, twice.text);
    assert.match(decodeRpcStatus(twice.body).message, /"gzip, gzip": a body encoded more than once is not taken/);
    // identity in a list is no encoding: the body is gzip (RV19: refused as encoded twice).
    const withIdentity = await post(server.url, '/v1/traces', gzipSync(good.traces.protobuf), { ...PROTOBUF, 'content-encoding': 'gzip, identity' });
    assert.equal(withIdentity.status, 200, withIdentity.text);
    await assertStillServing();
  });

  it('GET, PUT and DELETE on the receivers → 405 with Allow: POST', async () => {
    for (const path of ['/v1/traces', '/v1/logs', '/api/otlp/v1/traces', '/api/otlp/v1/logs']) {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const res = await fetch(server.url + path, { method });
        const text = await res.text();
        assert.equal(res.status, 405, `${method} ${path}: ${text}`);
        assert.equal(res.headers.get('allow'), 'POST');
      }
    }
    await assertStillServing();
  });

  it('bad query parameters → 400 naming the parameter', async () => {
    for (const path of [
      '/api/circuits?from=yesterday',
      '/api/correlations?from=yesterday',
      '/api/logs?from=yesterday',
      '/api/circuits?to=tomorrow',
      '/api/circuits?limit=lots',
      '/api/correlations?trace_id=not-a-trace',
    ]) {
      const r = await get(server.url, path);
      assert.equal(r.status, 400, `${path}: ${r.text}`);
      const param = /\?(\w+)=/.exec(path)![1]!;
      assert.ok(r.json().message.includes(param), `${path}: message names ${param}: ${r.json().message}`);
    }
    const range = await get(server.url, `/api/logs?from=${Date.now()}&to=${Date.now() - 60_000}`);
    assert.equal(range.status, 400, range.text);
    await assertStillServing();
  });

  it('circuit ids up to the documented 512 characters can be queried; longer ones → 400 naming the parameter', async () => {
    // Fastify's router refuses path parameters over 100 characters by default (414) unless told otherwise.
    for (const id of ['L'.repeat(101), 'é'.repeat(512)]) {
      const tel = await serviceTelemetry('beorn', baseMs + 5000 + id.length, [
        { name: 'POST /long', startMs: 0, endMs: 5, kind: SpanKind.SERVER, attributes: { circuit_id: id } },
      ]);
      const r = await post(server.url, '/v1/traces', tel.traces.protobuf, PROTOBUF);
      assert.equal(r.status, 200, r.text);
      for (const suffix of ['', '/trace', '/logs']) {
        const q = await get(server.url, `/api/circuits/${encodeURIComponent(id)}${suffix}`);
        assert.equal(q.status, 200, `${id.length} characters, ${suffix || 'detail'}: ${q.text.slice(0, 200)}`);
      }
    }
    const tooLong = await get(server.url, `/api/circuits/${'L'.repeat(513)}`);
    assert.equal(tooLong.status, 400, tooLong.text.slice(0, 200));
    assert.match(tooLong.json().message, /id/);
    await assertStillServing();
  });

  it('unknown circuit or trace → 404 naming it', async () => {
    for (const path of ['/api/circuits/no-such-circuit', '/api/circuits/no-such-circuit/trace']) {
      const r = await get(server.url, path);
      assert.equal(r.status, 404, `${path}: ${r.text}`);
      assert.match(r.json().message, /no-such-circuit/);
    }
    const missing = 'ab'.repeat(16);
    const t = await get(server.url, `/api/traces/${missing}`);
    assert.equal(t.status, 404, t.text);
    assert.ok(t.json().message.includes(missing), 't.json().message.includes(missing)');
    await assertStillServing();
  });
});
