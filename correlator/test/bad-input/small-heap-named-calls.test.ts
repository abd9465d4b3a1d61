// A correlator on a small heap fed call-heavy circuits: MDSO, bpocore and arda traces of 100 calls
// each naming another of them, 96 to a circuit. Each planned circuit's naming index kept every
// member's named calls, and hot state's budget counted none of it: ~1.3 MiB a circuit, so a few
// dozen live circuits filled a 64 MiB heap that hot state's bounds said had room, and ingest was
// refused (503) while hot state was halved. Now the indexes are held within an allowance the
// budget counts (plan-orders.ts): every request is taken the first time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { startOnHeap } from '../helpers/child-server.js';
import { testCleanup } from '../helpers/cleanup.js';
import { serviceTelemetry, type SpanSpec } from '../helpers/sdk-bodies.js';

const HEAP_MIB = 64;
const SERVICES = ['mdso', 'bpocore', 'arda'];
const CIRCUITS = 24;
/** Per service and circuit; sent TRACES_PER_REQUEST at a time, each circuit's in turn. */
const TRACES_PER_SERVICE = 32;
const TRACES_PER_REQUEST = 8;
const CALLS = 100;
const CLIENTS = 2;

test(
  `on a ${HEAP_MIB} MiB heap, circuits of traces with ${CALLS} named calls each are taken without heap pressure`,
  { timeout: 300_000 },
  async t => {
    const cleanup = testCleanup(t);
    const server = await startOnHeap(cleanup, HEAP_MIB, 'corr-small-heap-calls-');
    const baseMs = Date.now() - 600_000;
    /** Round r of circuit c, service s: its traces r·8 … r·8+7, 30 s apart, each calling the other two services. */
    const body = async (r: number, c: number, s: number) => {
      const specs: SpanSpec[] = [];
      for (let k = 0; k < TRACES_PER_REQUEST; k++) {
        const m = (r * TRACES_PER_REQUEST + k) * SERVICES.length + s;
        const startMs = m * 1000;
        const entry = specs.length;
        specs.push({ name: 'plan', startMs, endMs: startMs + 900, kind: SpanKind.SERVER, attributes: { circuit_id: `CALLS.${c}` } });
        for (let j = 0; j < CALLS; j++)
          specs.push({
            name: 'call',
            startMs: startMs + 1 + j * 8,
            endMs: startMs + 6 + j * 8,
            kind: SpanKind.CLIENT,
            attributes: { 'peer.service': SERVICES[(s + 1 + (j % 2)) % SERVICES.length]! },
            parent: entry,
          });
      }
      return (await serviceTelemetry(SERVICES[s]!, baseMs + c * 50, specs, `calls:${r}:${c}:${s}`)).traces.protobuf;
    };
    const jobs: [number, number, number][] = [];
    for (let r = 0; r < TRACES_PER_SERVICE / TRACES_PER_REQUEST; r++)
      for (let c = 0; c < CIRCUITS; c++) for (let s = 0; s < SERVICES.length; s++) jobs.push([r, c, s]);
    const statuses = new Map<number, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        for (let i = next++; i < jobs.length; i = next++) {
          const bytes = await body(...jobs[i]!);
          for (;;) {
            if (!server.running()) return;
            const res = await fetch(`${server.url}/v1/traces`, {
              method: 'POST',
              headers: { 'content-type': 'application/x-protobuf' },
              body: bytes,
            }).catch(() => null);
            const status = res?.status ?? -1;
            await res?.arrayBuffer();
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            if (status === 200) break;
            await new Promise(resolve => setTimeout(resolve, 250));
          }
        }
      }),
    );
    const summary = JSON.stringify(Object.fromEntries(statuses));
    t.diagnostic(`answers ${summary}, peak RSS ${Math.round(server.memory().peak / 2 ** 20)} MiB`);
    assert.ok(server.running(), `the process is alive (answers ${summary}):\n${server.output().slice(-1500)}`);
    assert.deepEqual(statuses, new Map([[200, jobs.length]]), `every request taken the first time: ${summary}`);
  },
);
