// After a power cut (not a killed process: its writes are in the operating system's cache), a
// committed span_chunks row can point past the end of its segment file. The request's bytes were
// written before its transaction committed, but neither was synced, and the disk may keep the WAL
// frames and not the file's last pages. Such a row would fail every view of its circuit.
//
// At open, before anything is read or written, each such chunk is rebuilt: a span whose bytes are
// all on disk keeps them; any other becomes a span encoded from the row's own record of it (ids,
// parent, times, kind, status, resource), named LOST_SPAN_NAME and marked with the attribute
// LOST_SPAN_ATTRIBUTE. Its counts in traces, circuits and correlations stay true, since the span
// did arrive; only its name, attributes and events are gone. The new bytes go to a new segment.
//
// A file's size is trusted as the end of what it holds: ext4 (data=ordered) and XFS do not extend a
// file's size on disk before its data is written, so the bytes below it are the bytes written.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import protobuf from 'protobufjs';
import { hexToBytes } from '../../otlp/hex.js';
import { encodeSpanChunk, readSpanChunkMeta, type ChunkSpanMeta } from './span-chunk.js';
import { segmentFileName, type SpanBodyAppender, type SpanBodyReader } from './span-body-files.js';

export const LOST_SPAN_NAME = '(span lost in an unclean shutdown)';
export const LOST_SPAN_ATTRIBUTE = 'correlator.span_bytes_lost';

/** What a repair at open found and did, for the log. */
export interface TornChunkRepair {
  /** Segments with a row that pointed past their end (or that were missing). */
  segments: { segment: number; fileBytes: number | null; neededBytes: number }[];
  chunks: number;
  /** Spans of those chunks that had to be rebuilt from their records; the others kept their bytes. */
  lostSpans: number;
  keptSpans: number;
}

interface TornRow {
  id: number;
  trace_id: string;
  meta: Buffer;
  body_segment: number;
  body_offset: number;
  body_length: number;
}

/**
 * Rebuilds every chunk whose bytes its segment file does not hold; null when there is none (the
 * usual case: one indexed lookup per segment).
 */
export function repairTornChunks(
  db: Database.Database,
  dir: string,
  reader: SpanBodyReader,
  appender: SpanBodyAppender,
): TornChunkRepair | null {
  const torn: TornRow[] = [];
  const report: TornChunkRepair = { segments: [], chunks: 0, lostSpans: 0, keptSpans: 0 };
  const sizes = new Map<number, number>();
  for (const segment of referencedSegments(db)) {
    const fileBytes = fileSize(join(dir, segmentFileName(segment)));
    const rows = tornRowsOf(db, segment, fileBytes ?? 0);
    if (rows.length === 0) continue;
    sizes.set(segment, fileBytes ?? 0);
    report.segments.push({ segment, fileBytes, neededBytes: rows[0]!.body_offset + rows[0]!.body_length });
    torn.push(...rows);
  }
  if (torn.length === 0) return null;

  const rebuilt = torn.map(row => {
    const available = Math.max(0, Math.min(row.body_length, sizes.get(row.body_segment)! - row.body_offset));
    const prefix = available > 0 ? reader.read(row.body_segment, row.body_offset, available) : Buffer.alloc(0);
    const chunk = rebuildChunk(row.trace_id, row.meta, prefix);
    report.lostSpans += chunk.lost;
    report.keptSpans += chunk.kept;
    return { row, chunk };
  });
  appender.beforeTransaction();
  const update = db.prepare('UPDATE span_chunks SET meta = ?, body_segment = ?, body_offset = ?, body_length = ? WHERE id = ?');
  db.transaction(() => {
    // One write for every rebuilt chunk, on the disk before the rows that point at it commit: the
    // kept spans' bytes are then only there once retention deletes the segment they came from, and
    // a second power cut must not take them.
    const all = Buffer.concat(rebuilt.map(r => r.chunk.body));
    const place = appender.append(all);
    appender.sync();
    let at = place.offset;
    for (const { row, chunk } of rebuilt) {
      update.run(chunk.meta, place.segment, at, chunk.body.length, row.id);
      at += chunk.body.length;
    }
  })();
  report.chunks = torn.length;
  return report;
}

