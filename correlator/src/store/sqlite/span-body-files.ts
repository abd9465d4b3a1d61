// Received spans' OTLP bytes live in append-only segment files beside the database, not in its
// span_chunks rows (schema.ts, version 9). As blobs in rows they were nine tenths of the pages an
// ingest request wrote, each written twice (to the WAL, then by the checkpoint into the database
// file); committing them cost a third of the writer thread's time. A request's bytes are now one
// write to the end of a file, made before the transaction that records where they are commits: a
// committed row never points past what the file holds, and the bytes are in the operating system's
// cache before the client hears 2xx, so they survive the process being killed.
//
// Segments are numbered; a writer appends to the newest only and moves to a new one between
// transactions. A segment below the newest that no row points into is garbage (retention took its
// spans, or its transaction rolled back), so retention may delete it.
import {
  closeSync,
  fdatasyncSync,
  fstatSync,
  openSync,
  readdirSync,
  readSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { makeDirs } from './make-dirs.js';

/**
 * The write span bytes reach their files by, appended or probed. Tests replace it to fail as a full
 * disk does (ENOSPC), which no directory they can make does while SQLite still has room.
 */
export const segmentFileWrites = { writeSync };

/** Where a chunk's bytes are: a segment, and a range in it. Segment 0: in the row (before version 9, or a store in memory). */
export interface BodyPlace {
  segment: number;
  offset: number;
}

const SEGMENT_NAME = /^(\d{8,})\.spans$/;
/**
 * Segment files a reader keeps open, the least recently read closed first: a week of a busy
 * ingest is thousands of segments, past the usual limit of 1,024 descriptors a process may hold.
 */
const MAX_OPEN_SEGMENTS = 64;
/** A new segment past this size: a file per 256 MiB keeps retention's unit of deletion small against a week of data. */
export const DEFAULT_SEGMENT_BYTES = 256 * 1024 * 1024;

export function segmentFileName(segment: number): string {
  return `${String(segment).padStart(8, '0')}.spans`;
}

/** The segment numbers present in `dir`, ascending. */
export function segmentsIn(dir: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync(dir)) {
    const m = SEGMENT_NAME.exec(name);
    if (m) found.push(Number(m[1]));
  }
  return found.sort((a, b) => a - b);
}

/**
 * How many segment files a directory holds and their bytes, for /metrics: the disk span bytes take.
 * A week of ingest is thousands of segments, and a stat of each took ~10 ms of the main thread per
 * scrape at 2,000; only the newest segment grows (writers append to it alone), so the others'
 * sizes are kept from the scrape that first saw them.
 */
export class SegmentUsage {
  private readonly sizes = new Map<number, number>();

  constructor(private readonly dir: string) {}

  read(): { segments: number; bytes: number } {
    let present: number[];
    try {
      present = segmentsIn(this.dir);
    } catch (e) {
      // DATA_DIR removed under the running correlator (data-dir-watch.ts): no segment is left on
      // the disk. Thrown, it made every /metrics scrape a 500 until a restart (RV18).
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      present = [];
    }
    const newest = present.at(-1);
    const known = new Set(present);
    for (const segment of this.sizes.keys()) if (!known.has(segment)) this.sizes.delete(segment);
    let bytes = 0;
    for (const segment of present) {
      let size = this.sizes.get(segment);
      if (size === undefined) {
        try {
          size = statSync(join(this.dir, segmentFileName(segment))).size;
        } catch {
          // Deleted by retention since the listing.
          continue;
        }
        if (segment !== newest) this.sizes.set(segment, size);
      }
      bytes += size;
    }
    return { segments: present.length, bytes };
  }
}

/**
 * Throws as a segment write would when the directory takes no writes (full, read-only): readiness
 * asks this before it turns on again after such a failure, as it asks SQLite for a page.
 */
export function probeSegmentWrite(dir: string): void {
  const file = join(dir, '.write-probe');
  const fd = openSync(file, 'w');
  try {
    segmentFileWrites.writeSync(fd, PROBE_BYTES, 0, PROBE_BYTES.byteLength, 0);
  } finally {
    closeSync(fd);
    unlinkSync(file);
  }
}
const PROBE_BYTES = Buffer.alloc(64 * 1024);

/** The appending side: one per writing connection (the writer thread's, or the store's inline writer). */
export class SpanBodyAppender {
  private fd: number | null = null;
  private segment = 0;
  private size = 0;

  constructor(
    private readonly dir: string,
    private readonly segmentBytes = DEFAULT_SEGMENT_BYTES,
  ) {
    makeDirs(dir);
  }

  /**
   * Call between transactions, never inside one: a segment left behind holds only bytes whose rows
   * have committed (or never will), which is what lets retention delete one no row points into.
   * The first call opens a segment past every one present: a previous process's last file may end
   * in bytes whose transaction never committed.
   */
  beforeTransaction(): void {
    if (this.fd !== null && this.size < this.segmentBytes) return;
    // A segment is on the disk before a newer one is written: a power cut then shortens only the
    // newest, which is the damage the repair at open takes for a power cut's (torn-chunks.ts).
    // One sync per full segment, and one of the previous writer's newest when this one starts.
    if (this.fd !== null) {
      // Forgotten before the calls below can fail: closed twice, its number may be another file's.
      const full = this.fd;
      this.fd = null;
      syncAndClose(full);
    }
    if (this.segment === 0) {
      // Only this writer adds segments, so the directory is read once.
      this.segment = segmentsIn(this.dir).at(-1) ?? 0;
      if (this.segment > 0) syncFile(join(this.dir, segmentFileName(this.segment)));
    }
    this.segment++;
    this.fd = openSync(join(this.dir, segmentFileName(this.segment)), 'wx');
    this.size = 0;
  }

