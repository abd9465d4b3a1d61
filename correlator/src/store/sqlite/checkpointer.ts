// Runs WAL checkpoints on a second connection in a worker thread, so copying committed pages into
// the database file (and its fsync) happens on the other core instead of inside an ingest
// request's commit. The worker is inline JavaScript so it runs the same from sources and builds.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const checkpoint = mode => {
  try { db.pragma('wal_checkpoint(' + mode + ')'); } catch { /* busy: next tick; autocheckpoint is the backstop */ }
};
const timer = setInterval(() => checkpoint('PASSIVE'), workerData.intervalMs);
parentPort.on('message', m => {
  if (m !== 'stop') return;
  clearInterval(timer);
  checkpoint('TRUNCATE');
  db.close();
  parentPort.postMessage('stopped');
  parentPort.close();
});
`;

export class Checkpointer {
  private readonly worker: Worker;
  private stopped: Promise<void> | null = null;
  private alive = true;

  /**
   * Every 100 ms: at 85k spans/s the WAL grows ~180 MB a second, and whatever these passive
   * checkpoints have not copied when it reaches `wal_autocheckpoint` the writer copies itself, inside
   * a request's commit. At one a second that was up to a second of frames: writer stalls of up to
   * 445 ms, 29% of its time in a 12 s run. At 100 ms they are a third of that, for ~10% more bytes
   * written (pages copied more often).
   */
  constructor(file: string, onError: (e: Error) => void, intervalMs = 100) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, intervalMs, driver } });
    this.worker.unref();
    // Without the worker the main connection's autocheckpoint still bounds the WAL.
    this.worker.on('error', e => {
      this.alive = false;
      onError(e);
    });
    this.worker.on('exit', () => (this.alive = false));
  }

  stop(): Promise<void> {
    if (!this.alive) return Promise.resolve();
    this.stopped ??= new Promise<void>(resolve => {
      // Unref'd while running; held now so a close() with nothing else pending still completes.
      this.worker.ref();
      const done = () => resolve();
      this.worker.once('exit', done);
      this.worker.once('message', () => void this.worker.terminate().then(done, done));
      this.worker.postMessage('stop');
    });
    return this.stopped;
  }
}
