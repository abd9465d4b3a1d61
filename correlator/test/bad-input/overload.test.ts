// Overload through real HTTP: with MAX_INFLIGHT_REQUESTS=1, a second upload while a slow one holds
// the only slot is refused at once with 429 and Retry-After (before its body is even complete),
// the slow one still completes, and the slot comes back afterwards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { listen } from '../helpers/app.js';
import { counterTotal } from '../helpers/http.js';
import { heldUpload, type HeldUpload, type RawResponse } from '../helpers/raw-http.js';
import { until } from '../helpers/until.js';
import { decodeRpcStatus, decodeTraceResponse, serviceTelemetry } from '../helpers/sdk-bodies.js';

const PROTOBUF = { 'content-type': 'application/x-protobuf' };

/**
 * A half-sent upload holding the only slot. The slot is given back when a reply's connection
 * closes, which the client may see after the reply itself, so first wait for it to be free; then
 * start the upload and wait for the server to count it in.
 */
async function uploadHoldingTheSlot(url: string, body: Uint8Array): Promise<{ holder: HeldUpload; response: Promise<RawResponse> }> {
  const inFlight = () => counterTotal(url, 'ingest_requests_in_flight');
  await until(async () => ((await inFlight()) === 0 ? true : null), 'no ingest request in flight');
  const holder = heldUpload(`${url}/v1/traces`, PROTOBUF, body);
  let settled = false;
  // Handled here too: an upload the test later abandons ends in a rejection nobody awaits.
  holder.response.then(
    () => (settled = true),
    () => (settled = true),
  );
  await until(async () => (settled || (await inFlight()) === 1 ? true : null), 'the held upload in flight');
  if (settled) {
    const early = await holder.response;
    assert.fail(`the held upload was answered ${early.status} while holding nothing: ${early.body.toString('utf8')}`);
  }
  return { holder, response: holder.response };
}

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

  // The in-flight gauge tells when the server has admitted the held upload; nothing else is in
  // flight meanwhile, so no probe can take the slot first.
  const { holder, response: holderResponse } = await uploadHoldingTheSlot(url, await body());
  const firstRefusal = await quick();
  assert.equal(firstRefusal.status, 429, Buffer.from(firstRefusal.body).toString('utf8'));
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
  assert.ok((await counterTotal(url, 'overload_refusals_total')) >= refusalsBefore + 2, '(await counterTotal(url, \'overload_refusals_total\')) >= refusalsBefore + 2');
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
    // A half-sent upload holds the only slot (a quick request is refused)...
    const { holder: abandonedUpload } = await uploadHoldingTheSlot(url, await body());
    assert.equal(await quick(), 429, 'a quick request while the upload holds the slot');
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

test('MAX_INFLIGHT_BYTES: bodies past the budget at once get 503 with Retry-After; one is always let through', async t => {
  const { app } = await listen(t, { MAX_INFLIGHT_BYTES: String(1024 * 1024) });
  // ~600 KiB each: two do not fit in the budget together.
  const bodies = await Promise.all(
    Array.from({ length: 6 }, async (_, i) =>
      (
        await serviceTelemetry('beorn', Date.now() - 10_000 + i, [
          {
            name: 'POST /big',
            startMs: 0,
            endMs: 10,
            kind: SpanKind.SERVER,
            // Under MAX_ATTRIBUTE_VALUE_BYTES each, so the span is stored (its write is awaited).
            attributes: { circuit_id: `bytes-${i}`, ...Object.fromEntries(Array.from({ length: 10 }, (_, k) => [`blob${k}`, 'b'.repeat(60 * 1024)])) },
          },
        ])
      ).traces.protobuf,
    ),
  );
  const post = (body: Uint8Array) => app.inject({ method: 'POST', url: '/v1/traces', headers: PROTOBUF, payload: Buffer.from(body) });
  const answers = await Promise.all(bodies.map(post));
  const statuses = answers.map(a => a.statusCode);
  assert.ok(statuses.includes(200) && statuses.includes(503), `statuses ${statuses.join(', ')}`);
  assert.ok(statuses.every(s => s === 200 || s === 503), `statuses ${statuses.join(', ')}`);
  const refused = answers.find(a => a.statusCode === 503)!;
  assert.equal(refused.headers['retry-after'], '2');
  assert.match(decodeRpcStatus(refused.rawPayload).message, /MAX_INFLIGHT_BYTES/);
  // Held bytes are given back: the refused ones go through one by one.
  for (const [i, a] of answers.entries()) if (a.statusCode === 503) assert.equal((await post(bodies[i]!)).statusCode, 200);
  // A body larger than the whole budget alone is let through.
  const huge = await serviceTelemetry('beorn', Date.now() - 5_000, [
    {
      name: 'POST /huge',
      startMs: 0,
      endMs: 10,
      kind: SpanKind.SERVER,
      attributes: Object.fromEntries(Array.from({ length: 20 }, (_, k) => [`blob${k}`, 'h'.repeat(60 * 1024)])),
    },
  ]);
  assert.ok(huge.traces.protobuf.length > 1024 * 1024, 'the body is larger than the budget');
  assert.equal((await post(huge.traces.protobuf)).statusCode, 200);
});