/** The segments rows point into, ascending: an index seek each, not a scan of the table. */
function referencedSegments(db: Database.Database): number[] {
  // `body_segment > 0` repeated word for word: SQLite uses a partial index only for a query whose
  // WHERE names the index's own condition.
  const next = db.prepare('SELECT min(body_segment) FROM span_chunks WHERE body_segment > ? AND body_segment > 0').pluck();
  const out: number[] = [];
  for (let s = next.get(0) as number | null; s !== null; s = next.get(s) as number | null) out.push(s);
  return out;
}

/**
 * The rows of `segment` that end past `fileBytes`, newest first. One appender writes a segment,
 * in chunk id order (ids are given as chunks are planned, and batches commit in that order), so a
 * chunk with a higher id never ends before one with a lower: the walk stops at the first that fits.
 */
function tornRowsOf(db: Database.Database, segment: number, fileBytes: number): TornRow[] {
  const rows = db
    .prepare(
      `SELECT id, trace_id, meta, body_segment, body_offset, body_length FROM span_chunks
        WHERE body_segment = ? AND body_segment > 0 ORDER BY id DESC`,
    )
    .iterate(segment) as IterableIterator<TornRow>;
  const out: TornRow[] = [];
  for (const row of rows) {
    if (row.body_offset + row.body_length <= fileBytes) break;
    out.push(row);
  }
  return out;
}

/** The file's size, or null when it is not there. */
function fileSize(file: string): number | null {
  try {
    return statSync(file).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * A chunk's meta and body again, from its records and the part of its body that is on disk
 * (`prefix`): each span's own bytes when they are all there, its stand-in otherwise.
 */
export function rebuildChunk(
  traceId: string,
  meta: Buffer,
  prefix: Uint8Array,
): { meta: Buffer; body: Buffer; lost: number; kept: number } {
  let lost = 0;
  const spans = readSpanChunkMeta(meta).map(record => {
    if (record.offset + record.length <= prefix.length)
      return { ...record, bytes: prefix.subarray(record.offset, record.offset + record.length) };
    lost++;
    return { ...record, bytes: lostSpanBytes(traceId, record) };
  });
  const { meta: newMeta, body } = encodeSpanChunk(spans);
  return { meta: newMeta, body, lost, kept: spans.length - lost };
}

/** An OTLP Span from what a chunk's record keeps of it (times to the microsecond, as recorded). */
export function lostSpanBytes(traceId: string, record: ChunkSpanMeta): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).bytes(idBytes(traceId, 16));
  w.uint32((2 << 3) | 2).bytes(idBytes(record.spanId, 8));
  if (record.parentSpanId) w.uint32((4 << 3) | 2).bytes(idBytes(record.parentSpanId, 8));
  w.uint32((5 << 3) | 2).string(LOST_SPAN_NAME);
  if (record.kind) w.uint32((6 << 3) | 0).uint32(record.kind);
  writeNanos(w, 7, record.startMs);
  writeNanos(w, 8, record.endMs);
  // KeyValue { key, value: AnyValue { bool_value } }
  w.uint32((9 << 3) | 2).fork();
  w.uint32((1 << 3) | 2).string(LOST_SPAN_ATTRIBUTE);
  w.uint32((2 << 3) | 2).fork().uint32((2 << 3) | 0).bool(true).ldelim();
  w.ldelim();
  if (record.statusCode) w.uint32((15 << 3) | 2).fork().uint32((3 << 3) | 0).uint32(record.statusCode).ldelim();
  return w.finish();
}

function idBytes(hex: string, length: number): Uint8Array {
  const bytes = hexToBytes(hex, length);
  if (!bytes) throw new Error(`a stored chunk has an id that is not ${length} bytes of hex: ${hex}`);
  return bytes;
}

/** fixed64 nanoseconds from milliseconds kept to the microsecond: exact in BigInt, not in a double. */
function writeNanos(w: protobuf.Writer, field: number, ms: number): void {
  const nanos = BigInt(Math.round(ms * 1000)) * 1000n;
  w.uint32((field << 3) | 1);
  w.fixed32(Number(nanos & 0xffffffffn));
  w.fixed32(Number(nanos >> 32n));
}
