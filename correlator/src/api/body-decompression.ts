// Decompresses request bodies before parsing, so fastify's bodyLimit applies to the *decoded*
// size (OTLP spec: limit after decompression). A gzip bomb therefore stops at the limit instead
// of inflating into memory.
//
// Inflation is synchronous, on the main thread, in one call per body. zlib's streaming inflater
// runs on the thread pool: every output step is a round trip to it and a chunk through a stream,
// and under ingest load that plumbing cost more CPU than the inflating itself (measured: gzip
// ingest 92k → 103k spans/s when the same bodies were inflated in one synchronous call). A typical
// OTLP batch (27 KiB of gzip, 337 KiB inflated) takes well under a millisecond.
//
// What the streaming inflater gave for free is kept: a bomb or a corrupt stream is refused while
// the client is still uploading, not after it has sent everything. While more of the body is to
// come, what has arrived is inflated with a sync flush (output up to the limit, then stop) each
// time it has doubled, so the early checks cost at most twice the final inflate, and nothing for
// a body that arrives whole.
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { constants, gunzipSync, inflateSync, type ZlibOptions } from 'node:zlib';
import { errorCodes, type FastifyRequest } from 'fastify';
import { errors } from './errors.js';

const bodies = new WeakMap<IncomingMessage, InflatingBody>();

/**
 * Output step of one inflate call: a 337 KiB batch takes two steps. A call allocates at most this
 * much beyond the limit before it stops.
 */
const INFLATE_CHUNK_BYTES = 256 * 1024;

type OneShotInflate = (buffer: Buffer, options: ZlibOptions) => Buffer;

export async function decompressBody(
  request: FastifyRequest,
  payload: Readable,
): Promise<Readable> {
  const raw = request.headers['content-encoding'];
  const encoding = (Array.isArray(raw) ? raw[0] : raw)?.trim().toLowerCase();
  if (!encoding || encoding === 'identity') return payload;
  if (encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate')
    throw errors.badEncoding(encoding);
  const body = new InflatingBody(payload, {
    encoding,
    inflate: encoding === 'deflate' ? inflateSync : gunzipSync,
    limit: request.routeOptions.bodyLimit,
    declaredLength: Number(request.headers['content-length']),
  });
  bodies.set(request.raw, body);
  return body;
}

/** Stops reading a body whose rest will only be thrown away, and frees what it held. */
export function abandonDecompression(raw: IncomingMessage): void {
  const body = bodies.get(raw);
  if (!body) return;
  bodies.delete(raw);
  body.destroy();
}

interface InflatingBodyOptions {
  encoding: string;
  inflate: OneShotInflate;
  /** Most bytes allowed, compressed or inflated. */
  limit: number;
  /** Content-Length, NaN when the body is chunked. */
  declaredLength: number;
}

/** The decoded body as fastify's body reader sees it: one chunk, or an error with its status. */
class InflatingBody extends Readable {
  /** fastify compares this with Content-Length, which counts the compressed bytes. */
  receivedEncodedLength = 0;
  private readonly received: Buffer[] = [];
  private checkedAt = 0;
  private started = false;

  constructor(
    private readonly source: Readable,
    private readonly options: InflatingBodyOptions,
  ) {
    super();
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
    callback(error);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.received.push(chunk);
    this.receivedEncodedLength += chunk.length;
    if (this.receivedEncodedLength > this.options.limit) {
      this.destroy(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      return;
    }
    // A body that has arrived whole is inflated once, at its end.
    if (this.receivedEncodedLength === this.options.declaredLength) return;
    if (this.receivedEncodedLength < 2 * this.checkedAt) return;
    this.checkedAt = this.receivedEncodedLength;
    this.inflateReceived(constants.Z_SYNC_FLUSH);
  };

  private readonly onEnd = (): void => {
    const body = this.inflateReceived(constants.Z_FINISH);
    if (!body) return;
    this.stopReading();
    this.received.length = 0;
    this.push(body);
    this.push(null);
  };

  private readonly onSourceError = (error: Error): void => {
    this.destroy(error);
  };

  /** Inflates all that has arrived; on failure destroys this stream and returns undefined. */
  private inflateReceived(flush: number): Buffer | undefined {
    const compressed =
      this.received.length === 1 ? this.received[0]! : Buffer.concat(this.received);
    this.received.length = 0;
    this.received.push(compressed);
    try {
      return this.options.inflate(compressed, {
        finishFlush: flush,
        chunkSize: INFLATE_CHUNK_BYTES,
        maxOutputLength: this.options.limit,
      });
    } catch (e) {
      const error = e as Error & { code?: string };
      this.destroy(
        error.code === 'ERR_BUFFER_TOO_LARGE'
          ? new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE()
          : errors.corruptCompression(this.options.encoding, error.message),
      );
      return undefined;
    }
  }

  private stopReading(): void {
    this.source.off('data', this.onData);
    this.source.off('end', this.onEnd);
    this.source.off('error', this.onSourceError);
  }
}
