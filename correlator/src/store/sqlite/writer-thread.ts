// Where an ingest request's rows are written. Storing them (statements and commit) was about half of
// the ingest CPU on the main thread; in a thread of their own, on the store file's second
// connection, they run on the other core while the main thread decodes and correlates the next
// request. A request is still answered only after its rows are committed.
//
// A ':memory:' store cannot be shared between connections; it writes in line.
import type { Worker } from 'node:worker_threads';
import { moduleWorker } from '../../runtime/module-worker.js';
import type Database from 'better-sqlite3';
import type { RowBatch, RowWriteResult, RowWriter } from './row-writer.js';
import { packBatch, type WireBatch } from './row-batch-wire.js';
import { WRITER_FAILED_CODE } from '../write-failure.js';

/** Batches are numbered from 1 in the order they are written; they commit in that order. */
export interface RowSink {
  write(seq: number, batch: RowBatch): Promise<RowWriteResult>;
  /** The highest batch number committed or failed: the store holds everything up to it. */
  settled(): number;
  /** Transactions committed so far: batches waiting together for the thread share one. */
  commits(): number;
  /** Blocks the calling thread until every batch written so far has settled. */
  drain(): void;
  /** Settles what was written, then stops. */
  close(): Promise<void>;
}

export class InlineRowSink implements RowSink {
  private last = 0;
  private committed = 0;
  private readonly applyBatch: Database.Transaction<(b: RowBatch) => RowWriteResult>;

  constructor(
    db: Database.Database,
    private readonly writer: RowWriter,
    after = 0,
  ) {
    this.applyBatch = db.transaction((b: RowBatch) => writer.apply(b));
    this.last = after;
  }

  write(seq: number, batch: RowBatch): Promise<RowWriteResult> {
    this.last = seq;
    try {
      this.writer.beforeTransaction();
      const result = this.applyBatch.immediate(batch);
      this.committed++;
      return Promise.resolve(result);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  settled(): number {
    return this.last;
  }

  commits(): number {
    return this.committed;
  }

  drain(): void {}

  async close(): Promise<void> {
    this.writer.close();
  }
}

export interface WriterData {
  file: string;
  /** Where the thread appends span bytes (span-body-files.ts), and its segments' size. */
  spanDir: string;
  segmentBytes: number;
  /** One Int32: the number of the last batch settled. */
  progress: SharedArrayBuffer;
}

export type WriterRequest = { type: 'write'; seq: number; batch: WireBatch } | { type: 'stop' };

export type WriterReply =
  | { type: 'ready' }
  | { type: 'done'; seq: number; result: RowWriteResult; commits: number }
  | { type: 'failed'; seq: number; error: string; code: string | null; commits: number }
  | { type: 'stopped' };

/** A drain that waits longer than this means the thread is stuck; the caller gets an error. */
const DRAIN_TIMEOUT_MS = 30_000;

interface Waiting {
  resolve: (r: RowWriteResult) => void;
  reject: (e: Error) => void;
}

export class WriterThread implements RowSink {
  private readonly worker: Worker;
  private readonly progress = new Int32Array(new SharedArrayBuffer(4));
  private readonly waiting = new Map<number, Waiting>();
  private last = 0;
  private committed = 0;
  private failure: Error | null = null;
  private stopped: Promise<void> | null = null;

  /** `onFailure` hears once that the thread is gone; the batches it held have been rejected. */
  constructor(
    file: string,
    spans: { dir: string; segmentBytes: number },
    private readonly onFailure: (e: Error) => void,
  ) {
    this.worker = moduleWorker(import.meta.url, 'writer-worker', {
      workerData: {
        file,
        spanDir: spans.dir,
        segmentBytes: spans.segmentBytes,
        progress: this.progress.buffer as SharedArrayBuffer,
      } satisfies WriterData,
    });
    this.worker.unref();
    this.worker.on('message', (m: WriterReply) => this.onReply(m));
    this.worker.on('error', e => this.fail(e));
    this.worker.on('exit', code =>
      this.fail(new Error(`store writer thread exited (code ${code})`)),
    );
  }

  get alive(): boolean {
    return this.failure === null;
  }

  write(seq: number, batch: RowBatch): Promise<RowWriteResult> {
    this.last = seq;
    if (this.failure) return Promise.reject(this.failure);
    // A write posted after the stop would never be answered.
    if (this.stopped) return Promise.reject(new Error('the store is closing'));
    // Held while batches are outstanding, so a process with nothing else to do still gets its answers.
    if (this.waiting.size === 0) this.worker.ref();
    return new Promise<RowWriteResult>((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      // In here, as the post: whatever it throws rejects the write rather than escaping the store.
      const wire = packBatch(batch);
      this.worker.postMessage(
        { type: 'write', seq, batch: wire } satisfies WriterRequest,
        [...spanBytesOf(wire), wire.rows.refs.buffer, wire.rows.nums.buffer],
      );
    });
  }

  settled(): number {
    return this.failure ? this.last : Atomics.load(this.progress, 0);
  }

  commits(): number {
    return this.committed;
  }

  drain(): void {
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    for (;;) {
      const done = Atomics.load(this.progress, 0);
      if (done >= this.last || this.failure) return;
      if (Date.now() > deadline)
        throw new Error(
          `store writer thread has not committed batch ${this.last} in ${DRAIN_TIMEOUT_MS} ms`,
        );
      Atomics.wait(this.progress, 0, done, 100);
    }
  }

  close(): Promise<void> {
    if (this.failure) return Promise.resolve();
    this.stopped ??= new Promise<void>(resolve => {
      this.worker.ref();
      this.worker.once('exit', () => resolve());
      // Messages are handled in order: every write posted before the stop is settled first.
      this.worker.postMessage({ type: 'stop' } satisfies WriterRequest);
    });
    return this.stopped;
  }

  private onReply(m: WriterReply): void {
    if (m.type === 'ready') return;
    if (m.type === 'stopped') {
      this.failure = new Error('store writer thread stopped');
      void this.worker.terminate();
      return;
    }
    this.committed = m.commits;
    const w = this.waiting.get(m.seq);
    this.waiting.delete(m.seq);
    if (this.waiting.size === 0 && this.stopped === null) this.worker.unref();
    if (!w) return;
    if (m.type === 'done') w.resolve(m.result);
    else w.reject(Object.assign(new Error(`storing the request failed: ${m.error}`), m.code ? { code: m.code } : {}));
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    // The batches it held were not stored: their requests are answered 503, which clients retry
    // (the store goes on writing in line).
    const unstored = Object.assign(new Error(`the store writer thread failed: ${e.message}`), { code: WRITER_FAILED_CODE });
    for (const w of this.waiting.values()) w.reject(unstored);
    this.waiting.clear();
    this.onFailure(e);
  }
}

/**
 * The buffers of the batch's span chunks, moved to the thread rather than copied: a request's
 * spans are about 330 KiB, and a copy made the thread allocate and fault in that much again.
 * Only buffers the batch owns whole (`encodeSpanChunks` allocates them) and that are not empty.
 */
function spanBytesOf(batch: Pick<RowBatch, 'chunkMeta' | 'chunkBody'>): ArrayBuffer[] {
  const moved: ArrayBuffer[] = [];
  for (const view of [batch.chunkMeta, batch.chunkBody]) {
    const b = view.buffer;
    if (
      b instanceof ArrayBuffer &&
      b.byteLength > 0 &&
      view.byteOffset === 0 &&
      view.byteLength === b.byteLength &&
      !moved.includes(b)
    )
      moved.push(b);
  }
  return moved;
}
