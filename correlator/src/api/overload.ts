// Protects the process: more concurrent ingest requests than configured get 429, a stalled event
// loop (the process is saturated) gets 503, bodies past MAX_INFLIGHT_BYTES, or past what the heap
// has room for (runtime/heap-headroom.ts), get 503, a nearly full heap (runtime/heap-pressure.ts)
// gets 503, all with Retry-After so OTLP clients back off.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bodyBytesHeapAllows } from '../runtime/heap-headroom.js';
import type { HeapPressure } from '../runtime/heap-pressure.js';
import { watchProgress } from '../runtime/progress-watch.js';
import { errors } from './errors.js';
import { InflightBodyBytes, attachBodyBytesHold } from './inflight-body-bytes.js';
import { noteUploadTimedOut, requestTimeoutAnswer, uploadTimeoutMessage } from './timeout-answers.js';

export interface UploadTimeouts {
  /** REQUEST_TIMEOUT_MS: from the request's headers. */
  totalMs: number;
  /** REQUEST_IDLE_TIMEOUT_MS: since the connection last brought a byte. */
  idleMs: number;
}

export class OverloadGuard {
  private inflight = 0;
  /** MAX_INFLIGHT_BYTES, counted as bodies arrive (inflight-body-bytes.ts). */
  readonly bodyBytes: InflightBodyBytes;
  private readonly loop: IntervalHistogram;
  private readonly checker: NodeJS.Timeout;
  private saturated = false;

  constructor(
    private readonly maxInflight: number,
    private readonly maxEventLoopDelayMs: number,
    /** Bytes of request bodies held at once, as received and inflated (one is always let through). */
    maxInflightBytes = Number.POSITIVE_INFINITY,
    /** When an admitted upload whose body has not all arrived is dropped (0: never). */
    private readonly timeouts: UploadTimeouts = { totalMs: 0, idleMs: 0 },
    /** While it is active, ingest is refused. */
    private readonly heap: Pick<HeapPressure, 'active' | 'reading' | 'marksInUse' | 'afterCollection'> | null = null,
  ) {
    const heapAllows = heap ? () => bodyBytesHeapAllows(heap.afterCollection, heap.marksInUse) : undefined;
    this.bodyBytes = new InflightBodyBytes(maxInflightBytes, heapAllows);
    this.loop = monitorEventLoopDelay({ resolution: 20 });
    this.loop.enable();
    // On a timer, not when a request comes: checked lazily, the first request after a quiet spell
    // was judged on every delay since the last one, and a stall that had ended minutes before (a
    // burst of in-process work, a long query) refused the next 500 ms of ingest with 503.
    this.checker = setInterval(() => this.check(), SATURATION_WINDOW_MS);
    this.checker.unref();
  }

  /** Throws a 429/503 CorrelatorError when the request must be refused; else counts it in. */
  admit(): void {
    if (this.inflight >= this.maxInflight) {
      throw errors.busy(`too many concurrent ingest requests (limit ${this.maxInflight}); retry shortly`, 1);
    }
    if (this.saturated) {
      throw errors.unavailable(
        `the correlator is saturated (event loop delay over ${this.maxEventLoopDelayMs} ms); retry shortly`,
        5,
      );
    }
    if (this.heap?.active) throw heapRefusal(this.heap);
    this.inflight++;
  }

