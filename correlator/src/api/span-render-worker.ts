// A render worker thread (span-render-workers.ts): writes the JSON of the spans of a job from their
// bytes and hands the blocks back by transfer. Spans that need the object path stay unwritten; the
// main thread, which has their resource objects, writes them.
import { parentPort } from 'node:worker_threads';
import { otlpTypes } from '../otlp/schema.js';
import { renderSpans, type SpanSource } from './span-json-writer.js';
import type { RenderJob, RenderReply } from './span-render-workers.js';

const port = parentPort;
if (port === null) throw new Error('span-render-worker runs as a worker thread');

/** The block's memory as an ArrayBuffer of its own, to transfer: copied only when it shares one. */
function ownBuffer(b: Buffer): ArrayBuffer {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer)
    return b.buffer;
  const copy = new ArrayBuffer(b.byteLength);
  new Uint8Array(copy).set(b);
  return copy;
}

port.on('message', (job: RenderJob) => {
  let reply: RenderReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const bodies = Buffer.from(job.bodies.buffer, job.bodies.byteOffset, job.bodies.byteLength);
    const resources = job.resources.map(r => Buffer.from(r.buffer, r.byteOffset, r.byteLength));
    const sources = job.spanIds.map((spanId, k): SpanSource => ({
      body: bodies.subarray(job.offsets[k]!, job.offsets[k + 1]!),
      traceId: job.traceIds[k]!,
      spanId,
      service: job.services[k]!,
      synthetic: job.synthetic[k] === 1,
    }));
    const run = renderSpans(
      sources.length,
      k => sources[k]!,
      k => resources[job.resourceOf[k]!]!,
    );
    const blocks = run.blocks.map(ownBuffer);
    transfer.push(
      ...blocks,
      run.blockOf.buffer as ArrayBuffer,
      run.from.buffer as ArrayBuffer,
      run.to.buffer as ArrayBuffer,
    );
    transfer.push(run.startMs.buffer as ArrayBuffer, run.roots.buffer as ArrayBuffer);
    reply = {
      id: job.id,
      blocks,
      blockOf: run.blockOf,
      from: run.from,
      to: run.to,
      startMs: run.startMs,
      roots: run.roots,
    };
  } catch (e) {
    reply = { id: job.id, error: e instanceof Error ? e.message : String(e) };
    transfer.length = 0;
  }
  port.postMessage(reply, transfer);
});
/**
 * V8 optimises the writer only once it has run a while: a cold worker's first share took three to
 * five times as long as a warm one's, more than the main thread alone would take for the whole
 * view. So the worker writes a few thousand spans of the usual shapes before it says it is ready.
 */
function warmUp(): void {
  const { Span } = otlpTypes();
  const id = (fill: number, bytes: number) => Buffer.alloc(bytes, fill);
  const message = Span.fromObject({
    traceId: id(1, 16),
    spanId: id(2, 8),
    parentSpanId: id(3, 8),
    name: 'warm-up',
    kind: 2,
    startTimeUnixNano: '1795262400000000123',
    endTimeUnixNano: '1795262400005456789',
    attributes: [
      { key: 'circuit_id', value: { stringValue: '80.L1XX.005054..CHTR' } },
      { key: 'http.status_code', value: { intValue: 200 } },
      { key: 'retry', value: { boolValue: false } },
      { key: 'ratio', value: { doubleValue: 0.5 } },
      { key: 'note', value: { stringValue: 'clé "quoted"' } },
    ],
    events: [
      {
        timeUnixNano: '1795262400001000000',
        name: 'step',
        attributes: [{ key: 'attempt', value: { intValue: 1 } }],
      },
    ],
    links: [{ traceId: id(4, 16), spanId: id(5, 8), attributes: [] }],
    status: { code: 2, message: 'failed' },
  });
  const source: SpanSource = {
    body: Buffer.from(Span.encode(message).finish()),
    traceId: '01'.repeat(16),
    spanId: '02'.repeat(8),
    service: 'warm-up',
    synthetic: false,
  };
  const resource = Buffer.from(
    '"resource":{"service.name":"warm-up"},"scope":{"name":"","version":""}',
  );
  for (let round = 0; round < 12; round++)
    renderSpans(
      500,
      () => source,
      () => resource,
    );
}

warmUp();
port.postMessage('ready');
