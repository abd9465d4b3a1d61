// REQUEST_TIMEOUT_MS frees the ingest slots of uploads that stop sending: headers and a first part
// of the body, then nothing (or a trickle). Node checks its own requestTimeout only every 30 s
// (connectionsCheckingInterval), and 70 such uploads kept every other sender at 429 for 150 s
// with the default 120 s timeout, 85 s with a 6 s one. Real sockets, since the point is what the
// server does with connections that stay open.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { listen } from '../helpers/app.js';
import { counterTotal } from '../helpers/http.js';
import { serviceTelemetry } from '../helpers/sdk-bodies.js';
import { until } from '../helpers/until.js';
import { pausedUpload, stalledUpload } from '../helpers/raw-uploads.js';

const PROTOBUF = { 'content-type': 'application/x-protobuf' };

test('REQUEST_TIMEOUT_MS: uploads that stall or trickle are dropped at the timeout and their slots given back', { timeout: 120_000 }, async t => {
  const timeoutMs = 1000;
  const { app, url } = await listen(t, { MAX_INFLIGHT_REQUESTS: '4', REQUEST_TIMEOUT_MS: String(timeoutMs) });
  const address = app.server.address();
  assert.ok(address && typeof address !== 'string', 'the app listens on TCP');
  let n = 0;
  const send = async () => {
    const body = (
      await serviceTelemetry('arda', Date.now() - 10_000 + ++n, [
        { name: 'get_topology', startMs: 0, endMs: 1, kind: SpanKind.SERVER, attributes: { circuit_id: `stalled-${n}` } },
      ])
    ).traces.protobuf;
    return (await fetch(`${url}/v1/traces`, { method: 'POST', body, headers: PROTOBUF })).status;
  };

  const stalled = [
    stalledUpload(address.port, '/v1/traces'),
    stalledUpload(address.port, '/v1/logs'),
    stalledUpload(address.port, '/v1/traces', 100),
    stalledUpload(address.port, '/api/otlp/v1/traces', 100),
  ];
  t.after(() => stalled.forEach(s => s.socket.destroy()));
  const startedAt = Date.now();
  await until(async () => ((await counterTotal(url, 'ingest_requests_in_flight')) === 4 ? true : null), 'the four uploads hold every slot');
  assert.equal(await send(), 429, 'while the stalled uploads hold every slot, a sender is refused');

  // Generous: ten times the timeout. Without our own timer node dropped them after up to 30 s more.
  const bound = 10 * timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const closedInTime = await Promise.race([
    Promise.all(stalled.map(s => s.closed)).then(() => true),
    new Promise<boolean>(resolve => (timer = setTimeout(() => resolve(false), bound))),
  ]);
  clearTimeout(timer);
  const elapsed = Date.now() - startedAt;
  // Cut from this side too before failing, so the app can close.
  if (!closedInTime) for (const s of stalled) s.socket.destroy();
  assert.ok(closedInTime, `stalled uploads still open after ${bound} ms`);
  assert.ok(elapsed >= timeoutMs * 0.9, `dropped at the timeout, not before it: ${elapsed} ms`);
  for (const [i, s] of stalled.entries()) {
    assert.ok(s.received() === '' || s.received().startsWith('HTTP/1.1 408'), `upload ${i} was answered 408 or not at all: ${JSON.stringify(s.received().slice(0, 80))}`);
  }
  await until(async () => ((await counterTotal(url, 'ingest_requests_in_flight')) === 0 ? true : null), 'the slots are given back');
  // Counted as the 408 the clients were answered, not as the 400 the cut body raised (found by a review).
  const answered408 = stalled.filter(s => s.received().startsWith('HTTP/1.1 408')).length;
  assert.ok(answered408 > 0, 'at least one stalled upload was answered 408');
  assert.equal(await counterTotal(url, 'otlp_ingest_requests_total', /outcome="408"/), answered408);
  assert.equal(await counterTotal(url, 'otlp_ingest_requests_total', /outcome="400"/), 0);
  assert.equal(await send(), 200, 'once they are dropped, a sender is taken');

  // An upload that pauses but is complete within the timeout is taken whole.
  const answer = await pausedUpload(address.port, timeoutMs / 2, socket => t.after(() => socket.destroy()));
  assert.ok(answer.startsWith('HTTP/1.1 200'), `the slow but complete upload is taken: ${answer.slice(0, 80)}`);
});
