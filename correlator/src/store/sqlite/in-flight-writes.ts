// What the batches still on their way to the writer thread will write, for the main thread's reads
// that decide the next batch: which spans and logs are already stored, which resources exist, and
// whether hot-state misses may read the store. Those reads see only committed rows; whatever a
// batch in flight holds must come from here, or the reader must wait for the commit.
import { groupMapKey } from '../../correlation/types.js';
import type { RowBatch } from './row-writer.js';

interface Written {
  traces: string[];
  groups: string[];
  spans: Map<string, string[]>;
  logs: string[];
  resources: string[];
}

export class InFlightWrites {
  /** Trace id, group key, log dedupe key or resource hash → the last batch writing it. */
  private readonly traces = new Map<string, number>();
  private readonly groups = new Map<string, number>();
  private readonly logs = new Map<string, number>();
  private readonly resources = new Map<
    string,
    { seq: number; id: number; row: RowBatch['resources'][number] }
  >();
  private readonly spans = new Map<string, { seq: number; ids: string[] }[]>();
  private readonly bySeq = new Map<number, Written>();

  /** Records batch `seq`'s rows; `logKeys` are the dedupe keys of its logs. */
  add(
    seq: number,
    batch: RowBatch,
    spanIds: Map<string, string[]>,
    logKeys: readonly string[],
  ): void {
    const w: Written = {
      traces: [],
      groups: [],
      spans: spanIds,
      logs: [...logKeys],
      resources: [],
    };
    // A request names each of its traces three times or more (chunk, trace row, memberships) and
    // each group once per member trace, bridge and correlation: each is recorded once.
    const trace = (id: string) => {
      if (this.traces.get(id) === seq) return;
      this.traces.set(id, seq);
      w.traces.push(id);
    };
    let lastKey = '';
    let lastValue = '';
    const group = (key: string, value: string) => {
      if (key === lastKey && value === lastValue) return;
      lastKey = key;
      lastValue = value;
      const k = groupMapKey(key, value);
      if (this.groups.get(k) === seq) return;
      this.groups.set(k, seq);
      w.groups.push(k);
    };
    for (const c of batch.chunks) trace(c.traceId);
    for (const [traceId, ids] of spanIds) {
      const list = this.spans.get(traceId);
      if (list) list.push({ seq, ids });
      else this.spans.set(traceId, [{ seq, ids }]);
    }
    const d = batch.derived;
    if (d) {
      for (const t of d.traces) trace(t.traceId);
      for (const m of d.memberships) {
        trace(m.traceId);
        group(m.key, m.value);
      }
      for (const r of d.refusals) group(r.key, r.value);
      for (const r of d.demotions) group(r.key, r.value);
      for (const l of d.looseLogs) group(l.key, l.value);
      for (const c of d.correlations) group(c.key, c.value);
      for (const b of d.bridgesAdded) group(b.key, b.value);
      for (const b of d.bridgesRemoved) group(b.key, b.value);
    }
    for (const k of logKeys) this.logs.set(k, seq);
    for (const r of batch.resources) {
      this.resources.set(r.hash, { seq, id: r.id, row: r });
      w.resources.push(r.hash);
    }
    this.bySeq.set(seq, w);
  }

  /** Forgets batch `seq` once it has settled: the store itself now answers for its rows. */
  settle(seq: number): void {
    const w = this.bySeq.get(seq);
    if (!w) return;
    this.bySeq.delete(seq);
    const drop = (m: Map<string, number>, k: string) => {
      if (m.get(k) === seq) m.delete(k);
    };
    for (const k of w.traces) drop(this.traces, k);
    for (const k of w.groups) drop(this.groups, k);
    for (const k of w.logs) drop(this.logs, k);
    for (const h of w.resources) if (this.resources.get(h)?.seq === seq) this.resources.delete(h);
    for (const traceId of w.spans.keys()) {
      const list = this.spans.get(traceId)!.filter(e => e.seq !== seq);
      if (list.length > 0) this.spans.set(traceId, list);
      else this.spans.delete(traceId);
    }
  }

  /** Whether a batch after `settled` writes this trace. */
  writesTrace(traceId: string, settled: number): boolean {
    return (this.traces.get(traceId) ?? 0) > settled;
  }

  writesGroup(key: string, value: string, settled: number): boolean {
    return (this.groups.get(groupMapKey(key, value)) ?? 0) > settled;
  }

  /** The span ids of this trace that batches not yet settled store. */
  spanIdsOf(traceId: string): readonly { ids: string[] }[] {
    return this.spans.get(traceId) ?? [];
  }

  /** Every trace id, key group and log record a batch not yet settled writes. */
  forEachWritten(
    trace: (traceId: string) => void,
    group: (key: string, value: string) => void,
    log: (dedupe: string) => void,
  ): void {
    for (const id of this.traces.keys()) trace(id);
    for (const k of this.groups.keys()) {
      const cut = k.indexOf('\u0000');
      group(k.slice(0, cut), k.slice(cut + 1));
    }
    for (const k of this.logs.keys()) log(k);
  }

  hasLog(dedupe: string): boolean {
    return this.logs.has(dedupe);
  }

  /** A resource a batch not yet settled inserts: its row, to insert again with a later batch. */
  resource(hash: string): { id: number; row: RowBatch['resources'][number] } | undefined {
    return this.resources.get(hash);
  }

  get size(): number {
    return this.bySeq.size;
  }
}