  /**
   * An onRequest hook for ingest routes: admits before the body is read, and gives the slot back
   * when the response closes, which also happens when a client drops the connection mid-upload.
   * A body not all received within REQUEST_TIMEOUT_MS of its headers, or whose connection brought
   * nothing for REQUEST_IDLE_TIMEOUT_MS, has its connection cut and its slot given back then: node
   * checks its own requestTimeout only every connectionsCheckingInterval, and 70 uploads stalled
   * after their headers kept every other sender at 429 for 150 s with the default 120 s timeout,
   * 85 s with a 6 s one. With the total alone, 64 uploads from a collector behind a broken link
   * held every slot for the whole 120 s.
   *
   * A declared Content-Length is counted against MAX_INFLIGHT_BYTES here, before any of the body
   * is read, and one that does not fit is refused at once; the body readers count the rest as it
   * arrives (a chunked body's bytes, what a compressed one inflates to). All is given back when
   * the response closes.
   */
  readonly admitRequest = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    this.admit();
    const bytes = this.bodyBytes.open();
    attachBodyBytesHold(request.raw, bytes);
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      this.release();
      bytes.release();
    };
    reply.raw.once('close', release);
    const declared = Number(request.headers['content-length']);
    if (declared > 0 && !bytes.reserveDeclared(declared)) throw bytes.refusal(declared, true);
    watchUpload(request, reply, this.timeouts, release);
  };

  release(): void {
    if (this.inflight > 0) this.inflight--;
  }

  get current(): number {
    return this.inflight;
  }

  /** Judges the last window's delays. A timer that fires late has itself seen the stall it measures. */
  private check(): void {
    // p99 rather than max: one long pause (start-up, a GC) is not saturation, a sustained lag is.
    this.saturated = this.loop.count > 0 && this.loop.percentile(99) / 1e6 > this.maxEventLoopDelayMs;
    this.loop.reset();
  }

  /** Forget delays measured so far, e.g. the module loading and warm-up before the app was ready. */
  reset(): void {
    this.loop.reset();
    this.saturated = false;
  }

  close(): void {
    clearInterval(this.checker);
    this.loop.disable();
  }
}

/** Names the figures, so an operator sees whether to raise the heap (--max-old-space-size). */
export function heapRefusalText(heap: Pick<HeapPressure, 'reading' | 'marksInUse'>): string {
  const { usedBytes, limitBytes } = heap.reading;
  const mib = (n: number) => Math.round(n / 2 ** 20);
  return (
    `the correlator's heap is nearly full (${mib(usedBytes)} of the ${mib(limitBytes)} MiB it may hold in use after ` +
    `garbage collection; ingest is taken again below ${Math.round(heap.marksInUse.low * 100)}%)`
  );
}

function heapRefusal(heap: Pick<HeapPressure, 'reading' | 'marksInUse'>) {
  return errors.unavailable(`${heapRefusalText(heap)}; retry shortly`, 5);
}

/** How often the event loop's delays are judged, each time on what was measured since the last. */
const SATURATION_WINDOW_MS = 500;

/**
 * Drops the upload once it has taken `totalMs` since its headers, or its connection has brought
 * no byte for `idleMs` (runtime/progress-watch.ts). Received in full, it is being worked on: that
 * is not what the timeouts bound.
 */
function watchUpload(
  request: FastifyRequest,
  reply: FastifyReply,
  { totalMs, idleMs }: UploadTimeouts,
  release: () => void,
): void {
  const socket = request.raw.socket;
  const drop = (setting: string) => () => {
    release();
    dropStalledUpload(request, reply, setting);
  };
  const stop = watchProgress({
    idleMs,
    maxMs: totalMs,
    progress: () => socket.bytesRead,
    onQuiet: drop('REQUEST_IDLE_TIMEOUT_MS'),
    onOverdue: drop('REQUEST_TIMEOUT_MS'),
    done: () => request.raw.complete,
  });
  reply.raw.once('close', stop);
}

/**
 * Answers 408 when nothing was answered yet and cuts the connection: the client stopped sending
 * its body, so the rest of it is not waited for. A client that does not read the answer either
 * is cut a second later.
 */
function dropStalledUpload(request: FastifyRequest, reply: FastifyReply, setting: string): void {
  const socket = request.raw.socket;
  if (socket.destroyed) return;
  noteUploadTimedOut(request.raw);
  const message = uploadTimeoutMessage(setting);
  request.log.info({ url: request.url }, message);
  if (reply.raw.headersSent || !socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(requestTimeoutAnswer(request, message));
  setTimeout(() => socket.destroy(), 1000).unref();
}
