// MAX_INFLIGHT_BYTES through a listening server: the bytes of ingest bodies are counted as they
// arrive (as received and as inflated), so parallel gzip bombs and uploads past the budget are
// stopped while they come, a Content-Length that does not fit is refused before its body is read
// (and before a client that expects 100-continue is told to send it), and every byte is given back
// when its request ends, however it ends.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { SpanKind } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import { listen } from '../helpers/app.js';
import { counterTotal } from '../helpers/http.js';
import {
  RawConnection,
  headOnlyPost,
  heldUpload,
  streamingPost,
  type RawResponse,
} from '../helpers/raw-http.js';
import { decodeRpcStatus, serviceTelemetry } from '../helpers/sdk-bodies.js';
import { until } from '../helpers/until.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const PROTOBUF = { 'content-type': 'application/x-protobuf' };

let n = 0;
/** A valid OTLP traces body of about `bytes`: one span and an unknown field the decoder skips. */
async function tracesOfSize(bytes: number): Promise<Buffer> {
  const body = (
    await serviceTelemetry('beorn', Date.now() - 10_000 + ++n, [
      {
        name: 'POST /sized',
        startMs: 0,
        endMs: 10,
        kind: SpanKind.SERVER,
        attributes: { circuit_id: `sized-${n}` },
      },
    ])
  ).traces.protobuf;
  const padLength = Math.max(0, bytes - body.length - 8);
  return Buffer.concat([
    body,
    varint((99 << 3) | 2),
    varint(padLength),
    Buffer.alloc(padLength, 0x41),
  ]);
}

