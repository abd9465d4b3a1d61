// The writer thread (writer-thread.ts): applies the rows of the requests waiting for it in one
// transaction on its own connection, then says so twice: in a shared counter, which a main thread
// blocked on it reads at once, and in a message per request, which settles the request's promise.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { configureConnection, WRITER_CACHE_KIB } from './connection.js';
import { RowWriter, type RowBatch, type RowWriteResult } from './row-writer.js';
import { unpackBatch } from './row-batch-wire.js';
import { SpanBodyAppender } from './span-body-files.js';
import type { WriterData, WriterReply, WriterRequest } from './writer-thread.js';

const port = parentPort;
if (port === null) throw new Error('writer-worker runs as a worker thread');
const { file, progress, spanDir, segmentBytes } = workerData as WriterData;
const settled = new Int32Array(progress);
const db = new Database(file);
configureConnection(db, true, WRITER_CACHE_KIB);
const writer = new RowWriter(db, new SpanBodyAppender(spanDir, segmentBytes));
// Run with .immediate: a batch may read before it writes (a trace's row id), and a transaction that
// began as a read cannot wait for the write lock another connection holds; it fails at once.
const applyGroup = db.transaction((bs: RowBatch[]) => bs.map(b => writer.apply(b)));

/**
 * At most this many spans' rows share a commit: past it, a larger group only delays the answers
 * to its first requests without saving pages.
 */
const GROUP_SPANS = 4096;

/** A write request with its rows unpacked. */
interface Write {
  seq: number;
  batch: RowBatch;
}
type Outcome = { type: 'done'; result: RowWriteResult } | { type: 'failed'; error: string; code: string | null };

let commits = 0;

function stop(): void {
  releaseFiles();
  port!.postMessage({ type: 'stopped' } satisfies WriterReply);
  port!.close();
}

const spansOf = (m: Write) => m.batch.chunks.reduce((n, c) => n + c.count, 0);

/**
 * One commit for the group: pages that several requests touch (index leaves, the circuits they
 * share) go to the WAL once instead of once per request. If the group fails, each request is
 * committed alone, so one bad batch fails only its own request, as with a transaction each.
 */
function commit(batches: RowBatch[]): Outcome[] {
  try {
    writer.beforeTransaction();
    const results = applyGroup.immediate(batches);
    commits++;
    return results.map(result => ({ type: 'done', result }));
  } catch (e) {
    if (batches.length > 1) return batches.flatMap(b => commit([b]));
    // SQLite's code (SQLITE_BUSY, SQLITE_FULL, ...) crosses with the message: the ingest routes
    // answer 503 for it, which clients retry, where a 500 made them drop the data.
    const code = (e as { code?: unknown }).code;
    return [{ type: 'failed', error: e instanceof Error ? e.message : String(e), code: typeof code === 'string' ? code : null }];
  }
}

function writeGroup(group: Write[]): void {
  const outcomes = commit(group.map(m => m.batch));
  Atomics.store(settled, 0, group[group.length - 1]!.seq);
  Atomics.notify(settled, 0);
  group.forEach((m, i) =>
    port!.postMessage({ ...outcomes[i]!, seq: m.seq, commits } satisfies WriterReply),
  );
}

/**
 * A thread that dies of an error still gives back its files: descriptors belong to the process, and
 * the segment it was appending to would stay open for the rest of the process's life.
 */
function releaseFiles(): void {
  try {
    writer.close();
  } finally {
    db.close();
  }
}

port.on('message', (first: WriterRequest) => {
  try {
    onRequest(first);
  } catch (e) {
    try {
      releaseFiles();
    } catch {
      // The error that killed the thread is the one worth reporting.
    }
    throw e;
  }
});

const unpacked = (m: Extract<WriterRequest, { type: 'write' }>): Write => ({ seq: m.seq, batch: unpackBatch(m.batch) });

function onRequest(first: WriterRequest): void {
  if (first.type === 'stop') return stop();
  const group: Write[] = [unpacked(first)];
  let spans = spansOf(group[0]!);
  let stopAfter = false;
  // Requests that arrived while the previous group was being written are waiting in the port.
  while (spans < GROUP_SPANS) {
    const next = receiveMessageOnPort(port!);
    if (next === undefined) break;
    const m = next.message as WriterRequest;
    if (m.type === 'stop') {
      stopAfter = true;
      break;
    }
    const w = unpacked(m);
    group.push(w);
    spans += spansOf(w);
  }
  writeGroup(group);
  if (stopAfter) stop();
}
port.postMessage({ type: 'ready' } satisfies WriterReply);
