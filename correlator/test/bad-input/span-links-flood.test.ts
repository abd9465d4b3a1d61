// A span with a very large number of links, inside the body limit: each link was added to its
// trace's list of linked traces after a scan of that list, so 100,000 links took 50 s of the
// event loop (/health with it). The links are still all kept.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { build } from '../helpers/app.js';
import { decodeTraceResponse } from '../helpers/sdk-bodies.js';

const PROTOBUF = { 'content-type': 'application/x-protobuf' };

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

const field = (num: number, body: Buffer) => Buffer.concat([varint((num << 3) | 2), varint(body.length), body]);

function fixed64(num: number, value: bigint): Buffer {
  const b = Buffer.alloc(9);
  b[0] = (num << 3) | 1;
  b.writeBigUInt64LE(value, 1);
  return b;
}

/** ExportTraceServiceRequest with one span of service `links` that links to `links` other traces. */
function spanWithLinks(traceId: Buffer, links: number, startMs: number): Buffer {
  const parts: Buffer[] = [
    field(1, traceId),
    field(2, randomBytes(8)),
    field(5, Buffer.from('fan-in')),
    fixed64(7, BigInt(startMs) * 1_000_000n),
    fixed64(8, BigInt(startMs + 1) * 1_000_000n),
  ];
  // Link { trace_id = 1, span_id = 2 }, each into a trace of its own.
  const link = () => field(13, Buffer.concat([field(1, randomBytes(16)), field(2, randomBytes(8))]));
  for (let i = 0; i < links; i++) parts.push(link());
  const resource = field(1, field(1, Buffer.concat([field(1, Buffer.from('service.name')), field(2, field(1, Buffer.from('links')))])));
  return field(1, Buffer.concat([resource, field(2, field(2, Buffer.concat(parts)))]));
}

test('a span with 100,000 links is ingested in linear time', { timeout: 300_000 }, async t => {
  const app = await build(t);
  const traceId = randomBytes(16);
  const body = spanWithLinks(traceId, 100_000, Date.now() - 10_000);
  // CPU time, not wall time: the machine running the tests may be shared.
  const before = process.cpuUsage();
  const res = await app.inject({ method: 'POST', url: '/v1/traces', headers: PROTOBUF, payload: body });
  const used = process.cpuUsage(before);
  const tookMs = Math.round((used.user + used.system) / 1000);
  t.diagnostic(`100,000 links: ${tookMs} ms of CPU`);
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(Number(decodeTraceResponse(res.rawPayload).partialSuccess?.rejectedSpans ?? 0), 0, 'the span is taken');
  // Linear work is two or three seconds of CPU; the scan per link took 50 s.
  assert.ok(tookMs < 10_000, `100,000 links took ${tookMs} ms of CPU`);
  const hex = traceId.toString('hex');
  const detail = await app.inject({ method: 'GET', url: `/api/traces/${hex}` });
  assert.equal(detail.statusCode, 200, detail.body);
  const linksOut = (detail.json() as { linksOut: unknown[] }).linksOut;
  assert.equal(linksOut.length, 100_000, 'every link is kept');
});
