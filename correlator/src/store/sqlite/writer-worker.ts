// The writer thread (writer-thread.ts): applies each request's rows in a transaction of its own on
// its own connection, then says so twice: in a shared counter, which a main thread blocked on it
// reads at once, and in a message, which settles the request's promise.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { configureConnection } from './connection.js';
import { RowWriter, type RowBatch } from './row-writer.js';
import type { WriterData, WriterReply, WriterRequest } from './writer-thread.js';

const port = parentPort;
if (port === null) throw new Error('writer-worker runs as a worker thread');
const { file, progress } = workerData as WriterData;
const settled = new Int32Array(progress);
const db = new Database(file);
configureConnection(db, true);
const writer = new RowWriter(db);
const applyBatch = db.transaction((b: RowBatch) => writer.apply(b));

port.on('message', (m: WriterRequest) => {
  if (m.type === 'stop') {
    db.close();
    port.postMessage({ type: 'stopped' } satisfies WriterReply);
    port.close();
    return;
  }
  let reply: WriterReply;
  try {
    reply = { type: 'done', seq: m.seq, result: applyBatch(m.batch) };
  } catch (e) {
    reply = { type: 'failed', seq: m.seq, error: e instanceof Error ? e.message : String(e) };
  }
  Atomics.store(settled, 0, m.seq);
  Atomics.notify(settled, 0);
  port.postMessage(reply);
});
port.postMessage({ type: 'ready' } satisfies WriterReply);
