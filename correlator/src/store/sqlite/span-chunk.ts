// One trace's spans from one request, stored as one row: a fixed-size record per span with the
// fields queries and correlation read (`meta`), and the spans' OTLP bytes back to back (`body`).
// A row per span with a unique index on random ids cost more than decoding the spans did; a row
// per trace and request writes a tenth of the rows and index entries, and a circuit's stitched
// view reads tens of rows instead of thousands.
import { bytesToHex, isAllZero } from '../../otlp/hex.js';

/** span id 8, parent span id 8, start f64, end f64, kind u32, status u32, resource u32, offset u32, length u32 */
const SPAN_META_BYTES = 56;

export interface ChunkSpanInput {
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  startMs: number;
  endMs: number;
  kind: number;
  statusCode: number;
  resourceId: number;
  bytes: Uint8Array;
}

export interface ChunkSpanMeta extends Omit<ChunkSpanInput, 'bytes'> {
  /** Where the span's bytes are in the chunk body. */
  offset: number;
  length: number;
}

export function encodeSpanChunk(spans: readonly ChunkSpanInput[]): { meta: Buffer; body: Buffer } {
  const meta = Buffer.alloc(spans.length * SPAN_META_BYTES);
  const body = Buffer.allocUnsafe(spans.reduce((n, s) => n + s.bytes.length, 0));
  let offset = 0;
  spans.forEach((s, i) => {
    const at = i * SPAN_META_BYTES;
    meta.write(s.spanId, at, 8, 'hex');
    if (s.parentSpanId) meta.write(s.parentSpanId, at + 8, 8, 'hex');
    meta.writeDoubleLE(s.startMs, at + 16);
    meta.writeDoubleLE(s.endMs, at + 24);
    meta.writeUInt32LE(s.kind >>> 0, at + 32);
    meta.writeUInt32LE(s.statusCode >>> 0, at + 36);
    meta.writeUInt32LE(s.resourceId, at + 40);
    meta.writeUInt32LE(offset, at + 44);
    meta.writeUInt32LE(s.bytes.length, at + 48);
    body.set(s.bytes, offset);
    offset += s.bytes.length;
  });
  return { meta, body };
}

/** The span ids of a chunk, in order: what de-duplication compares. */
export function chunkSpanIds(meta: Buffer): string[] {
  const ids: string[] = [];
  for (let at = 0; at < meta.length; at += SPAN_META_BYTES) ids.push(bytesToHex(meta, at, at + 8));
  return ids;
}

/** Single fields of record `i` of a chunk's meta, for readers that need a few of them for thousands of spans. */
export const chunkRecord = {
  count: (meta: Buffer): number => meta.length / SPAN_META_BYTES,
  spanId: (meta: Buffer, i: number): string => bytesToHex(meta, i * SPAN_META_BYTES, i * SPAN_META_BYTES + 8),
  startMs: (meta: Buffer, i: number): number => meta.readDoubleLE(i * SPAN_META_BYTES + 16),
  resourceId: (meta: Buffer, i: number): number => meta.readUInt32LE(i * SPAN_META_BYTES + 40),
  offset: (meta: Buffer, i: number): number => meta.readUInt32LE(i * SPAN_META_BYTES + 44),
  length: (meta: Buffer, i: number): number => meta.readUInt32LE(i * SPAN_META_BYTES + 48),
};

export function readSpanChunkMeta(meta: Buffer): ChunkSpanMeta[] {
  const out: ChunkSpanMeta[] = [];
  for (let at = 0; at < meta.length; at += SPAN_META_BYTES) {
    out.push({
      spanId: bytesToHex(meta, at, at + 8),
      parentSpanId: isAllZero(meta, at + 8, at + 16) ? '' : bytesToHex(meta, at + 8, at + 16),
      startMs: meta.readDoubleLE(at + 16),
      endMs: meta.readDoubleLE(at + 24),
      kind: meta.readUInt32LE(at + 32),
      statusCode: meta.readUInt32LE(at + 36),
      resourceId: meta.readUInt32LE(at + 40),
      offset: meta.readUInt32LE(at + 44),
      length: meta.readUInt32LE(at + 48),
    });
  }
  return out;
}
