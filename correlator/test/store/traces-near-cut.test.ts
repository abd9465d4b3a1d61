// An episode past MAX_TRACES_PER_CIRCUIT plans each new trace among the key value's traces near it,
// read at most max(4096, 2 × cap) at a time (engine.ts, MAX_TRACES_NEAR). Cut at that, the read
// kept the oldest and dropped the newest: with more than 4,096 of a circuit's traces in one window
// (a poller every second and CORR_WINDOW_SECONDS=3600), every later trace was hung from trace 4,095,
// minutes back (RV14, in both this and the code before it). The cut now keeps the latest.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { CorrelationEngine } from '../../src/correlation/engine.js';
import type { DecodedSpan } from '../../src/otlp/decoded.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { decodedResource } from '../fixtures/decoded-resource.js';

const TRACES = 4400;
const GAP_MS = 500;
// Ten a request, so each request is planned past the cut as a poller's would be, in about a second.
const PER_REQUEST = 10;
const RESOURCES = ['beorn', 'mdso', 'arda'].map(s => decodedResource(s));
const BASE_MS = Date.now() - 3_600_000 - TRACES * GAP_MS;
const traceId = (n: number) => `7e${n.toString(16).padStart(30, '0')}`;

function trace(n: number): DecodedSpan {
  const startMs = BASE_MS + n * GAP_MS;
  return {
    traceId: traceId(n),
    spanId: `8f${n.toString(16).padStart(14, '0')}`,
    parentSpanId: '',
    name: 'poll',
    kind: 2,
    startMs,
    endMs: startMs + 100,
    resource: RESOURCES[n % 3]!,
    keys: { circuit_id: 'DENSE.1' },
    links: null,
    bytes: Buffer.alloc(0),
    synthetic: false,
    statusCode: 0,
  };
}

it('past the cap, a trace with more than 4,096 of its circuit’s traces in the window is hung from the one before it', async t => {
  const store = new SqliteStore({ dataDir: ':memory:', exportBridges: null, writerThread: false });
  t.after(() => store.close());
  const engine = new CorrelationEngine(
    { windowMs: 3_600_000, maxTrackedTraces: 100_000, maxTrackedKeys: 100_000, maxTracesPerCircuit: 500, bridgeKeys: ['circuit_id'], correlationKeys: ['circuit_id'] },
    store,
  );
  for (let first = 0; first < TRACES; first += PER_REQUEST) {
    const spans = Array.from({ length: PER_REQUEST }, (_, i) => trace(first + i));
    await store.ingestSpans(spans, fresh => engine.observe(fresh, []).writes, Date.now());
  }
  const parentOf = new Map(
    (store.db.prepare('SELECT child_trace_id, trace_id FROM bridges').raw().all() as [string, string][]).map(([child, parent]) => [child, parent]),
  );
  // Each trace's nearest earlier trace is the one just before, of another service.
  const wrong: string[] = [];
  for (let n = 1; n < TRACES; n++) if (parentOf.get(traceId(n)) !== traceId(n - 1)) wrong.push(`${n}: ${parentOf.get(traceId(n)) ?? 'none'}`);
  assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} of ${TRACES - 1} hung elsewhere`);
});
