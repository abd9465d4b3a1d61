// Decompresses request bodies before parsing, so fastify's bodyLimit applies to the *decoded*
// size (OTLP spec: limit after decompression). A gzip bomb therefore stops at the limit instead
// of inflating into memory.
//
// A body that inflates to at most SYNC_INFLATE_MAX_BYTES is inflated synchronously, on the main
// thread, in one call. zlib's streaming inflater runs on the thread pool: every output step is a
// round trip to it and a chunk through a stream, and under ingest load that plumbing cost more CPU
// than the inflating itself (gzip ingest 97.8k/95.8k → 105.7k/99.2k spans/s in two interleaved
// pairs). A typical OTLP batch (27 KiB of gzip, 337 KiB inflated) takes well under a millisecond.
// A larger body, or a bomb, goes to the streaming inflater once it is known to be larger, so the
// main thread never inflates more than a few times the bound for one request, whatever the limit.
//
// What the streaming inflater gave for free is kept: a bomb or a corrupt stream is refused while
// the client is still uploading, not after it has sent everything. While more of the body is to
// come, what has arrived is inflated with a sync flush each time it has doubled, so the early
// checks cost at most twice the final inflate, and nothing for a body that arrives whole.
//
// An ingest request's body counts against MAX_INFLIGHT_BYTES as it goes (inflight-body-bytes.ts):
// each compressed chunk as it arrives, each inflated one before it is handed on. The inflated
// bytes are what a bomb costs: 64 MiB each, held by fastify's reader until the limit was reached.
import { Readable, type Transform } from 'node:stream';
import {
  constants,
  createGunzip,
  createInflate,
  createInflateRaw,
  gunzipSync,
  inflateRawSync,
  inflateSync,
  type ZlibOptions,
} from 'node:zlib';
import { errorCodes, type FastifyRequest } from 'fastify';
import { holdBodyReader } from './body-readers.js';
import { errors } from './errors.js';
import { bodyBytesHoldOf, type BodyBytesHold } from './inflight-body-bytes.js';

/**
 * Output step of an inflate call or of the streaming inflater: a 337 KiB batch takes two steps.
 * An inflater allocates at most this much beyond what it was allowed before it stops.
 */
const INFLATE_CHUNK_BYTES = 256 * 1024;

/**
 * The most a body is inflated to on the main thread. The main thread takes ~30 ms to decode 8 MiB
 * of OTLP, so inflating that much (a few ms, up to three times for a body that arrives in pieces)
 * costs a body no more than its decoding; and a bomb costs no more than a legitimate body.
 */
export const SYNC_INFLATE_MAX_BYTES = 8 * 1024 * 1024;

type Encoding = 'gzip' | 'deflate';

/**
 * HTTP's "deflate" is zlib-wrapped (RFC 9110), but some clients send the raw deflate stream
 * instead, as browsers accept: a body that does not open with a zlib header is read as raw.
 */
function isZlibHeader(b: Buffer): boolean {
  return b.length < 2 || ((b[0]! & 0x0f) === 8 && b[0]! >> 4 <= 7 && ((b[0]! << 8) | b[1]!) % 31 === 0);
}

export async function decompressBody(
  request: FastifyRequest,
  payload: Readable,
): Promise<Readable> {
  const raw = request.headers['content-encoding'];
  const given = (Array.isArray(raw) ? raw[0] : raw)?.trim().toLowerCase();
  // A list names the encodings in the order applied; identity is none of them (RFC 9110 8.4).
  const applied = given?.split(',').map((e: string) => e.trim()).filter((e: string) => e !== '' && e !== 'identity') ?? [];
  if (applied.length > 1) throw errors.stackedEncoding(given!);
  const named = applied[0];
  if (named === undefined) return payload;
  if (named !== 'gzip' && named !== 'x-gzip' && named !== 'deflate') throw errors.badEncoding(given!);
  const body = new InflatingBody(payload, {
    encoding: named === 'deflate' ? 'deflate' : 'gzip',
    named,
    limit: request.routeOptions.bodyLimit,
    declaredLength: Number(request.headers['content-length']),
    hold: bodyBytesHoldOf(request.raw),
  });
  holdBodyReader(request.raw, body);
  return body;
}

interface InflatingBodyOptions {
  encoding: Encoding;
  /** The encoding as the request named it, for messages. */
  named: string;
  /** Most bytes allowed, compressed or inflated. */
  limit: number;
  /** Content-Length, NaN when the body is chunked. */
  declaredLength: number;
  /** The request's share of MAX_INFLIGHT_BYTES; none on routes that are not ingest. */
  hold: BodyBytesHold | undefined;
}

/** The decoded body as fastify's body reader sees it: its bytes, or an error with its status. */
class InflatingBody extends Readable {
  /** fastify compares this with Content-Length, which counts the compressed bytes. */
  receivedEncodedLength = 0;
  private readonly received: Buffer[] = [];
  private checkedAt = 0;
  private started = false;
  /** The thread pool's inflater, once the body is known to inflate past the main thread's share. */
  private streaming: Transform | null = null;