  /**
   * Opens the first segment past every one present and past `above`: a number rows may still name
   * whose file is gone (torn-chunks.ts).
   */
  openAbove(above: number): void {
    if (this.fd !== null) throw new Error('openAbove is for a writer that has not opened a segment yet');
    this.segment = Math.max(segmentsIn(this.dir).at(-1) ?? 0, above);
    this.beforeTransaction();
  }

  /** Writes `bytes` at the end of the current segment (a short write is continued, not lost). */
  append(bytes: Uint8Array): BodyPlace {
    if (this.fd === null)
      throw new Error('span bytes appended before a segment was opened (beforeTransaction)');
    const place = { segment: this.segment, offset: this.size };
    let done = 0;
    while (done < bytes.byteLength)
      done += segmentFileWrites.writeSync(this.fd, bytes, done, bytes.byteLength - done, this.size + done);
    this.size += bytes.byteLength;
    return place;
  }

  /** Waits until what was appended is on the disk, not only in the operating system's cache. */
  sync(): void {
    if (this.fd !== null) fdatasyncSync(this.fd);
  }

  close(): void {
    const fd = this.fd;
    this.fd = null;
    if (fd !== null) closeSync(fd);
  }
}

function syncFile(file: string): void {
  syncAndClose(openSync(file, 'r'));
}

function syncAndClose(fd: number): void {
  try {
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A chunk's bytes in a segment, by the chunk's id. */
export interface BodyRange {
  id: number;
  segment: number;
  offset: number;
  length: number;
}

/** Ranges of one segment at most this far apart are read in one piece: a read costs more than skipping a few KiB. */
const RANGE_GAP_BYTES = 16 * 1024;

/** The reading side, and retention's: reads ranges of segments and deletes the ones no row needs. */
export class SpanBodyReader {
  private readonly open = new Map<number, number>();

  constructor(private readonly dir: string) {
    makeDirs(dir);
  }

  /** `length` bytes at `offset` of `segment`; an error that names the file when it holds fewer. */
  read(segment: number, offset: number, length: number): Buffer {
    const fd = this.fdOf(segment);
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, out, done, length - done, offset + done);
      if (n === 0) {
        const size = fstatSync(fd).size;
        throw new Error(
          `span bytes missing: ${segmentFileName(segment)} in ${this.dir} ends at ${size} bytes, a stored chunk needs ${offset + length}`,
        );
      }
      done += n;
    }
    return out;
  }

  /**
   * The bytes of each range, by id, a read per run of ranges that lie back to back: a request's
   * chunks were written in one piece, and a view usually wants several of them.
   */
  readPlaces(ranges: readonly BodyRange[]): Map<number, Buffer> {
    const sorted = [...ranges].sort((a, b) => a.segment - b.segment || a.offset - b.offset);
    const out = new Map<number, Buffer>();
    for (let i = 0; i < sorted.length;) {
      const { segment, offset: start } = sorted[i]!;
      let end = start + sorted[i]!.length;
      let j = i + 1;
      for (
        ;
        j < sorted.length &&
        sorted[j]!.segment === segment &&
        sorted[j]!.offset <= end + RANGE_GAP_BYTES;
        j++
      )
        end = Math.max(end, sorted[j]!.offset + sorted[j]!.length);
      const bytes = this.read(segment, start, end - start);
      for (const r of sorted.slice(i, j))
        out.set(r.id, bytes.subarray(r.offset - start, r.offset - start + r.length));
      i = j;
    }
    return out;
  }

  /**
   * Deletes each segment below the newest present for which `referenced` says no row points into
   * it. The newest is the one a writer may be appending to, in a transaction not yet visible.
   */
  deleteUnreferenced(referenced: (segment: number) => boolean): number[] {
    const present = segmentsIn(this.dir);
    const deleted: number[] = [];
    for (const segment of present.slice(0, -1)) {
      if (referenced(segment)) continue;
      const fd = this.open.get(segment);
      if (fd !== undefined) closeSync(fd);
      this.open.delete(segment);
      unlinkSync(join(this.dir, segmentFileName(segment)));
      deleted.push(segment);
    }
    return deleted;
  }

  close(): void {
    for (const fd of this.open.values()) closeSync(fd);
    this.open.clear();
  }

  private fdOf(segment: number): number {
    let fd = this.open.get(segment);
    if (fd !== undefined) {
      // Read last: moved to the end of the map's order.
      this.open.delete(segment);
      this.open.set(segment, fd);
      return fd;
    }
    try {
      fd = openSync(join(this.dir, segmentFileName(segment)), 'r');
    } catch (e) {
      // Only a file that is not there is lost data; too many open files, say, is not.
      const lost = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable';
      throw new Error(
        `span bytes ${lost}: cannot open ${segmentFileName(segment)} in ${this.dir} (${(e as Error).message})`,
      );
    }
    this.open.set(segment, fd);
    if (this.open.size > MAX_OPEN_SEGMENTS) {
      const [oldest, oldestFd] = this.open.entries().next().value as [number, number];
      closeSync(oldestFd);
      this.open.delete(oldest);
    }
    return fd;
  }

  /** How many segment files this reader holds open (MAX_OPEN_SEGMENTS at most). */
  openSegments(): number {
    return this.open.size;
  }
}
