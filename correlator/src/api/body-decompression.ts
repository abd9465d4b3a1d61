// Decompresses request bodies before parsing, so fastify's bodyLimit applies to the *decoded*
// size (OTLP spec: limit after decompression). A gzip bomb therefore stops at the limit instead
// of inflating into memory.
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import type { FastifyRequest } from 'fastify';
import { errors } from './errors.js';

const inflaters = new WeakMap<IncomingMessage, Readable>();

export async function decompressBody(request: FastifyRequest, payload: Readable): Promise<Readable> {
  const raw = request.headers['content-encoding'];
  const encoding = (Array.isArray(raw) ? raw[0] : raw)?.trim().toLowerCase();
  if (!encoding || encoding === 'identity') return payload;
  if (encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate') throw errors.badEncoding(encoding);
  let encodedBytes = 0;
  const counter = new PassThrough();
  counter.on('data', (c: Buffer) => (encodedBytes += c.length));
  const inflater = encoding === 'deflate' ? createInflate() : createGunzip();
  // Registered before fastify's own listener, so the error it sees already says 400 and why.
  inflater.on('error', (e: Error & { statusCode?: number; code?: string }) => {
    const mapped = errors.corruptCompression(encoding, e.message);
    e.statusCode = mapped.statusCode;
    e.message = mapped.message;
    e.code = mapped.code;
  });
  payload.on('error', e => inflater.destroy(e));
  payload.pipe(counter).pipe(inflater);
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