  constructor(
    private readonly source: Readable,
    private readonly options: InflatingBodyOptions,
  ) {
    super();
  }

  /** Where the body is being inflated: on the main thread, or by the thread pool's inflater. */
  get inflatingOn(): 'main thread' | 'thread pool' {
    return this.streaming ? 'thread pool' : 'main thread';
  }

  // The source is read only once fastify reads this stream, so an error can never be emitted
  // before fastify listens for it.
  override _read(): void {
    if (this.started) return;
    this.started = true;
    this.source.on('data', this.onData);
    this.source.on('end', this.onEnd);
    this.source.on('error', this.onSourceError);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.stopReading();
    this.received.length = 0;
    this.streaming?.destroy();
    callback(error);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.receivedEncodedLength += chunk.length;
    if (this.receivedEncodedLength > this.options.limit) {
      this.destroy(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      return;
    }
    const { hold } = this.options;
    if (hold && !hold.takeReceived(chunk.length)) {
      this.destroy(hold.refusal(chunk.length, false));
      return;
    }
    if (this.streaming) {
      this.streaming.write(chunk);
      return;
    }
    this.received.push(chunk);
    // A body that has arrived whole is inflated once, at its end.
    if (this.receivedEncodedLength === this.options.declaredLength) return;
    if (this.receivedEncodedLength < 2 * this.checkedAt) return;
    this.checkedAt = this.receivedEncodedLength;
    this.inflateReceived(constants.Z_SYNC_FLUSH);
  };

  private readonly onEnd = (): void => {
    this.stopReading();
    if (!this.streaming) {
      const body = this.inflateReceived(constants.Z_FINISH);
      if (body) {
        this.received.length = 0;
        if (!this.handOn(body)) return;
        this.push(null);
        return;
      }
    }
    this.streaming?.end();
  };

  private readonly onSourceError = (error: Error): void => {
    this.destroy(error);
  };

  /**
   * Inflates all that has arrived on the main thread. Returns undefined when that failed (this
   * stream is destroyed with the error) or when the body turned out larger than the main thread's
   * share (it is handed to the streaming inflater, which goes on from the start).
   */
  private inflateReceived(flush: number): Buffer | undefined {
    const compressed =
      this.received.length === 1 ? this.received[0]! : Buffer.concat(this.received);
    this.received.length = 0;
    this.received.push(compressed);
    const { encoding, limit } = this.options;
    try {
      const inflate = encoding === 'gzip' ? gunzipSync : isZlibHeader(compressed) ? inflateSync : inflateRawSync;
      return inflate(compressed, {
        finishFlush: flush,
        chunkSize: INFLATE_CHUNK_BYTES,
        maxOutputLength: Math.min(limit, SYNC_INFLATE_MAX_BYTES),
      });
    } catch (e) {
      const error = e as Error & { code?: string };
      if (error.code !== 'ERR_BUFFER_TOO_LARGE') this.destroy(this.corrupt(error));
      else if (limit <= SYNC_INFLATE_MAX_BYTES)
        this.destroy(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      else this.inflateOnThreadPool();
      return undefined;
    }
  }

  /** Hands the body to zlib's streaming inflater, which starts again from its first byte. */
  private inflateOnThreadPool(): void {
    const options: ZlibOptions = { chunkSize: INFLATE_CHUNK_BYTES };
    const inflater =
      this.options.encoding === 'gzip'
        ? createGunzip(options)
        : isZlibHeader(this.received[0]!)
          ? createInflate(options)
          : createInflateRaw(options);
    let inflated = 0;
    inflater.on('data', (c: Buffer) => {
      inflated += c.length;
      // Stops a bomb here, whether or not fastify's reader is still listening.
      if (inflated > this.options.limit) this.destroy(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      else this.handOn(c);
    });
    inflater.on('end', () => this.push(null));
    inflater.on('error', e => this.destroy(this.corrupt(e)));
    for (const c of this.received) inflater.write(c);
    this.received.length = 0;
    this.streaming = inflater;
  }

  /** Hands inflated bytes to the reader, or refuses the body when they do not fit MAX_INFLIGHT_BYTES. */
  private handOn(inflated: Buffer): boolean {
    const { hold } = this.options;
    if (hold && !hold.take(inflated.length)) {
      this.destroy(hold.refusal(inflated.length, false));
      return false;
    }
    this.push(inflated);
    return true;
  }

  private corrupt(error: Error): Error {
    // zlib's words for a gzip stream followed by bytes that open no further member (gzip bodies
    // may hold several) are those for a body that is no gzip at all (RV17).
    const detail =
      this.options.encoding === 'gzip' && error.message === 'incorrect header check'
        ? 'incorrect header check (the body is not gzip, or bytes that are not gzip follow its end)'
        : error.message;
    return errors.corruptCompression(this.options.named, detail);
  }

  private stopReading(): void {
    this.source.off('data', this.onData);
    this.source.off('end', this.onEnd);
    this.source.off('error', this.onSourceError);
  }
}
