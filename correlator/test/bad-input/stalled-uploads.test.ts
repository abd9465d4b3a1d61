// REQUEST_TIMEOUT_MS frees the ingest slots of uploads that stop sending: headers and a first part
// of the body, then nothing (or a trickle). Node checks its own requestTimeout only every 30 s
// (connectionsCheckingInterval), and 70 such uploads kept every other sender at 429 for 150 s
// with the default 120 s timeout, 85 s with a 6 s one. Real sockets, since the point is what the
// server does with connections that stay open.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { listen } from '../helpers/app.js';
import { counterTotal } from '../helpers/http.js';
import { serviceTelemetry } from '../helpers/sdk-bodies.js';
import { until } from '../helpers/until.js';

const PROTOBUF = { 'content-type': 'application/x-protobuf' };

interface StalledUpload {
  socket: net.Socket;
  /** What the server sent back, if anything. */
  received: () => string;
  closed: Promise<void>;
}

/** Headers declaring a 1 MiB body, 100 bytes of it, then nothing more unless `trickle`. */
function stalledUpload(port: number, path: string, trickle: boolean): StalledUpload {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<void>(resolve => socket.once('close', () => resolve()));
  socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 1048576\r\n\r\n`);
  socket.write(Buffer.alloc(100, 0x0a));
  if (trickle) {
    // A few bytes every 100 ms: never idle, never done.
    const every = setInterval(() => (socket.destroyed ? clearInterval(every) : socket.write(Buffer.alloc(4, 0x0a))), 100);
    socket.once('close', () => clearInterval(every));
  }
  return { socket, received: () => received, closed };
}

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
    stalledUpload(address.port, '/v1/traces', false),
    stalledUpload(address.port, '/v1/logs', false),
    stalledUpload(address.port, '/v1/traces', true),
    stalledUpload(address.port, '/api/otlp/v1/traces', true),
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
  const body = (await serviceTelemetry('beorn', Date.now() - 5_000, [{ name: 'POST /slow', startMs: 0, endMs: 1, kind: SpanKind.SERVER }])).traces.protobuf;
  const socket = net.connect(address.port, '127.0.0.1');
  t.after(() => socket.destroy());
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  socket.write(`POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${body.length}\r\n\r\n`);
  const half = Math.floor(body.length / 2);
  socket.write(body.subarray(0, half));
  await new Promise(resolve => setTimeout(resolve, timeoutMs / 2));
  socket.write(body.subarray(half));
  await until(async () => (answer.includes('\r\n\r\n') ? true : null), 'the slow upload is answered');
  assert.ok(answer.startsWith('HTTP/1.1 200'), `the slow but complete upload is taken: ${answer.slice(0, 80)}`);
});
