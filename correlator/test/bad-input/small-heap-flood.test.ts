// A correlator on a small heap flooded with large JSON requests by many clients at once. Each
// request is admitted by the bytes of its body (MAX_INFLIGHT_BYTES, 256 MiB by default), but
// holds several times its JSON text on the heap while it is parsed, decoded and correlated: 24 of
// them at once needed more than a 64 MiB heap has, and V8 stopped the process ("Reached heap
// limit") before any full collection could call for relief. Now the bodies in flight are held to
// what the heap has room for (runtime/heap-headroom.ts): the process stays up, answers only 200,
// 429 or 503, and takes every request in the end.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startOnHeap } from '../helpers/child-server.js';
import { testCleanup } from '../helpers/cleanup.js';

const HEAP_MIB = 64;
const CLIENTS = 24;
const REQUESTS = 36;
const TRACES_PER_REQUEST = 200;
const SPANS_PER_TRACE = 20;
const CIRCUITS = 40;
/** Sending stops then, whatever was accepted. */
const DEADLINE_MS = 50_000;

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** OTLP JSON of request `i`: its traces of one root and its children, each naming a circuit. */
function jsonBody(i: number, baseMs: number): string {
  const spans: unknown[] = [];
  for (let t = 0; t < TRACES_PER_REQUEST; t++) {
    const g = i * TRACES_PER_REQUEST + t;
    const traceId = hex(0xf10_0000 + g, 32);
    const t0 = baseMs + g * 10;
    for (let k = 0; k < SPANS_PER_TRACE; k++) {
      const nano = (ms: number) => `${ms}000000`;
      spans.push({
        traceId,
        spanId: hex(g * SPANS_PER_TRACE + k + 1, 16),
        ...(k > 0 ? { parentSpanId: hex(g * SPANS_PER_TRACE + 1, 16) } : {}),
        name: k === 0 ? 'flood.handle' : `flood.step${k}`,
        kind: k === 0 ? 2 : 1,
        startTimeUnixNano: nano(t0 + k),
        endTimeUnixNano: nano(t0 + k + 5),
        attributes: [
          { key: 'circuit_id', value: { stringValue: `FLOOD.${g % CIRCUITS}` } },
          { key: 'flood.step', value: { intValue: String(k) } },
        ],
      });
    }
  }
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'beorn' } }] },
        scopeSpans: [{ scope: { name: 'flood' }, spans }],
      },
    ],
  });
}

test(
  `on a ${HEAP_MIB} MiB heap, ${CLIENTS} clients sending large JSON requests leave the process up`,
  { timeout: 120_000 },
  async t => {
    const cleanup = testCleanup(t);
    const server = await startOnHeap(cleanup, HEAP_MIB, 'corr-small-heap-flood-');
    const baseMs = Date.now() - 600_000;
    const statuses = new Map<number, number>();
    const refusals = new Set<string>();
    const deadline = Date.now() + DEADLINE_MS;
    let next = 0;
    let taken = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        for (let i = next++; i < REQUESTS; i = next++) {
          const body = jsonBody(i, baseMs);
          for (;;) {
            if (!server.running() || Date.now() > deadline) return;
            const res = await fetch(`${server.url}/v1/traces`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body,
            }).catch(() => null);
            const status = res?.status ?? -1;
            const text = (await res?.text()) ?? '';
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            if (status === 200) {
              taken++;
              break;
            }
            refusals.add(`${status} ${text.slice(0, 200)}`);
            await new Promise(resolve => setTimeout(resolve, 250));
          }
        }
      }),
    );
    const summary = JSON.stringify(Object.fromEntries(statuses));
    if (server.running())
      t.diagnostic(`answers ${summary}, ${taken} of ${REQUESTS} taken, peak RSS ${Math.round(server.memory().peak / 2 ** 20)} MiB`);
    for (const r of refusals) t.diagnostic(r);
    assert.ok(server.running(), `the process is alive (answers ${summary}):\n${server.output().slice(-1500)}`);
    assert.deepEqual(
      [...statuses.keys()].filter(s => s !== 200 && s !== 429 && s !== 503),
      [],
      `only 200/429/503: ${summary}`,
    );
    assert.equal(taken, REQUESTS, `every request taken in the end: ${summary}`);
  },
);
