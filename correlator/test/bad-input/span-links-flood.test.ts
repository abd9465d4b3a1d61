// A span with a very large number of links, inside the body limit: each link was added to its
// trace's list of linked traces after a scan of that list, so 100,000 links took 50 s of the
// event loop (/health with it). The links are still all kept.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { build } from '../helpers/app.js';
import { decodeTraceResponse } from '../helpers/sdk-bodies.js';
import { fixed64, len } from '../fixtures/hand-made-otlp.js';

const PROTOBUF = { 'content-type': 'application/x-protobuf' };

/** ExportTraceServiceRequest with one span of service `links` that links to `links` other traces. */
function spanWithLinks(traceId: Buffer, links: number, startMs: number): Buffer {
  const parts: Buffer[] = [
    len(1, traceId),
    len(2, randomBytes(8)),
    len(5, Buffer.from('fan-in')),
    fixed64(7, startMs),
    fixed64(8, startMs + 1),
  ];
  // Link { trace_id = 1, span_id = 2 }, each into a trace of its own.
  const link = () => len(13, Buffer.concat([len(1, randomBytes(16)), len(2, randomBytes(8))]));
  for (let i = 0; i < links; i++) parts.push(link());
  const resource = len(1, len(1, Buffer.concat([len(1, Buffer.from('service.name')), len(2, len(1, Buffer.from('links')))])));
  return len(1, Buffer.concat([resource, len(2, len(2, Buffer.concat(parts)))]));
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
