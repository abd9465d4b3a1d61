// The body as fastify's reader sees it after decompressBody: the inflated bytes, or an error with
// the status to answer. The source is fed chunk by chunk, one 'data' event each, the way a socket
// delivers an upload; "before the end" means the error came while the source was still open.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { setTimeout as delay, setImmediate as nextTurn } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import type { FastifyRequest } from 'fastify';
import { abandonBodyReader } from '../../src/api/body-readers.js';
import {
  decompressBody,
  SYNC_INFLATE_MAX_BYTES,
} from '../../src/api/body-decompression.js';

const KiB = 1024;
const LIMIT = 256 * KiB;

interface Outcome {
  body?: Buffer;
  error?: Error & { statusCode?: number; code?: string };
  /** How many source chunks had been written when the outcome arrived. */
  afterChunks: number;
  receivedEncodedLength: number;
  inflatingOn: string;
}

function fakeRequest(
  source: PassThrough,
  headers: Record<string, string>,
  limit = LIMIT,
): FastifyRequest {
  return { headers, routeOptions: { bodyLimit: limit }, raw: source } as unknown as FastifyRequest;
}

/**
 * Writes the chunks one turn (or `gapMs`) apart, reading the decoded stream the way fastify does.
 * The gap gives the thread pool's inflater time to answer before the next chunk.
 */
async function upload(
  chunks: Buffer[],
  headers: Record<string, string>,
  { limit = LIMIT, gapMs = 0 }: { limit?: number; gapMs?: number } = {},
): Promise<Outcome> {
  const source = new PassThrough();
  const decoded = (await decompressBody(
    fakeRequest(source, headers, limit),
    source,
  )) as Readable & {
    receivedEncodedLength?: number;
    inflatingOn?: string;
  };
  let written = 0;
  const outcome = new Promise<Outcome>(resolve => {
    const parts: Buffer[] = [];
    const settle = (o: Pick<Outcome, 'body' | 'error'>): void =>
      resolve({
        ...o,
        afterChunks: written,
        receivedEncodedLength: decoded.receivedEncodedLength ?? -1,
        inflatingOn: decoded.inflatingOn ?? 'none',
      });
    decoded.on('data', (c: Buffer) => parts.push(c));
    decoded.on('end', () => settle({ body: Buffer.concat(parts) }));
    decoded.on('error', error => settle({ error }));
  });
  let settled = false;
  void outcome.then(() => (settled = true));
  for (const c of chunks) {
    await (gapMs ? delay(gapMs) : nextTurn());
    if (settled) break;
    source.write(c);
    written++;
  }
  await nextTurn();
  if (!settled) source.end();
  return outcome;
}

function pieces(bytes: Buffer, n: number): Buffer[] {
  const size = Math.ceil(bytes.length / n);
  return Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) =>
    bytes.subarray(i * size, (i + 1) * size),
  );
}

/** Bytes that do not compress to nothing, like a real OTLP batch. */
function batchLike(size: number): Buffer {
  const b = Buffer.alloc(size);
  let x = 12345;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = i % 7 === 0 ? x >>> 24 : 0x61 + (i % 13);
  }
  return b;
}

/** An upload that should come out as `expected`. */
interface InflateCase {
  title: string;
  chunks: Buffer[];
  headers: Record<string, string>;
  expected: Buffer;
}

