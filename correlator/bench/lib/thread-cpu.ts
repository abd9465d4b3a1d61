// CPU time per thread of this process, from /proc: which of the server's threads a run kept busy.
import { readdirSync } from 'node:fs';
import { threadCpuNs } from './report.js';

/** CPU milliseconds of each live thread, by thread id. */
export function threadCpuMs(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    // null: the thread ended between the listing and the read
    const ns = threadCpuNs(Number(tid));
    if (ns !== null) out.set(Number(tid), ns / 1e6);
  }
  return out;
}

export interface ThreadSplit {
  /** The main thread: HTTP, decoding, correlation, preparing rows. */
  mainMs: number;
  /** The busiest other thread: during ingest, the store's writer thread. */
  busiestOtherMs: number;
  /** Every other thread: V8's GC helpers, the checkpointer, libuv. */
  restMs: number;
}

/** Splits the CPU spent between two `threadCpuMs` snapshots. */
export function splitThreadCpu(
  before: Map<number, number>,
  after: Map<number, number>,
): ThreadSplit {
  const main = process.pid;
  let mainMs = 0;
  const others: number[] = [];
  for (const [tid, ms] of after) {
    const spent = ms - (before.get(tid) ?? 0);
    if (tid === main) mainMs = spent;
    else others.push(spent);
  }
  others.sort((a, b) => b - a);
  const busiestOtherMs = others[0] ?? 0;
  return { mainMs, busiestOtherMs, restMs: others.slice(1).reduce((a, b) => a + b, 0) };
}
