// REQUEST_IDLE_TIMEOUT_MS frees the ingest slots of uploads whose connection went quiet, long
// before REQUEST_TIMEOUT_MS: with the total alone, a collector behind a broken link held its slots
// for the whole 120 s. An upload that keeps sending, slowly, is left to the total timeout. Real
// sockets, since the point is what the server does with connections that stay open.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { listen } from '../helpers/app.js';
import { counterTotal } from '../helpers/http.js';
import { serviceTelemetry } from '../helpers/sdk-bodies.js';
import { until } from '../helpers/until.js';

const IDLE_MS = 500;

interface Upload {
  socket: net.Socket;
  received: () => string;
  closed: Promise<void>;
}

/** Headers declaring a 1 MiB body and 100 bytes of it, then a few bytes every `trickleMs` if given. */
function upload(port: number, trickleMs?: number): Upload {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<void>(resolve => socket.once('close', () => resolve()));
  socket.write('POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 1048576\r\n\r\n');
  socket.write(Buffer.alloc(100, 0x0a));
  if (trickleMs !== undefined) {
    const every = setInterval(() => (socket.destroyed ? clearInterval(every) : socket.write(Buffer.alloc(4, 0x0a))), trickleMs);
    socket.once('close', () => clearInterval(every));
  }
  return { socket, received: () => received, closed };
}

test('REQUEST_IDLE_TIMEOUT_MS: a quiet upload is answered 408 long before REQUEST_TIMEOUT_MS; a trickling one is left', { timeout: 60_000 }, async t => {
  const { app, url } = await listen(t, {
    MAX_INFLIGHT_REQUESTS: '2',
    REQUEST_TIMEOUT_MS: '20000',
    REQUEST_IDLE_TIMEOUT_MS: String(IDLE_MS),
  });
  const address = app.server.address();
  assert.ok(address && typeof address !== 'string', 'the app listens on TCP');
  const quiet = upload(address.port);
  // Never quiet for IDLE_MS / 5.
  const trickling = upload(address.port, IDLE_MS / 5);
  t.after(() => [quiet, trickling].forEach(u => u.socket.destroy()));
  const startedAt = Date.now();
  await until(async () => ((await counterTotal(url, 'ingest_requests_in_flight')) === 2 ? true : null), 'both uploads hold a slot');

  // Generous, and far below the 20 s total: twenty times the idle timeout.
  let timer: NodeJS.Timeout | undefined;
  const closedInTime = await Promise.race([
    quiet.closed.then(() => true),
    new Promise<boolean>(resolve => (timer = setTimeout(() => resolve(false), 20 * IDLE_MS))),
  ]);
  clearTimeout(timer);
  const elapsed = Date.now() - startedAt;
  assert.ok(closedInTime, `the quiet upload is still open after ${elapsed} ms`);
  assert.ok(elapsed >= IDLE_MS * 0.9, `dropped once quiet for the idle timeout, not before: ${elapsed} ms`);
  assert.ok(quiet.received().startsWith('HTTP/1.1 408'), `answered 408: ${JSON.stringify(quiet.received().slice(0, 80))}`);
  await until(async () => ((await counterTotal(url, 'ingest_requests_in_flight')) === 1 ? true : null), 'its slot is given back');
  // Counted once the cut body's error has run its course, as the 408 the client was answered.
  await until(async () => ((await counterTotal(url, 'otlp_ingest_requests_total', /outcome="408"/)) === 1 ? true : null), 'the 408 is counted');
  assert.equal(await counterTotal(url, 'otlp_ingest_requests_total', /outcome="400"/), 0);

  // The trickling upload has outlived several idle timeouts and still holds its slot.
  await new Promise(resolve => setTimeout(resolve, 4 * IDLE_MS));
  assert.equal(trickling.socket.destroyed, false, `the trickling upload was cut: ${trickling.received().slice(0, 80)}`);
  assert.equal(trickling.received(), '');
  assert.equal(await counterTotal(url, 'ingest_requests_in_flight'), 1);

  // An upload that pauses for less than the idle timeout is taken whole.
  const body = (await serviceTelemetry('beorn', Date.now() - 5_000, [{ name: 'POST /slow', startMs: 0, endMs: 1, kind: SpanKind.SERVER }])).traces.protobuf;
  const socket = net.connect(address.port, '127.0.0.1');
  t.after(() => socket.destroy());
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  socket.write(`POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${body.length}\r\n\r\n`);
  const half = Math.floor(body.length / 2);
  socket.write(body.subarray(0, half));
  await new Promise(resolve => setTimeout(resolve, IDLE_MS / 2));
  socket.write(body.subarray(half));
  await until(async () => (answer.includes('\r\n\r\n') ? true : null), 'the paused upload is answered');
  assert.ok(answer.startsWith('HTTP/1.1 200'), `the paused but complete upload is taken: ${answer.slice(0, 80)}`);
  trickling.socket.destroy();
});