describe('decompressBody', () => {
  const plain = batchLike(200 * KiB);
  const gz = gzipSync(plain);
  const valid: InflateCase[] = [
    {
      title: 'gzip in one chunk',
      chunks: [gz],
      headers: { 'content-encoding': 'gzip', 'content-length': String(gz.length) },
      expected: plain,
    },
    {
      title: 'gzip in 2 chunks',
      chunks: pieces(gz, 2),
      headers: { 'content-encoding': 'gzip', 'content-length': String(gz.length) },
      expected: plain,
    },
    {
      title: 'gzip in 37 chunks, chunked (no length)',
      chunks: pieces(gz, 37),
      headers: { 'content-encoding': 'gzip' },
      expected: plain,
    },
    {
      title: 'gzip, one byte per chunk for the first 40',
      chunks: [...pieces(gz.subarray(0, 40), 40), gz.subarray(40)],
      headers: { 'content-encoding': 'x-gzip' },
      expected: plain,
    },
    {
      title: 'concatenated gzip members',
      chunks: pieces(
        Buffer.concat([gzipSync(plain.subarray(0, 1000)), gzipSync(plain.subarray(1000))]),
        5,
      ),
      headers: { 'content-encoding': 'gzip' },
      expected: plain,
    },
    {
      title: 'deflate in 9 chunks',
      chunks: pieces(deflateSync(plain), 9),
      headers: { 'content-encoding': ' Deflate ' },
      expected: plain,
    },
    {
      // Some clients send "deflate" without its zlib wrapper.
      title: 'raw deflate (no zlib header) in 9 chunks',
      chunks: pieces(deflateRawSync(plain), 9),
      headers: { 'content-encoding': 'deflate' },
      expected: plain,
    },
    {
      title: 'gzip inflating to exactly the limit',
      chunks: pieces(gzipSync(Buffer.alloc(LIMIT, 7)), 3),
      headers: { 'content-encoding': 'gzip' },
      expected: Buffer.alloc(LIMIT, 7),
    },
  ];
  for (const c of valid) {
    it(`inflates ${c.title}`, async () => {
      const o = await upload(c.chunks, c.headers);
      assert.equal(o.error, undefined, `${c.title}: ${o.error?.message}`);
      assert.ok(
        o.body?.equals(c.expected),
        `${c.title}: ${o.body?.length} bytes, expected ${c.expected.length}`,
      );
      assert.equal(o.inflatingOn, 'main thread', 'a body within the bound is inflated in one call');
      assert.equal(
        o.receivedEncodedLength,
        Buffer.concat(c.chunks).length,
        'compressed bytes counted for the Content-Length check',
      );
    });
  }

  it('hands an identity body through untouched', async () => {
    const source = new PassThrough();
    assert.equal(
      await decompressBody(fakeRequest(source, { 'content-encoding': 'identity' }), source),
      source,
    );
    assert.equal(await decompressBody(fakeRequest(source, {}), source), source);
  });

  it('refuses an encoding it does not know with 415, naming it', async () => {
    const source = new PassThrough();
    await assert.rejects(
      decompressBody(fakeRequest(source, { 'content-encoding': 'br' }), source),
      (e: Error & { statusCode?: number }) => {
        assert.equal(e.statusCode, 415);
        assert.match(e.message, /"br"/);
        return true;
      },
    );
  });

  const bomb = gzipSync(Buffer.alloc(LIMIT * 64));
  const incompressible = gzipSync(randomBytes(LIMIT * 2));
  const refused: Array<{
    title: string;
    chunks: Buffer[];
    headers: Record<string, string>;
    status: number;
    message?: RegExp;
    before?: number;
  }> = [
    {
      title: 'a bomb with its length declared, refused on its first chunk',
      chunks: pieces(bomb, 4),
      headers: { 'content-encoding': 'gzip', 'content-length': String(bomb.length) },
      status: 413,
      before: 1,
    },
    {
      title: 'a chunked bomb',
      chunks: pieces(bomb, 4),
      headers: { 'content-encoding': 'gzip' },
      status: 413,
      before: 1,
    },
    {
      title: 'a bomb sent whole',
      chunks: [bomb],
      headers: { 'content-encoding': 'gzip', 'content-length': String(bomb.length) },
      status: 413,
    },
    {
      title: 'one byte over the limit',
      chunks: [gzipSync(Buffer.alloc(LIMIT + 1, 7))],
      headers: { 'content-encoding': 'gzip' },
      status: 413,
    },
    {
      title: 'more compressed bytes than the limit, refused before the rest is sent',
      chunks: [
        ...pieces(incompressible.subarray(0, LIMIT + 10), 8),
        ...pieces(incompressible.subarray(LIMIT + 10), 4),
      ],
      headers: { 'content-encoding': 'gzip' },
      status: 413,
      before: 8,
    },
    {
      title: 'garbage, refused on its first chunk',
      chunks: [Buffer.from('not gzip at all'), Buffer.from('more of it')],
      headers: { 'content-encoding': 'gzip', 'content-length': '25' },
      status: 400,
      message: /not valid gzip: incorrect header check/,
      before: 1,
    },
    {
      title: 'a gzip member followed by garbage, refused on the garbage',
      chunks: [gzipSync(plain.subarray(0, 1000)), Buffer.alloc(4 * KiB, 0x5a), ...pieces(gz, 6)],
      headers: { 'content-encoding': 'gzip' },
      status: 400,
      message: /not valid gzip: incorrect header check \(the body is not gzip, or bytes that are not gzip follow its end\)/,
      before: 2,
    },
    {
      title: 'a truncated gzip stream',
      chunks: pieces(gz.subarray(0, gz.length - 10), 3),
      headers: { 'content-encoding': 'gzip' },
      status: 400,
      message: /not valid gzip: unexpected end of file/,
    },
    {
      title: 'gzip sent as deflate',
      chunks: [gz],
      headers: { 'content-encoding': 'deflate' },
      status: 400,
      message: /not valid deflate/,
    },
  ];
  for (const c of refused) {
    it(`refuses ${c.title} with ${c.status}`, async () => {
      const o = await upload(c.chunks, c.headers);
      assert.ok(o.error, `${c.title}: inflated to ${o.body?.length} bytes`);
      assert.equal(o.error.statusCode, c.status, `${c.title}: ${o.error.message}`);
      if (c.status === 413)
        assert.equal(
          o.error.code,
          'FST_ERR_CTP_BODY_TOO_LARGE',
          'the code fastify gives its own limit',
        );
      if (c.message) assert.match(o.error.message, c.message);
      if (c.before !== undefined) {
        assert.ok(
          o.afterChunks <= c.before,
          `${c.title}: refused after ${o.afterChunks} of ${c.chunks.length} chunks`,
        );
      }
    });
  }

  it('stops reading an abandoned body and lets its source be read by someone else', async () => {
    const source = new PassThrough();
    const decoded = await decompressBody(
      fakeRequest(source, { 'content-encoding': 'gzip' }),
      source,
    );
    decoded.resume();
    await nextTurn();
    source.write(gz.subarray(0, 100));
    await nextTurn();
    abandonBodyReader(source as unknown as IncomingMessage);
    assert.equal(source.listenerCount('data'), 0, 'no listener left on the source');
    assert.ok(decoded.destroyed, 'the decoded stream is destroyed');
  });

  describe("a body that inflates past the main thread's share, under a larger limit", () => {
    const MiB = 1024 * KiB;
    const limit = SYNC_INFLATE_MAX_BYTES * 2;
    const big = batchLike(SYNC_INFLATE_MAX_BYTES + MiB);
    const bigGz = gzipSync(big);
    const within = batchLike(MiB);
    const cases: Array<InflateCase & { on: string }> = [
      {
        title: 'whole',
        chunks: [bigGz],
        headers: { 'content-encoding': 'gzip', 'content-length': String(bigGz.length) },
        expected: big,
        on: 'thread pool',
      },
      {
        title: 'in 6 chunks, chunked',
        chunks: pieces(bigGz, 6),
        headers: { 'content-encoding': 'gzip' },
        expected: big,
        on: 'thread pool',
      },
      {
        title: 'deflate in 3 chunks',
        chunks: pieces(deflateSync(big), 3),
        headers: { 'content-encoding': 'deflate' },
        expected: big,
        on: 'thread pool',
      },
      {
        title: 'raw deflate in 3 chunks',
        chunks: pieces(deflateRawSync(big), 3),
        headers: { 'content-encoding': 'deflate' },
        expected: big,
        on: 'thread pool',
      },
      {
        title: 'within the bound',
        chunks: pieces(gzipSync(within), 4),
        headers: { 'content-encoding': 'gzip' },
        expected: within,
        on: 'main thread',
      },
    ];
    for (const c of cases) {
      it(`inflates it ${c.title} (on the ${c.on})`, async () => {
        const o = await upload(c.chunks, c.headers, { limit });
        assert.equal(o.error, undefined, `${c.title}: ${o.error?.message}`);
        assert.ok(
          o.body?.equals(c.expected),
          `${c.title}: ${o.body?.length} bytes, expected ${c.expected.length}`,
        );
        assert.equal(o.inflatingOn, c.on);
      });
    }

    it('refuses a bomb with 413 before the rest is sent', async () => {
      const bomb = gzipSync(Buffer.alloc(limit * 4));
      // The thread pool inflates while the chunks arrive: 300 ms apart, so a machine busy with
      // other work still shows the refusal coming before the rest (30 ms, then 100 ms, were flaky
      // with the load average at 20 to 30 on two cores). Waiting for each chunk's output instead
      // hangs: the inflater may hold a chunk's output until more input comes.
      const o = await upload(pieces(bomb, 8), { 'content-encoding': 'gzip' }, { limit, gapMs: 300 });
      assert.equal(
        o.error?.statusCode,
        413,
        o.error?.message ?? `inflated to ${o.body?.length} bytes`,
      );
      assert.equal(o.error.code, 'FST_ERR_CTP_BODY_TOO_LARGE');
      assert.equal(o.inflatingOn, 'thread pool');
      assert.ok(o.afterChunks <= 4, `refused after ${o.afterChunks} of 8 chunks`);
    });

    it('refuses garbage after the bound with 400, naming the encoding', async () => {
      const chunks = [...pieces(bigGz, 4), Buffer.alloc(4 * KiB, 0x5a)];
      const o = await upload(chunks, { 'content-encoding': 'gzip' }, { limit, gapMs: 30 });
      assert.equal(
        o.error?.statusCode,
        400,
        o.error?.message ?? `inflated to ${o.body?.length} bytes`,
      );
      assert.match(o.error.message, /not valid gzip/);
    });

    it("stops the thread pool's inflater when the body is abandoned", async () => {
      const source = new PassThrough();
      const decoded = (await decompressBody(
        fakeRequest(source, { 'content-encoding': 'gzip' }, limit),
        source,
      )) as Readable & {
        inflatingOn?: string;
      };
      decoded.resume();
      await nextTurn();
      source.write(bigGz.subarray(0, bigGz.length - 1000));
      await nextTurn();
      assert.equal(decoded.inflatingOn, 'thread pool');
      abandonBodyReader(source as unknown as IncomingMessage);
      assert.equal(source.listenerCount('data'), 0, 'no listener left on the source');
      assert.ok(decoded.destroyed, 'the decoded stream is destroyed');
    });
  });
});
