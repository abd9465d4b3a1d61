// The stream a request's body is read through when it is not the request itself: the inflater of a
// compressed body (body-decompression.ts) or the meter of a chunked one (metered-body.ts); a request
// has at most one. When an error is answered before the body is read to its end (unread-body.ts),
// that stream is destroyed, so the rest is discarded rather than inflated or counted.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';

const readers = new WeakMap<IncomingMessage, Readable>();

export function holdBodyReader(raw: IncomingMessage, reader: Readable): void {
  readers.set(raw, reader);
}

/** Stops reading a body whose rest will only be thrown away, and frees what its reader held. */
export function abandonBodyReader(raw: IncomingMessage): void {
  const reader = readers.get(raw);
  if (!reader) return;
  readers.delete(raw);
  reader.destroy();
}
