// After a power cut (not a killed process: its writes are in the operating system's cache), a
// committed span_chunks row can point past the end of its segment file. The request's bytes were
// written before its transaction committed, but neither was synced, and the disk may keep the WAL
// frames and not the file's last pages. Such a row would fail every view of its circuit.
//
// At open, before anything is read or written, each such chunk is rebuilt: a span whose bytes are
// all on disk keeps them; any other becomes a span encoded from the row's own record of it (ids,
// parent, times to the microsecond, kind, status, resource), named LOST_SPAN_NAME and marked with
// the attribute LOST_SPAN_ATTRIBUTE. Its counts in traces, circuits and correlations stay true,
// since the span did arrive; only its name, attributes and events are gone.
//
// A power cut loses the last seconds of writes: the newest segments. Damage anywhere else, or a
// directory with none of the files the rows name, is a directory not mounted or a database restored
// without its spans: the files may still exist, and rebuilding would throw their bytes away for
// good. The store then refuses to open unless told to rebuild (`force`).
//
// A file's size is trusted as the end of what it holds: ext4 (data=ordered) and XFS do not extend a
// file's size on disk before its data is written, so the bytes below it are the bytes written.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import protobuf from 'protobufjs';
import { hexToBytes } from '../../otlp/hex.js';
import { WIRE_LEN, WIRE_VARINT } from '../../otlp/wire-reader.js';
import { fieldTag, writeNanosFromMs } from '../../otlp/wire-writer.js';
import { encodeSpanChunk, readSpanChunkMeta, type ChunkSpanMeta } from './span-chunk.js';
import { segmentFileName, segmentsIn, type SpanBodyAppender, type SpanBodyReader } from './span-body-files.js';

export const LOST_SPAN_NAME = '(span lost in an unclean shutdown)';
export const LOST_SPAN_ATTRIBUTE = 'correlator.span_bytes_lost';
/** Chunks rebuilt per page: a whole history of them (with `force`) is not held in memory at once. */
const REPAIR_BATCH_CHUNKS = 4096;

/** What a repair at open found and did, for the log. */
export interface TornChunkRepair {
  /** Segments with a row that pointed past their end, or missing: their size (null) and the end the rows need. */
  segments: { segment: number; fileBytes: number | null; neededBytes: number }[];
  chunks: number;
  /** Spans of those chunks that had to be rebuilt from their records; the others kept their bytes. */
  lostSpans: number;
  keptSpans: number;
}

interface TornSegment {
  segment: number;
  fileBytes: number | null;
  neededBytes: number;
  /** The lowest id of its rows that end past the file. */
  firstTornId: number;
}

/**
 * Rebuilds every chunk whose bytes its segment file does not hold; null when there is none (the
 * usual case: one indexed lookup per segment). Throws, naming the directory, when the damage is not
 * what a power cut leaves, unless `force`.
 */
export function repairTornChunks(
  db: Database.Database,
  dir: string,
  reader: SpanBodyReader,
  appender: SpanBodyAppender,
  force: boolean,
): TornChunkRepair | null {
  const referenced = referencedSegments(db);
  const newestFirst = db.prepare(
    `SELECT id, body_offset + body_length AS end FROM span_chunks
      WHERE body_segment = ? AND body_segment > 0 ORDER BY id DESC`,
  );
  const torn: TornSegment[] = [];
  for (const segment of referenced) {
    const found = tornSegment(newestFirst, dir, segment);
    if (found) torn.push(found);
  }
  if (torn.length === 0) return null;
  if (!force) refuseUnlessPowerCut(dir, referenced, torn);

  const report: TornChunkRepair = { segments: torn.map(({ segment, fileBytes, neededBytes }) => ({ segment, fileBytes, neededBytes })), chunks: 0, lostSpans: 0, keptSpans: 0 };
  // Above every number a row names, not only every file present: if this repair does not commit,
  // rows into a lost file must not find the repair's bytes at their offsets.
  appender.openAbove(referenced.at(-1)!);
  const page = db.prepare(
    `SELECT id, trace_id, meta, body_offset, body_length FROM span_chunks
      WHERE body_segment = ? AND body_segment > 0 AND id >= ? ORDER BY id LIMIT ${REPAIR_BATCH_CHUNKS}`,
  );
  const update = db.prepare('UPDATE span_chunks SET meta = ?, body_segment = ?, body_offset = ?, body_length = ? WHERE id = ?');
  // One transaction for the whole repair: one that died half-way would leave the repair's segment
  // intact above segments still torn, which the next open could not tell from damage a power cut
  // does not leave. Pages keep only 4,096 chunks in memory; the transaction's rows wait in the WAL.
  db.transaction(() => {
    // Segments in ascending order, and ids ascending within each: the repair's segment holds its
    // chunks in id order, as ingest writes them, which a later repair's walk relies on.
    for (const t of torn) {
      const fileBytes = t.fileBytes ?? 0;
      for (let from = t.firstTornId; ; ) {
        const rows = page.all(t.segment, from) as { id: number; trace_id: string; meta: Buffer; body_offset: number; body_length: number }[];
        if (rows.length === 0) break;
        from = rows.at(-1)!.id + 1;
        const rebuilt = rows.map(row => {
          const available = Math.max(0, Math.min(row.body_length, fileBytes - row.body_offset));
          const prefix = available > 0 ? reader.read(t.segment, row.body_offset, available) : Buffer.alloc(0);
          return { id: row.id, chunk: rebuildChunk(row.trace_id, row.meta, prefix) };
        });
        // On the disk before the rows that point at it commit: once they do, retention may delete
        // the segment the kept spans' bytes came from, and a second power cut would leave them nowhere.
        const place = appender.append(Buffer.concat(rebuilt.map(r => r.chunk.body)));
        appender.sync();
        let at = place.offset;
        for (const { id, chunk } of rebuilt) {
          update.run(chunk.meta, place.segment, at, chunk.body.length, id);
          at += chunk.body.length;
          report.chunks++;
          report.lostSpans += chunk.lost;
          report.keptSpans += chunk.kept;
        }
      }
    }
  })();
  return report;
}

