// node's own request timeout (requestTimeout, REQUEST_TIMEOUT_MS counted from the request's first
// byte) cuts an upload whose headers were slow to come before OverloadGuard's timer does (counted
// from the headers). Its 408 was fastify's plain JSON ("Client Timeout") whatever the route and
// encoding, where the guard's answers an OTLP route in the request's encoding naming the setting.
// The headers are whole when it fires, so the route and content type are known: it answers alike.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { listen } from '../helpers/app.js';
import { counterTotal } from '../helpers/http.js';
import { until } from '../helpers/until.js';
import { otlpTypes } from '../../src/otlp/schema.js';

const TIMEOUT_MS = 4000;
/**
 * The headers take this long: node's timer runs out before the guard's, which starts at their end.
 * Node checks its timer every TIMEOUT_MS / 4, so it answers 4.0-5.0 s in, the guard at 6.4 s, and
 * the headers come 1.6 s before node's timer: margins a loaded CI machine keeps (at 2.0/1.4 s the
 * two timers were 0.9 s apart).
 */
const HEADERS_MS = 2400;
const MESSAGE = 'request body not received within REQUEST_TIMEOUT_MS; connection closed';

/**
 * Sends a POST's request line and its headers `HEADERS_MS` apart, then 100 bytes of the 1 MiB body
 * it declares, and nothing more (or stops within the headers when `headersOnly`); resolves with
 * what the server sent once it closes the connection.
 */
function slowUpload(port: number, path: string, contentType: string, headersOnly = false): Promise<{ head: string; body: Buffer; afterMs: number }> {
  return new Promise(resolve => {
    const startedMs = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      resolve({ head: all.subarray(0, end).toString('latin1'), body: all.subarray(end + 4), afterMs: Date.now() - startedMs });
    });
    // Not answered by then, it is not going to be: the client gives up, so a failure is not a hang.
    setTimeout(() => socket.destroy(), 5 * TIMEOUT_MS).unref();
    socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\n`);
    setTimeout(() => {
      if (socket.destroyed || headersOnly) return;
      socket.write(`Content-Type: ${contentType}\r\nContent-Length: 1048576\r\n\r\n`);
      socket.write(Buffer.alloc(100, 0x20));
    }, HEADERS_MS);
  });
}

async function listening(t: Parameters<typeof listen>[0]): Promise<{ port: number; url: string }> {
  // The idle timeout is kept out of the way: only the total one is under test.
  const { app, url } = await listen(t, { REQUEST_TIMEOUT_MS: String(TIMEOUT_MS), REQUEST_IDLE_TIMEOUT_MS: '60000' });
  return { port: (app.server.address() as { port: number }).port, url };
}

const port = async (t: Parameters<typeof listen>[0]) => (await listening(t)).port;

test('node\'s 408 of an OTLP protobuf upload is a protobuf Status naming REQUEST_TIMEOUT_MS', { timeout: 30_000 }, async t => {
  const { port, url } = await listening(t);
  const { head, body, afterMs } = await slowUpload(port, '/v1/traces', 'application/x-protobuf');
  assert.ok(afterMs < HEADERS_MS + TIMEOUT_MS, `answered by node's timer, before the guard's: after ${afterMs} ms`);
  assert.match(head, /^HTTP\/1.1 408 Request Timeout\r\n/);
  assert.match(head, /\r\nContent-Type: application\/x-protobuf\r\n/i, head);
  const status = otlpTypes().RpcStatus.toObject(otlpTypes().RpcStatus.decode(body));
  assert.deepEqual(status, { code: 4, message: MESSAGE });
  // Counted as the 408 the client was answered, as the guard's are, not as the cut body's error.
  await until(async () => ((await counterTotal(url, 'otlp_ingest_requests_total', /outcome="408"/)) === 1 ? true : null), 'the 408 is counted');
});

test('node\'s 408 of an OTLP/JSON upload is a JSON Status, that of another route the API\'s error', { timeout: 30_000 }, async t => {
  const at = await port(t);
  const [otlp, api] = await Promise.all([slowUpload(at, '/v1/logs', 'application/json'), slowUpload(at, '/api/mdso/collect', 'application/json')]);
  for (const { head, afterMs } of [otlp, api]) {
    assert.ok(afterMs < HEADERS_MS + TIMEOUT_MS, `answered by node's timer at REQUEST_TIMEOUT_MS: after ${afterMs} ms`);
    assert.match(head, /^HTTP\/1.1 408 Request Timeout\r\n/);
    assert.match(head, /\r\nContent-Type: application\/json\r\n/i, head);
  }
  assert.deepEqual(JSON.parse(otlp.body.toString('utf8')), { code: 4, message: MESSAGE });
  assert.deepEqual(JSON.parse(api.body.toString('utf8')), { statusCode: 408, error: 'Request Timeout', code: 'CORR_ERR_REQUEST_TIMEOUT', message: MESSAGE });
});

test('node\'s 408 of a request whose headers never all came stays the plain JSON one: no route is known', { timeout: 30_000 }, async t => {
  const { head, body } = await slowUpload(await port(t), '/v1/traces', 'application/x-protobuf', true);
  assert.match(head, /^HTTP\/1.1 408 Request Timeout\r\n/);
  assert.deepEqual(JSON.parse(body.toString('utf8')), { error: 'Request Timeout', message: 'Client Timeout', statusCode: 408 });
});
