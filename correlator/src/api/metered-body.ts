// An uncompressed chunked ingest body, counted against MAX_INFLIGHT_BYTES as it arrives. A body
// with a Content-Length was counted in full when admitted, and a compressed one is counted by its
// inflater (body-decompression.ts); a chunked one says nothing of its size until it has all come.
import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { holdBodyReader } from './body-readers.js';
import { bodyBytesHoldOf, type BodyBytesHold } from './inflight-body-bytes.js';

/** The body fastify's reader should read: `payload` itself unless its bytes must be counted. */
export function meteredBody(request: FastifyRequest, payload: Readable): Readable {
  const hold = bodyBytesHoldOf(request.raw);
  if (!hold || request.headers['content-length'] !== undefined) return payload;
  const body = new MeteredBody(payload, hold);
  holdBodyReader(request.raw, body);
  return body;
}

class MeteredBody extends Readable {
  private started = false;

  constructor(
    private readonly source: Readable,
    private readonly hold: BodyBytesHold,
  ) {
    super();
  }

  // As InflatingBody: the source is read only once fastify reads this stream, so no error is
  // emitted before fastify listens for it.
  override _read(): void {
    if (this.started) return;
    this.started = true;
    this.source.on('data', this.onData);
    this.source.on('end', this.onEnd);
    this.source.on('error', this.onSourceError);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.stopReading();
    callback(error);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (!this.hold.takeReceived(chunk.length)) {
      this.destroy(this.hold.refusal(chunk.length, false));
      return;
    }
    this.push(chunk);
  };

  private readonly onEnd = (): void => {
    this.stopReading();
    this.push(null);
  };

  private readonly onSourceError = (error: Error): void => {
    this.destroy(error);
  };

  private stopReading(): void {
    this.source.off('data', this.onData);
    this.source.off('end', this.onEnd);
    this.source.off('error', this.onSourceError);
  }
}
