// Decompresses request bodies before parsing, so fastify's bodyLimit applies to the *decoded*
// size (OTLP spec: limit after decompression). A gzip bomb therefore stops at the limit instead
// of inflating into memory.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import type { FastifyRequest } from 'fastify';
import { errors } from './errors.js';

const inflaters = new WeakMap<IncomingMessage, Readable>();

/**
 * Output step of the inflater. Each step is a round trip to the thread pool and a chunk through
 * the stream: at zlib's default of 16 KiB, a typical OTLP batch (337 KiB from 27 KiB of gzip) took
 * 21 of them, and the gzip path cost twice the CPU of inflating the same body in one call. At
 * 256 KiB it takes two; an inflater in flight holds at most this much beyond the body limit.
 */
const INFLATE_CHUNK_BYTES = 256 * 1024;

export async function decompressBody(request: FastifyRequest, payload: Readable): Promise<Readable> {
  const raw = request.headers['content-encoding'];
  const encoding = (Array.isArray(raw) ? raw[0] : raw)?.trim().toLowerCase();
  if (!encoding || encoding === 'identity') return payload;
  if (encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate') throw errors.badEncoding(encoding);
  let encodedBytes = 0;
  const inflater =
    encoding === 'deflate' ? createInflate({ chunkSize: INFLATE_CHUNK_BYTES }) : createGunzip({ chunkSize: INFLATE_CHUNK_BYTES });
  // Registered before fastify's own listener, so the error it sees already says 400 and why.
  inflater.on('error', (e: Error & { statusCode?: number; code?: string }) => {
    const mapped = errors.corruptCompression(encoding, e.message);
    e.statusCode = mapped.statusCode;
    e.message = mapped.message;
    e.code = mapped.code;
  });
  payload.on('error', e => inflater.destroy(e));
  payload.on('data', (c: Buffer) => (encodedBytes += c.length));
  payload.pipe(inflater);
  inflaters.set(request.raw, inflater);
  // fastify compares this with Content-Length, which counts the compressed bytes.
  Object.defineProperty(inflater, 'receivedEncodedLength', { get: () => encodedBytes });
  return inflater;
}

/** Stops inflating a body whose rest will only be thrown away, and frees the inflater. */
export function abandonDecompression(raw: IncomingMessage): void {
  const inflater = inflaters.get(raw);
  if (!inflater) return;
  inflaters.delete(raw);
  raw.unpipe();
  inflater.destroy();
}
