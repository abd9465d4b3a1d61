// Worker threads that render shares of a stitched view's spans (span-json-writer.ts). A first view
// of a large circuit is mostly the writing of every span's JSON from its bytes, a pure function of
// those bytes: on a machine with a second core, that work split in two takes about half as long.
// A worker that fails or dies costs nothing but the help: its share is rendered on the main thread.
import type { Worker } from 'node:worker_threads';
import { moduleWorker } from '../runtime/module-worker.js';
import type { RenderedRun, SpanSource } from './span-json-writer.js';

/** A share of a view, as it crosses to a worker: the span bytes packed into one buffer. */
export interface RenderJob {
  id: number;
  bodies: Uint8Array;
  /** Span k's bytes are bodies[offsets[k], offsets[k + 1]). */
  offsets: Int32Array;
  traceIds: string[];
  spanIds: string[];
  services: string[];
  synthetic: Uint8Array;
  /** Span k's resource JSON is resources[resourceOf[k]]. */
  resourceOf: Int32Array;
  resources: Uint8Array[];
}

/** A worker's answer: the run, its blocks as whole transferred buffers; or why it could not. */
export type RenderReply =
  | {
      id: number;
      blocks: ArrayBuffer[];
      blockOf: Int32Array;
      from: Int32Array;
      to: Int32Array;
      startMs: Float64Array;
      roots: Uint8Array;
    }
  | { id: number; error: string };

/** Below this many spans per share, packing and posting cost more than the share saves. */
export const MIN_SPANS_PER_SHARE = 500;
/** A worker that died is started again on demand, but not more often than this. */
const RESTART_AFTER_MS = 10_000;


class Slot {
  worker: Worker | null = null;
  ready = false;
  startedAt = -Infinity;
  readonly pending = new Map<number, (run: RenderedRun | null) => void>();

  start(onError: (e: Error) => void): void {
    this.startedAt = performance.now();
    const worker = moduleWorker(import.meta.url, 'span-render-worker');
    this.worker = worker;
    worker.unref();
    worker.on('message', (m: 'ready' | RenderReply) => {
      if (m === 'ready') {
        this.ready = true;
        return;
      }
      const resolve = this.pending.get(m.id);
      this.pending.delete(m.id);
      if ('error' in m) onError(new Error(`render worker could not write its share: ${m.error}`));
      resolve?.('error' in m ? null : runOf(m));
    });
    worker.on('error', e => onError(e));
    worker.on('exit', () => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.ready = false;
      for (const resolve of this.pending.values()) resolve(null);
      this.pending.clear();
    });
  }
}

function runOf(m: Extract<RenderReply, { blocks: ArrayBuffer[] }>): RenderedRun {
  return {
    blocks: m.blocks.map(b => Buffer.from(b)),
    blockOf: m.blockOf,
    from: m.from,
    to: m.to,
    startMs: m.startMs,
    roots: m.roots,
  };
}

export class SpanRenderWorkers {
  private readonly slots: Slot[];
  private nextId = 1;
  private closed = false;
  /** Spans the workers wrote, all told (those they left for the object path not counted). */
  spansRendered = 0;

  constructor(
    count: number,
    private readonly onError: (e: Error) => void,
  ) {
    this.slots = Array.from({ length: count }, () => new Slot());
  }

  /** Starts the workers not running (on the first large view, and again for one that died a while ago). */
  private start(): void {
    if (this.closed) return;
    const now = performance.now();
    for (const slot of this.slots)
      if (slot.worker === null && now - slot.startedAt >= RESTART_AFTER_MS)
        slot.start(this.onError);
  }

  /**
   * How many workers should each take a share of `spans` spans to render now. The workers start on
   * the first view large enough to share, which is rendered here alone: a correlator that never
   * serves one never starts them.
   */
  available(spans: number): number {
    if (this.closed || spans < 2 * MIN_SPANS_PER_SHARE) return 0;
    this.start();
    const ready = this.slots.filter(s => s.ready).length;
    return Math.max(0, Math.min(ready, Math.floor(spans / MIN_SPANS_PER_SHARE) - 1));
  }

  /** Renders the spans on the least busy ready worker; null when none could (the caller renders them). */
  render(
    sources: readonly SpanSource[],
    resourceJson: readonly Buffer[],
  ): Promise<RenderedRun | null> {
    const slot = this.slots.filter(s => s.ready).sort((a, b) => a.pending.size - b.pending.size)[0];
    if (slot === undefined || slot.worker === null) return Promise.resolve(null);
    const job = packJob(this.nextId++, sources, resourceJson);
    return new Promise(resolve => {
      slot.pending.set(job.id, run => {
        if (run !== null) for (const b of run.blockOf) if (b >= 0) this.spansRendered++;
        resolve(run);
      });
      try {
        slot.worker!.postMessage(job, [job.bodies.buffer as ArrayBuffer]);
      } catch (e) {
        // A worker on its way out refuses the message: the share is rendered on the main thread.
        slot.pending.delete(job.id);
        this.onError(e instanceof Error ? e : new Error(String(e)));
        resolve(null);
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map(s => s.worker?.terminate()));
  }
}

function packJob(
  id: number,
  sources: readonly SpanSource[],
  resourceJson: readonly Buffer[],
): RenderJob {
  const n = sources.length;
  const offsets = new Int32Array(n + 1);
  for (let k = 0; k < n; k++) offsets[k + 1] = offsets[k]! + sources[k]!.body.length;
  const bodies = new Uint8Array(new ArrayBuffer(offsets[n]!));
  const resourceIndex = new Map<Buffer, number>();
  const resources: Uint8Array[] = [];
  const resourceOf = new Int32Array(n);
  const synthetic = new Uint8Array(n);
  const traceIds = new Array<string>(n);
  const spanIds = new Array<string>(n);
  const services = new Array<string>(n);
  for (let k = 0; k < n; k++) {
    const s = sources[k]!;
    bodies.set(s.body, offsets[k]!);
    const json = resourceJson[k]!;
    let r = resourceIndex.get(json);
    if (r === undefined) {
      r = resources.length;
      resources.push(json);
      resourceIndex.set(json, r);
    }
    resourceOf[k] = r;
    synthetic[k] = s.synthetic ? 1 : 0;
    traceIds[k] = s.traceId;
    spanIds[k] = s.spanId;
    services[k] = s.service;
  }
  return { id, bodies, offsets, traceIds, spanIds, services, synthetic, resourceOf, resources };
}
