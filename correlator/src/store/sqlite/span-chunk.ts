// One trace's spans from one request, stored as one row: a fixed-size record per span with the
// fields queries and correlation read (`meta`), and the spans' OTLP bytes back to back (`body`).
// A row per span with a unique index on random ids cost more than decoding the spans did; a row
// per trace and request writes a tenth of the rows and index entries, and a circuit's stitched
// view reads tens of rows instead of thousands.
import { bytesToHex, isAllZero, writeHex } from '../../otlp/hex.js';

/** Where each field of a span's fixed-size record is: the single layout encoder and readers share. */
const FIELD = { spanId: 0, parentSpanId: 8, startMs: 16, endMs: 24, kind: 32, statusCode: 36, resourceId: 40, offset: 44, length: 48 };
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

/** Where one chunk is in the buffers of `encodeSpanChunks`: its meta records and its body bytes. */
export interface ChunkBounds {
  metaStart: number;
  metaEnd: number;
  bodyStart: number;
  bodyEnd: number;
}

/**
 * Encodes the chunks of one request into two buffers, one for all meta records and one for all
 * bodies, each chunk a contiguous range of both. One request makes tens of chunks; as two buffers
 * they cost two allocations, and crossing to the writer thread costs two copies, not one per chunk.
 * A record's offset is relative to its own chunk's body, as the stored row needs it.
 */
export function encodeSpanChunks(chunks: readonly (readonly ChunkSpanInput[])[]): {
  meta: Buffer;
  body: Buffer;
  bounds: ChunkBounds[];
} {
  let records = 0;
  let total = 0;
  for (const spans of chunks) {
    records += spans.length;
    for (let i = 0; i < spans.length; i++) total += spans[i]!.bytes.length;
  }
  const meta = Buffer.alloc(records * SPAN_META_BYTES);
  const body = Buffer.allocUnsafeSlow(total);
  const bounds: ChunkBounds[] = [];
  let at = 0;
  let pos = 0;
  for (const spans of chunks) {
    const metaStart = at;
    const bodyStart = pos;
    for (let i = 0; i < spans.length; i++) {
      const s = spans[i]!;
      writeHex(meta, at + FIELD.spanId, s.spanId, 8);
      if (s.parentSpanId) writeHex(meta, at + FIELD.parentSpanId, s.parentSpanId, 8);
      meta.writeDoubleLE(s.startMs, at + FIELD.startMs);
      meta.writeDoubleLE(s.endMs, at + FIELD.endMs);
      meta.writeUInt32LE(s.kind >>> 0, at + FIELD.kind);
      meta.writeUInt32LE(s.statusCode >>> 0, at + FIELD.statusCode);
      meta.writeUInt32LE(s.resourceId, at + FIELD.resourceId);
      meta.writeUInt32LE(pos - bodyStart, at + FIELD.offset);
      meta.writeUInt32LE(s.bytes.length, at + FIELD.length);
      body.set(s.bytes, pos);
      pos += s.bytes.length;
      at += SPAN_META_BYTES;
    }
    bounds.push({ metaStart, metaEnd: at, bodyStart, bodyEnd: pos });
  }
  return { meta, body, bounds };
}

export function encodeSpanChunk(spans: readonly ChunkSpanInput[]): { meta: Buffer; body: Buffer } {
  const { meta, body } = encodeSpanChunks([spans]);
  return { meta, body };
}

/** Single fields of record `i` of a chunk's meta, for readers that need a few of them for thousands of spans. */
export const chunkRecord = {
  count: (meta: Buffer): number => meta.length / SPAN_META_BYTES,
  spanId: (meta: Buffer, i: number): string => hexAt(meta, i * SPAN_META_BYTES + FIELD.spanId),
  parentSpanId: (meta: Buffer, i: number): string => {
    const at = i * SPAN_META_BYTES + FIELD.parentSpanId;
    return isAllZero(meta, at, at + 8) ? '' : hexAt(meta, at);
  },
  startMs: (meta: Buffer, i: number): number => meta.readDoubleLE(i * SPAN_META_BYTES + FIELD.startMs),
  endMs: (meta: Buffer, i: number): number => meta.readDoubleLE(i * SPAN_META_BYTES + FIELD.endMs),
  kind: (meta: Buffer, i: number): number => meta.readUInt32LE(i * SPAN_META_BYTES + FIELD.kind),
  statusCode: (meta: Buffer, i: number): number => meta.readUInt32LE(i * SPAN_META_BYTES + FIELD.statusCode),
  resourceId: (meta: Buffer, i: number): number => meta.readUInt32LE(i * SPAN_META_BYTES + FIELD.resourceId),
  offset: (meta: Buffer, i: number): number => meta.readUInt32LE(i * SPAN_META_BYTES + FIELD.offset),
  length: (meta: Buffer, i: number): number => meta.readUInt32LE(i * SPAN_META_BYTES + FIELD.length),
};

function hexAt(meta: Buffer, at: number): string {
  return bytesToHex(meta, at, at + 8);
}

/** The span ids of a chunk, in order: what de-duplication compares. */
export function chunkSpanIds(meta: Buffer): string[] {
  return Array.from({ length: chunkRecord.count(meta) }, (_, i) => chunkRecord.spanId(meta, i));
}

export function readSpanChunkMeta(meta: Buffer): ChunkSpanMeta[] {
  const out: ChunkSpanMeta[] = [];
  for (let i = 0, at = 0; at < meta.length; i++, at += SPAN_META_BYTES) {
    out.push({
      spanId: hexAt(meta, at + FIELD.spanId),
      parentSpanId: chunkRecord.parentSpanId(meta, i),
      startMs: meta.readDoubleLE(at + FIELD.startMs),
      endMs: meta.readDoubleLE(at + FIELD.endMs),
      kind: meta.readUInt32LE(at + FIELD.kind),
      statusCode: meta.readUInt32LE(at + FIELD.statusCode),
      resourceId: meta.readUInt32LE(at + FIELD.resourceId),
      offset: meta.readUInt32LE(at + FIELD.offset),
      length: meta.readUInt32LE(at + FIELD.length),
    });
  }
  return out;
}