function varint(value: number): Buffer {
  const out: number[] = [];
  let v = value;
  while (v > 127) {
    out.push((v & 127) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

/** `bytes` in pieces of `size`, `gapMs` apart: an upload that takes a while, as over a network. */
function trickle(bytes: Buffer, size: number, gapMs: number): Readable {
  return Readable.from(
    (async function* () {
      for (let at = 0; at < bytes.length; at += size) {
        if (at > 0) await delay(gapMs);
        yield bytes.subarray(at, at + size);
      }
    })(),
  );
}

function head(path: string, headers: Record<string, string | number>): string {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  return [`POST ${path} HTTP/1.1`, 'host: correlator', ...lines, '', ''].join('\r\n');
}

const bodyBytes = (app: FastifyInstance) => app.correlator.overload.bodyBytes;

/** Every byte given back, and the gauge says so. */
async function nothingHeld(app: FastifyInstance, url: string): Promise<void> {
  await until(async () => (bodyBytes(app).held === 0 ? true : null), 'no body bytes held');
  assert.equal(await counterTotal(url, 'ingest_body_bytes_in_flight'), 0);
  await until(
    async () => ((await counterTotal(url, 'ingest_requests_in_flight')) === 0 ? true : null),
    'no request in flight',
  );
}

async function acceptsNormalIngest(url: string): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${url}/v1/traces`, {
      method: 'POST',
      body: await tracesOfSize(4 * KiB),
      headers: PROTOBUF,
    });
    assert.equal(res.status, 200, await res.text());
  }
}

/** Fails instead of waiting for a body that was never sent. */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  return Promise.race([p, delay(ms).then(() => assert.fail(`${what}: no answer within ${ms} ms`))]);
}

test(
  'parallel gzip bombs on every ingest route: each refused 503 or 413 while it arrives, the budget never passed',
  { timeout: 120_000 },
  async t => {
    const budget = 32 * MiB;
    // Over the main thread's 8 MiB share, so the bombs go on in the streaming inflater, chunk by chunk.
    const { app, url } = await listen(t, {
      MAX_INFLIGHT_BYTES: String(budget),
      MAX_BODY_BYTES: String(16 * MiB),
    });
    const bomb = gzipSync(Buffer.alloc(64 * MiB), { level: 9 });
    const routes = [
      { path: '/v1/traces', type: 'application/x-protobuf' },
      { path: '/api/otlp/v1/logs', type: 'application/json' },
      { path: '/api/logs', type: 'application/json' },
    ];
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => {
        const route = routes[i % routes.length]!;
        const headers = { 'content-type': route.type, 'content-encoding': 'gzip' };
        return streamingPost(`${url}${route.path}`, headers, trickle(bomb, 4 * KiB, 5)).then(a => ({
          ...a,
          route,
        }));
      }),
    );
    const statuses = answers.map(a => a.status);
    assert.ok(
      statuses.every(s => s === 413 || s === 503),
      `statuses ${statuses.join(', ')}`,
    );
    assert.ok(
      statuses.includes(503),
      `some bombs were stopped by MAX_INFLIGHT_BYTES: ${statuses.join(', ')}`,
    );
    for (const a of answers.filter(x => x.status === 503)) {
      assert.equal(a.headers['retry-after'], '2');
      // OTLP routes answer google.rpc.Status in the request's encoding, /api/logs its ErrorResponse.
      const message =
        a.route.type === 'application/json'
          ? (JSON.parse(a.body.toString('utf8')) as { message: string }).message
          : decodeRpcStatus(a.body).message;
      assert.match(message, /MAX_INFLIGHT_BYTES/);
      assert.match(
        String(a.headers['content-type']),
        a.route.type === 'application/json' ? /^application\/json/ : /^application\/x-protobuf/,
      );
    }
    // A refused chunk is never counted, and one bomb alone stops at MAX_BODY_BYTES, under the budget.
    assert.ok(
      bodyBytes(app).peak <= budget,
      `peak ${bodyBytes(app).peak} over the budget ${budget}`,
    );
    await nothingHeld(app, url);
    await acceptsNormalIngest(url);
  },
);

test(
  'past what is left of the budget: a Content-Length is 503 at once, body unread, no 100 Continue; a chunked body as it arrives',
  { timeout: 60_000 },
  async t => {
    const { app, url } = await listen(t, { MAX_INFLIGHT_BYTES: String(MiB) });
    const holderBody = await tracesOfSize(600 * KiB);
    const holder = await RawConnection.open(url);
    // Closed before the app (its close waits for unfinished requests), pass or fail.
    const connections = [holder];
    try {
      await holder.write(head('/v1/traces', { ...PROTOBUF, 'content-length': holderBody.length }));
      await holder.write(holderBody.subarray(0, 100 * KiB));
      await until(
        async () => (bodyBytes(app).held >= holderBody.length ? true : null),
        'the holder counted in by its Content-Length',
      );

      // Only the head is sent: the answer can come only from the declared length.
      const refused = await within(
        5000,
        'head only',
        headOnlyPost(`${url}/v1/traces`, { ...PROTOBUF, 'content-length': String(600 * KiB) }),
      );
      assert.equal(refused.status, 503, refused.body.toString('latin1'));
      assert.equal(refused.headers['retry-after'], '2');
      assert.match(decodeRpcStatus(refused.body).message, /MAX_INFLIGHT_BYTES.*retry shortly/);

      const expectFirst = async (
        headers: Record<string, string | number>,
      ): Promise<RawResponse> => {
        const c = await RawConnection.open(url);
        try {
          await c.write(head('/v1/traces', { ...PROTOBUF, expect: '100-continue', ...headers }));
          return await within(5000, 'expect 100-continue', c.response());
        } finally {
          c.destroy();
        }
      };
      const overBudget = await expectFirst({ 'content-length': 600 * KiB });
      assert.equal(overBudget.status, 503, 'answered at once, without telling the client to send');
      assert.equal(overBudget.headers['retry-after'], '2');
      const overLimit = await expectFirst({ 'content-length': 10_000_000_000 });
      assert.equal(
        overLimit.status,
        413,
        'a Content-Length over MAX_BODY_BYTES is refused without 100 Continue',
      );
      assert.match(decodeRpcStatus(overLimit.body).message, /MAX_BODY_BYTES, 67108864 bytes/);

      // A chunked body says nothing of its size: it is stopped once what arrived passes the budget.
      const chunked = await streamingPost(
        `${url}/v1/traces`,
        PROTOBUF,
        trickle(await tracesOfSize(700 * KiB), 32 * KiB, 2),
      );
      assert.equal(chunked.status, 503, chunked.body.toString('latin1'));
      assert.equal(chunked.headers['retry-after'], '2');
      assert.match(
        decodeRpcStatus(chunked.body).message,
        /had reached .* MiB as it arrived \(limit MAX_INFLIGHT_BYTES/,
      );

      await holder.write(holderBody.subarray(100 * KiB));
      const held = await within(10_000, 'the holder', holder.response());
      assert.equal(held.status, 200, held.body.toString('latin1'));

      // Alone, the same declared length is told to go on, and goes through.
      const fits = await RawConnection.open(url);
      connections.push(fits);
      const body = await tracesOfSize(600 * KiB);
      await fits.write(
        head('/v1/traces', { ...PROTOBUF, expect: '100-continue', 'content-length': body.length }),
      );
      assert.equal((await within(5000, '100 Continue', fits.response())).status, 100);
      await fits.write(body);
      assert.equal((await within(10_000, 'the upload', fits.response())).status, 200);
      await nothingHeld(app, url);
    } finally {
      for (const c of connections) c.destroy();
    }
  },
);

test(
  'every byte is given back however requests end: refused, aborted, timed out',
  { timeout: 120_000 },
  async t => {
    const { app, url } = await listen(t, {
      MAX_INFLIGHT_BYTES: String(MiB),
      REQUEST_TIMEOUT_MS: '1000',
    });
    const big = await tracesOfSize(700 * KiB);
    const half = big.subarray(0, 350 * KiB);
    // Stalls after half its body: cut at REQUEST_TIMEOUT_MS.
    const stalled = await RawConnection.open(url);
    t.after(() => stalled.destroy());
    await stalled.write(head('/v1/traces', { ...PROTOBUF, 'content-length': big.length }));
    await stalled.write(half);
    for (let round = 0; round < 10; round++) {
      // A chunked upload counted as it arrives, then abandoned half-way.
      const abandoned = heldUpload(`${url}/v1/traces`, PROTOBUF, big);
      abandoned.response.catch(() => undefined);
      // One declared, one chunked and one gzip: each passes what is left of the budget.
      const outcomes = await Promise.all([
        headOnlyPost(`${url}/v1/traces`, { ...PROTOBUF, 'content-length': String(big.length) }),
        streamingPost(`${url}/v1/logs`, PROTOBUF, trickle(big, 64 * KiB, 2)),
        streamingPost(
          `${url}/api/logs`,
          { 'content-type': 'application/json', 'content-encoding': 'gzip' },
          trickle(gzipSync(Buffer.alloc(4 * MiB, 0x20)), 1 * KiB, 2),
        ),
      ]);
      for (const o of outcomes)
        assert.ok(
          [200, 400, 413, 503].includes(o.status),
          `round ${round}: ${o.status} ${o.body.toString('latin1')}`,
        );
      abandoned.abort();
    }
    const timedOut = await within(10_000, 'the stalled upload', stalled.response());
    assert.equal(timedOut.status, 408);
    await nothingHeld(app, url);
    await acceptsNormalIngest(url);
  },
);

test(
  'a body alone may pass the budget up to MAX_BODY_BYTES, plain or gzip, declared or chunked',
  { timeout: 120_000 },
  async t => {
    const { app, url } = await listen(t, {
      MAX_INFLIGHT_BYTES: String(MiB),
      MAX_BODY_BYTES: String(12 * MiB),
    });
    const body = await tracesOfSize(10 * MiB);
    const gzip = gzipSync(body);
    const sends: Array<[string, () => Promise<{ status: number; body: Buffer }>]> = [
      [
        'plain, Content-Length',
        () =>
          streamingPost(
            `${url}/v1/traces`,
            { ...PROTOBUF, 'content-length': String(body.length) },
            trickle(body, 256 * KiB, 1),
          ),
      ],
      [
        'plain, chunked',
        () => streamingPost(`${url}/v1/traces`, PROTOBUF, trickle(body, 256 * KiB, 1)),
      ],
      [
        'gzip, chunked',
        () =>
          streamingPost(
            `${url}/v1/traces`,
            { ...PROTOBUF, 'content-encoding': 'gzip' },
            trickle(gzip, 4 * KiB, 1),
          ),
      ],
    ];
    for (const [what, send] of sends) {
      const answer = await send();
      assert.equal(answer.status, 200, `${what}: ${answer.body.toString('latin1')}`);
      await nothingHeld(app, url);
    }
    // The gzip upload held its compressed bytes and what they inflated to, and both were counted.
    const counted = body.length + gzip.length;
    assert.ok(
      bodyBytes(app).peak >= counted,
      `peak ${bodyBytes(app).peak}, under the ${counted} bytes the gzip upload held`,
    );
  },
);
