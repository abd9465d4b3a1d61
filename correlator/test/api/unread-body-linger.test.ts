// How long the rest of an upload is read after an early error answer (api/unread-body.ts): until
// the client has been quiet for `idleMs`, judged only after what arrived during a stalled event
// loop has been read. A fixed wait in all cut clients a busy process had been reading slowly: they
// saw ECONNRESET, not the refusal that would have made them back off. A small fastify app stands
// in for the correlator so the test can stall its loop; the client is a raw socket.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import Fastify from 'fastify';
import { discardUnreadBody, type LingerBounds } from '../../src/api/unread-body.js';
import { cleanupStack } from '../helpers/cleanup.js';
import { RawConnection } from '../helpers/raw-http.js';

const KiB = 1024;
const BOUNDS: LingerBounds = { idleMs: 200, maxMs: 5000, maxBytes: 4 * 1024 * KiB };
const HEALTH = 'GET /health HTTP/1.1\r\nhost: test\r\n\r\n';

function uploadHead(contentLength: number): string {
  return `POST /refused HTTP/1.1\r\nhost: test\r\ncontent-type: application/octet-stream\r\ncontent-length: ${contentLength}\r\n\r\n`;
}

/** Refuses every upload before reading its body, as the overload guard does. */
async function refusingServer(bounds: LingerBounds): Promise<string> {
  const app = Fastify();
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => {
    // Never read: the answer goes out with the body unread.
    void payload;
    done(null, undefined);
  });
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'POST') return;
    discardUnreadBody(request, reply, bounds);
    await reply.code(503).header('retry-after', '1').send({ message: 'busy' });
  });
  app.get('/health', async () => ({ ok: true }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  cleanup(() => app.close());
  const address = app.server.address();
  assert.ok(address && typeof address === 'object');
  return `http://127.0.0.1:${address.port}`;
}

/** Blocks the event loop, as a burst of ingest work does. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    /* busy */
  }
}

const cleanup = cleanupStack(after);

describe('the rest of an upload after an early answer', { timeout: 30_000 }, () => {
  it('is read even when the loop stalled past the idle bound while it arrived', async () => {
    const url = await refusingServer(BOUNDS);
    const conn = await RawConnection.open(url);
    cleanup(async () => conn.destroy());
    const rest = Buffer.alloc(256 * KiB, 1);
    // The head alone: no byte of the body has come when the wait starts.
    await conn.write(uploadHead(rest.length));
    assert.equal((await conn.response()).status, 503);
    // The kernel takes the bytes at once (loopback buffers hold them); the server reads them only
    // after the stall, by which time its idle timer is long due.
    const written = conn.write(rest);
    stall(BOUNDS.idleMs * 3);
    await written;
    await conn.write(HEALTH);
    const next = await conn.response();
    assert.equal(next.status, 200, next.body.toString('utf8'));
    assert.equal(conn.isClosed, false);
  });

  it('is read from a client that goes on sending for longer than the idle bound in all', async () => {
    const url = await refusingServer(BOUNDS);
    const conn = await RawConnection.open(url);
    cleanup(async () => conn.destroy());
    const piece = Buffer.alloc(8 * KiB, 2);
    const pieces = 10;
    await conn.write(uploadHead(piece.length * (pieces + 1)));
    await conn.write(piece);
    assert.equal((await conn.response()).status, 503);
    for (let i = 0; i < pieces; i++) {
      await sleep(BOUNDS.idleMs / 2);
      await conn.write(piece);
    }
    await conn.write(HEALTH);
    const next = await conn.response();
    assert.equal(next.status, 200, next.body.toString('utf8'));
    assert.equal(conn.isClosed, false);
  });

  it('is given up on once the client has been quiet for the idle bound', async () => {
    const url = await refusingServer(BOUNDS);
    const conn = await RawConnection.open(url);
    cleanup(async () => conn.destroy());
    await conn.write(uploadHead(64 * KiB) + 'x'.repeat(KiB));
    assert.equal((await conn.response()).status, 503);
    await conn.closed;
    assert.equal(conn.isClosed, true);
  });

  it('is given up on after maxMs however steadily the client trickles', async () => {
    const url = await refusingServer({ ...BOUNDS, maxMs: 600 });
    const conn = await RawConnection.open(url);
    cleanup(async () => conn.destroy());
    await conn.write(uploadHead(1024 * KiB) + 'x'.repeat(KiB));
    assert.equal((await conn.response()).status, 503);
    let sent = 0;
    let failure = '';
    // Far longer than maxMs if never cut: 100 pieces, one every idleMs / 2.
    for (let i = 0; i < 100 && !failure && !conn.isClosed; i++) {
      await sleep(BOUNDS.idleMs / 2);
      await conn.write(Buffer.alloc(KiB, 3)).then(
        () => (sent += KiB),
        (e: NodeJS.ErrnoException) => (failure = e.code ?? e.message),
      );
    }
    await conn.closed;
    assert.ok(sent < 100 * KiB, `all ${sent} bytes were taken; the connection was never cut`);
  });
});
