// REQUEST_IDLE_TIMEOUT_MS frees the ingest slots of uploads whose connection went quiet, long
// before REQUEST_TIMEOUT_MS: with the total alone, a collector behind a broken link held its slots
// for the whole 120 s. An upload that keeps sending, slowly, is left to the total timeout. Real
// sockets, since the point is what the server does with connections that stay open.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listen } from '../helpers/app.js';
import { counterTotal } from '../helpers/http.js';
import { until } from '../helpers/until.js';
import { otlpTypes } from '../../src/otlp/schema.js';
import { pausedUpload, stalledUpload } from '../helpers/raw-uploads.js';

const IDLE_MS = 500;

test('REQUEST_IDLE_TIMEOUT_MS: a quiet upload is answered 408 long before REQUEST_TIMEOUT_MS; a trickling one is left', { timeout: 60_000 }, async t => {
  const { app, url } = await listen(t, {
    MAX_INFLIGHT_REQUESTS: '2',
    REQUEST_TIMEOUT_MS: '20000',
    REQUEST_IDLE_TIMEOUT_MS: String(IDLE_MS),
  });
  const address = app.server.address();
  assert.ok(address && typeof address !== 'string', 'the app listens on TCP');
  const quiet = stalledUpload(address.port, '/v1/traces');
  // Never quiet for IDLE_MS / 5.
  const trickling = stalledUpload(address.port, '/v1/traces', IDLE_MS / 5);
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
  // Its body says why, as an OTLP error: a Status in the request's encoding.
  const [head, body = ''] = quiet.received().split('\r\n\r\n');
  assert.match(head!, /\r\nContent-Type: application\/x-protobuf\r\n/i);
  const t408 = otlpTypes().RpcStatus;
  const status = t408.toObject(t408.decode(Buffer.from(body, 'latin1'))) as { code: number; message: string };
  assert.deepEqual(status, { code: 4, message: 'request body not received within REQUEST_IDLE_TIMEOUT_MS; connection closed' });
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
  const answer = await pausedUpload(address.port, IDLE_MS / 2, socket => t.after(() => socket.destroy()));
  assert.ok(answer.startsWith('HTTP/1.1 200'), `the paused but complete upload is taken: ${answer.slice(0, 80)}`);
  trickling.socket.destroy();
});

test('REQUEST_IDLE_TIMEOUT_MS: the 408 of an OTLP/JSON upload is a JSON Status, that of the log batch API its error', { timeout: 60_000 }, async t => {
  const { app } = await listen(t, { REQUEST_TIMEOUT_MS: '20000', REQUEST_IDLE_TIMEOUT_MS: String(IDLE_MS) });
  const address = app.server.address();
  assert.ok(address && typeof address !== 'string', 'the app listens on TCP');
  const uploads = [stalledUpload(address.port, '/v1/logs', undefined, 'application/json'), stalledUpload(address.port, '/api/logs', undefined, 'application/json')];
  t.after(() => uploads.forEach(u => u.socket.destroy()));
  await Promise.all(uploads.map(u => u.closed));
  const [otlp, batch] = uploads.map(u => {
    const [head, body = ''] = u.received().split('\r\n\r\n');
    assert.match(head!, /^HTTP\/1.1 408 Request Timeout\r\n/);
    assert.match(head!, /\r\nContent-Type: application\/json\r\n/i);
    return JSON.parse(body) as Record<string, unknown>;
  });
  const message = 'request body not received within REQUEST_IDLE_TIMEOUT_MS; connection closed';
  assert.deepEqual(otlp, { code: 4, message });
  assert.deepEqual(batch, { statusCode: 408, error: 'Request Timeout', code: 'CORR_ERR_REQUEST_TIMEOUT', message });
});
