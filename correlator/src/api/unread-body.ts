// An error answer can go out while the client is still uploading (a body over MAX_BODY_BYTES,
// a gzip stream that turns out corrupt, a refusal before the body was read). Closing the socket
// then makes the kernel answer the unread bytes with a reset, and a client busy writing sees
// EPIPE/ECONNRESET instead of our status. An OTLP exporter takes that for a network fault and
// retries the same oversized batch, where a 413 would have told it to drop it. So the rest of
// the body is read and thrown away for a bounded time and amount: long enough for the client to
// read the answer and stop, short enough that a client that never stops cannot hold us.
//
// The wait is for the next byte, not for the whole rest (runtime/progress-watch.ts): a client
// still sending is let finish. A fixed 2 s in all cut uploads that a saturated event loop had been
// reading slowly (their clients saw ECONNRESET, not the 503 meant to make them back off: 3 of 160).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { watchProgress } from '../runtime/progress-watch.js';
import { abandonBodyReader } from './body-readers.js';

export interface LingerBounds {
  /** Longest wait for the next byte: a client this quiet has stopped sending. */
  idleMs: number;
  /** Longest wait in all, however steadily the client goes on sending. */
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
    stopWatch();
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
  const stopWatch = watchProgress({ idleMs: bounds.idleMs, maxMs: bounds.maxMs, progress: () => discarded, onQuiet: cut, onOverdue: cut });
  raw.on('data', onData);
  raw.once('end', stop);
  raw.once('close', stop);
  raw.resume();
}
