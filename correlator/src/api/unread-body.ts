// An error answer can go out while the client is still uploading (a body over MAX_BODY_BYTES,
// a gzip stream that turns out corrupt, a refusal before the body was read). Closing the socket
// then makes the kernel answer the unread bytes with a reset, and a client busy writing sees
// EPIPE/ECONNRESET instead of our status. An OTLP exporter takes that for a network fault and
// retries the same oversized batch, where a 413 would have told it to drop it. So the rest of
// the body is read and thrown away for a bounded time and amount: long enough for the client to
// read the answer and stop, short enough that a client that never stops cannot hold us.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { abandonBodyReader } from './body-readers.js';

export interface LingerBounds {
  /** Longest wait for the client to finish or stop sending. */
  maxMs: number;
  /** Most bytes discarded before the connection is cut. */
  maxBytes: number;
}

/**
 * Call before sending an error answer. When the request body has not been read to its end, the
 * rest is discarded and the connection kept alive; it is cut only if the client goes on past
 * the bounds. A body already read in full needs nothing.
 */
export function discardUnreadBody(
  request: FastifyRequest,
  reply: FastifyReply,
  bounds: LingerBounds,
): void {
  const raw = request.raw;
  if (raw.complete || raw.readableEnded || raw.destroyed) return;
  abandonBodyReader(raw);
  // fastify asks for `Connection: close` after a parser error, and node would then close the
  // socket as soon as the answer is written: exactly the reset this module exists to avoid.
  reply.removeHeader('connection');
  let discarded = 0;
  const stop = (): void => {
    clearTimeout(timer);
    raw.off('data', onData);
    raw.off('end', stop);
    raw.off('close', stop);
  };
  const cut = (): void => {
    stop();
    // An unfinished request takes its socket down with it.
    raw.destroy();
  };
  const onData = (chunk: Buffer): void => {
    discarded += chunk.length;
    if (discarded > bounds.maxBytes) cut();
  };
  const timer = setTimeout(cut, bounds.maxMs);
  timer.unref();
  raw.on('data', onData);
  raw.once('end', stop);
  raw.once('close', stop);
  raw.resume();
}