/**
 * A power cut takes the newest writes: the damaged segments are the newest the rows name, and some
 * segment file is still there. Anything else is refused with what was found.
 */
function refuseUnlessPowerCut(dir: string, referenced: readonly number[], torn: readonly TornSegment[]): void {
  const oldestTorn = torn[0]!.segment;
  const intactAbove = referenced.filter(s => s > oldestTorn && !torn.some(t => t.segment === s));
  const missing = torn.filter(t => t.fileBytes === null).length;
  const noFiles = segmentsIn(dir).length === 0;
  if (intactAbove.length === 0 && !noFiles) return;
  const what = noFiles
    ? `holds none of the ${referenced.length} segment files the database names`
    : `lacks bytes the database names in ${torn.length} of its ${referenced.length} segment files (${missing} missing), ` +
      `older than ${intactAbove.length} intact ones: a power cut loses only the newest`;
  throw new Error(
    `${dir} ${what}. Is the directory mounted, or was the database restored without it? ` +
      `If the span files are gone for good, start once with STORE_REBUILD_LOST_SPANS=true to keep those spans ` +
      `rebuilt from their records (ids, parent, times, kind, status) without their names and attributes.`,
  );
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
 * Whether rows of `segment` end past its file, and from which id. One appender writes a segment,
 * in chunk id order (ids are given as chunks are planned, batches commit in that order, and a
 * repair writes in id order too), so a chunk with a higher id never ends before one with a lower:
 * the walk, newest first, stops at the first that fits.
 */
function tornSegment(newestFirst: Database.Statement, dir: string, segment: number): TornSegment | null {
  const fileBytes = fileSize(join(dir, segmentFileName(segment)));
  const rows = newestFirst.iterate(segment) as IterableIterator<{ id: number; end: number }>;
  let found: TornSegment | null = null;
  for (const row of rows) {
    if (row.end <= (fileBytes ?? 0)) break;
    if (found) found.firstTornId = row.id;
    else found = { segment, fileBytes, neededBytes: row.end, firstTornId: row.id };
  }
  return found;
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
  w.uint32(fieldTag(1, WIRE_LEN)).bytes(idBytes(traceId, 16));
  w.uint32(fieldTag(2, WIRE_LEN)).bytes(idBytes(record.spanId, 8));
  if (record.parentSpanId) w.uint32(fieldTag(4, WIRE_LEN)).bytes(idBytes(record.parentSpanId, 8));
  w.uint32(fieldTag(5, WIRE_LEN)).string(LOST_SPAN_NAME);
  if (record.kind) w.uint32(fieldTag(6, WIRE_VARINT)).uint32(record.kind);
  writeNanosFromMs(w, 7, record.startMs);
  writeNanosFromMs(w, 8, record.endMs);
  // KeyValue { key, value: AnyValue { bool_value } }
  w.uint32(fieldTag(9, WIRE_LEN)).fork();
  w.uint32(fieldTag(1, WIRE_LEN)).string(LOST_SPAN_ATTRIBUTE);
  w.uint32(fieldTag(2, WIRE_LEN)).fork().uint32(fieldTag(2, WIRE_VARINT)).bool(true).ldelim();
  w.ldelim();
  if (record.statusCode) w.uint32(fieldTag(15, WIRE_LEN)).fork().uint32(fieldTag(3, WIRE_VARINT)).uint32(record.statusCode).ldelim();
  return w.finish();
}

function idBytes(hex: string, length: number): Uint8Array {
  const bytes = hexToBytes(hex, length);
  if (!bytes) throw new Error(`a stored chunk has an id that is not ${length} bytes of hex: ${hex}`);
  return bytes;
}
