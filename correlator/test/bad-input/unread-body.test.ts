// An error answered mid-upload must reach a client that is still writing. Closing at once would
// reset the connection under the client, which then sees EPIPE and not our status. The server
// reads the rest of the body for a bounded time and amount instead, and cuts only a client that
// goes on past those bounds. Raw sockets, because a client library hides resets and reuse.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { startServer, type ChildServer } from '../helpers/child-server.js';
import { cleanupStack, tempDir } from '../helpers/cleanup.js';
import { RawConnection } from '../helpers/raw-http.js';

const KiB = 1024;
const MAX_BODY_BYTES = 64 * KiB;

function head(path: string, headers: Record<string, string | number>): string {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  return [`POST ${path} HTTP/1.1`, 'host: correlator', ...lines, '', ''].join('\r\n');
}

const HEALTH = 'GET /health HTTP/1.1\r\nhost: correlator\r\n\r\n';

function chunk(bytes: Uint8Array): Buffer {
  return Buffer.concat([
    Buffer.from(`${bytes.length.toString(16)}\r\n`),
    bytes,
    Buffer.from('\r\n'),
  ]);
}

interface UploadCase {
  name: string;
  status: number;
  /** Everything up to the point where the server can already answer. */
  first: Buffer;
  /** The rest of the upload, sent only after the answer was read. */
  rest: Buffer;
}

const oversized = Buffer.alloc(MAX_BODY_BYTES + 16 * KiB, 7);
const garbage = Buffer.alloc(16 * KiB, 0x5a);
const cases: UploadCase[] = [
  {
    name: 'a body over MAX_BODY_BYTES with Content-Length',
    status: 413,
    first: Buffer.concat([
      Buffer.from(
        head('/v1/traces', {
          'content-type': 'application/x-protobuf',
          'content-length': oversized.length + 96 * KiB,
        }),
      ),
      oversized,
    ]),
    rest: Buffer.alloc(96 * KiB, 7),
  },
  {
    name: 'a chunked body over MAX_BODY_BYTES',
    status: 413,
    first: Buffer.concat([
      Buffer.from(
        head('/v1/logs', {
          'content-type': 'application/x-protobuf',
          'transfer-encoding': 'chunked',
        }),
      ),
      chunk(oversized),
    ]),
    rest: Buffer.concat([
      chunk(Buffer.alloc(40 * KiB, 1)),
      chunk(Buffer.alloc(40 * KiB, 2)),
      Buffer.from('0\r\n\r\n'),
    ]),
  },
  {
    name: 'a gzip body that is not gzip',
    status: 400,
    first: Buffer.concat([
      Buffer.from(
        head('/v1/traces', {
          'content-type': 'application/x-protobuf',
          'content-encoding': 'gzip',
          'content-length': garbage.length * 3,
        }),
      ),
      garbage,
    ]),
    rest: Buffer.alloc(garbage.length * 2, 0x5a),
  },
  {
    name: 'a gzip body that inflates past MAX_BODY_BYTES',
    status: 413,
    ...(() => {
      const bomb = gzipSync(Buffer.alloc(MAX_BODY_BYTES * 8));
      const cut = Math.floor(bomb.length / 2);
      return {
        first: Buffer.concat([
          Buffer.from(
            head('/v1/traces', {
              'content-type': 'application/x-protobuf',
              'content-encoding': 'gzip',
              'content-length': bomb.length,
            }),
          ),
          bomb.subarray(0, cut),
        ]),
        rest: bomb.subarray(cut),
      };
    })(),
  },
];

// The timeout only keeps a hung connection from stalling the suite; nothing asserts on time.
describe('an error answered while the client is still uploading', { timeout: 60_000 }, () => {
  const cleanup = cleanupStack(after);
  let server: ChildServer;

  before(async () => {
    server = await startServer(cleanup, {
      DATA_DIR: await tempDir(cleanup),
      MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    });
  });

  for (const c of cases) {
    it(`${c.name} → ${c.status}; the rest of the upload is read and the connection serves the next request`, async () => {
      const conn = await RawConnection.open(server.url);
      cleanup(async () => conn.destroy());
      await conn.write(c.first);
      const answer = await conn.response();
      assert.equal(answer.status, c.status, answer.body.toString('utf8'));
      // A server that closed after answering would reset these writes.
      await conn.write(c.rest);
      await conn.write(HEALTH);
      const next = await conn.response();
      assert.equal(next.status, 200, next.body.toString('utf8'));
      assert.equal(conn.isClosed, false);
    });
  }

  it('a client that stops sending after the answer has its connection closed', async () => {
    const conn = await RawConnection.open(server.url);
    cleanup(async () => conn.destroy());
    const declared = head('/v1/traces', {
      'content-type': 'application/x-protobuf',
      'content-length': MAX_BODY_BYTES * 4,
    });
    await conn.write(Buffer.concat([Buffer.from(declared), oversized]));
    assert.equal((await conn.response()).status, 413);
    await conn.closed;
  });

  it('a client that goes on sending far past the limit is cut off', async () => {
    const conn = await RawConnection.open(server.url);
    cleanup(async () => conn.destroy());
    const MiB = 1024 * KiB;
    const declared = 256 * MiB;
    await conn.write(
      head('/v1/traces', { 'content-type': 'application/x-protobuf', 'content-length': declared }),
    );
    const answer = conn.response();
    // Drained whole, the body would leave the connection open and every byte written. The byte
    // bound (16 MiB here) must cut it; loopback socket buffers can hold a few dozen MiB more.
    const piece = Buffer.alloc(MiB, 3);
    let sent = 0;
    let failure = '';
    while (sent < declared && !failure) {
      await conn.write(piece).then(
        () => (sent += piece.length),
        (e: NodeJS.ErrnoException) => (failure = e.code ?? e.message),
      );
    }
    assert.equal((await answer).status, 413);
    assert.ok(failure, `all ${sent} bytes were taken; the connection was never cut`);
    assert.ok(sent < declared, 'sent < declared');
    await conn.closed;
  });

  it('still serves after all of it', async () => {
    const r = await fetch(`${server.url}/health`);
    assert.equal(r.status, 200);
    assert.equal(server.child.exitCode, null, server.output());
  });
});
