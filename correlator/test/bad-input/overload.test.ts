// Overload through real HTTP: with MAX_INFLIGHT_REQUESTS=1, a second upload while a slow one holds
// the only slot is refused at once with 429 and Retry-After (before its body is even complete),
// the slow one still completes, and the slot comes back afterwards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { listen } from '../helpers/app.js';
import { counterTotal } from '../helpers/http.js';
import { heldUpload, type HeldUpload, type RawResponse } from '../helpers/raw-http.js';
import { decodeRpcStatus, decodeTraceResponse, serviceTelemetry } from '../helpers/sdk-bodies.js';

const PROTOBUF = { 'content-type': 'application/x-protobuf' };

test('MAX_INFLIGHT_REQUESTS=1: concurrent slow uploads get 429 with Retry-After; the held one completes', { timeout: 120_000 }, async t => {
  const { url } = await listen(t, { MAX_INFLIGHT_REQUESTS: '1' });
  let n = 0;
  const body = async () =>
    (
      await serviceTelemetry('beorn', Date.now() - 10_000 + ++n, [
        { name: 'POST /slow', startMs: 0, endMs: 10, kind: SpanKind.SERVER, attributes: { circuit_id: `overload-${n}` } },
      ])
    ).traces.protobuf;
  const quick = async () => {
    const res = await fetch(`${url}/v1/traces`, { method: 'POST', body: await body(), headers: PROTOBUF });
    return { status: res.status, headers: res.headers, body: new Uint8Array(await res.arrayBuffer()) };
  };
  const refusalsBefore = await counterTotal(url, 'overload_refusals_total');

  // Nothing tells a client when the server has admitted a request, so probe: while the held
  // upload has not taken the slot, a quick request gets through (200); once it has, the quick
  // one is refused. If a probe happened to hold the slot when the upload's head arrived, the
  // upload itself is refused: start a new one.
  let holder: HeldUpload | null = null;
  let holderResponse: Promise<RawResponse> | null = null;
  let firstRefusal: Awaited<ReturnType<typeof quick>> | null = null;
  for (let attempt = 0; attempt < 20 && !firstRefusal; attempt++) {
    holder = heldUpload(`${url}/v1/traces`, PROTOBUF, await body());
    let settled = false;
    holderResponse = holder.response.finally(() => (settled = true));
    for (let probe = 0; probe < 1000 && !settled; probe++) {
      const r = await quick();
      if (r.status === 429) {
        firstRefusal = r;
        break;
      }
      assert.equal(r.status, 200, Buffer.from(r.body).toString('utf8'));
    }
    if (!firstRefusal) {
      if (!settled) {
        holder.abort();
        assert.fail('1000 requests got through while a slow upload held the only slot');
      }
      const refused = await holderResponse;
      assert.equal(refused.status, 429, 'a held upload only ends early when it was refused');
    }
  }
  assert.ok(firstRefusal && holder && holderResponse, 'the held upload never took the slot');
  assert.match(firstRefusal.headers.get('retry-after') ?? '', /^[1-9]\d*$/, 'Retry-After in whole seconds');
  assert.equal(decodeRpcStatus(firstRefusal.body).code, 8, 'RESOURCE_EXHAUSTED');
  assert.match(decodeRpcStatus(firstRefusal.body).message, /concurrent/);

  // A second slow upload is refused on its head alone, without sending the rest of its body.
  const second = heldUpload(`${url}/v1/traces`, PROTOBUF, await body());
  const refused = await second.response;
  second.abort();
  assert.equal(refused.status, 429);
  assert.match(String(refused.headers['retry-after'] ?? ''), /^[1-9]\d*$/);
  assert.match(String(refused.headers['content-type'] ?? ''), /^application\/x-protobuf/);

  // The slow upload that holds the slot completes normally.
  holder.finish();
  const held = await holderResponse;
  assert.equal(held.status, 200, held.body.toString('utf8'));
  assert.equal(decodeTraceResponse(held.body).partialSuccess?.rejectedSpans ?? 0, 0);

  // And the slot is free again.
  const after = await quick();
  assert.equal(after.status, 200, Buffer.from(after.body).toString('utf8'));
  assert.ok((await counterTotal(url, 'overload_refusals_total')) >= refusalsBefore + 2);
});

test('an upload the client abandons half-way gives its slot back', { timeout: 120_000 }, async t => {
  const { url } = await listen(t, { MAX_INFLIGHT_REQUESTS: '1' });
  let n = 0;
  const body = async () =>
    (
      await serviceTelemetry('arda', Date.now() - 10_000 + ++n, [
        { name: 'get_topology', startMs: 0, endMs: 1, kind: SpanKind.SERVER, attributes: { circuit_id: `abandon-${n}` } },
      ])
    ).traces.protobuf;
  const quick = async () => (await fetch(`${url}/v1/traces`, { method: 'POST', body: await body(), headers: PROTOBUF })).status;

  for (let round = 0; round < 3; round++) {
    // Wait until a half-sent upload holds the only slot (a quick request is refused). If a probe
    // held the slot when the upload's head arrived, the upload itself was refused: start another.
    let abandoned: HeldUpload | null = null;
    let status = 0;
    for (let attempt = 0; attempt < 20 && status !== 429; attempt++) {
      const candidate = heldUpload(`${url}/v1/traces`, PROTOBUF, await body());
      let settled = false;
      candidate.response.then(
        () => (settled = true),
        () => (settled = true),
      );
      for (let probe = 0; probe < 1000 && status !== 429 && !settled; probe++) status = await quick();
      if (status === 429) abandoned = candidate;
      else candidate.abort();
    }
    assert.equal(status, 429, 'the held upload never took the slot');
    const abandonedUpload = abandoned!;
    // ...then drop the connection without finishing the body.
    abandonedUpload.abort();
    // The server learns of the drop asynchronously: poll until the slot is back, and fail if it
    // never is (a leaked slot would refuse every later request).
    const seen: number[] = [];
    for (let probe = 0; probe < 200 && seen.at(-1) !== 200; probe++) {
      seen.push(await quick());
      if (seen.at(-1) !== 200) await new Promise(resolve => setImmediate(resolve));
    }
    assert.equal(seen.at(-1), 200, `round ${round}: slot never came back: ${seen.slice(-5).join(',')}`);
  }
});
