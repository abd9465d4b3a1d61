// The live tier of hot state is bounded by what live-entry-bytes.ts estimates its entries hold: the
// estimate must follow the heap they hold, on the bench's traffic and on heavy traces and circuits.
// Each shape is fed to two engines alike but for which entries stay live; what the one with them
// live holds beyond the other is what they cost live.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { makeTemplates, variantBody } from '../../bench/lib/otlp-payloads.js';
import { loadConfig } from '../../src/config/config.js';
import { CorrelationEngine, type EngineOptions } from '../../src/correlation/engine.js';
import { nothingStored } from '../../src/correlation/nothing-stored.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import type { DecodedSpan } from '../../src/otlp/decoded.js';
import { decodeTraceRequest } from '../../src/otlp/trace-decoder.js';
import { callHeavyTrace } from '../fixtures/call-heavy-traces.js';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const BASE_MS = Date.now() - 3_600_000;
type Batches = () => Iterable<DecodedSpan[]>;

/** Batches of the bench's correlation payloads: SDK-made traces of ~10 spans, 5 a circuit. */
function benchBatches(count: number): Batches {
  const templates = makeTemplates(4, { seed: 777, baseMs: BASE_MS, spansPerRequest: 512, tracesPerCircuit: 5, resourceTypeAttribute: true });
  const rules = keyRulesFromConfig(loadConfig({}));
  return function* () {
    for (let i = 0; i < count; i++) yield decodeTraceRequest(variantBody(templates[i % templates.length]!, 50_000 + i), rules).spans;
  };
}

/** Trace m of circuit c with `spans` spans, as an MDSO plan script's (call-heavy-traces.ts). */
const floodTrace = (c: number, m: number, spans: number): DecodedSpan[] => callHeavyTrace(BASE_MS, 'FLOOD.', c, m, spans);

/** `circuits` circuits of `members` traces, `perBatch` traces of each circuit a batch. */
function floodBatches(circuits: number, members: number, spans: number, perBatch: number): Batches {
  return function* () {
    for (let m = 0; m < members; m += perBatch) {
      const batch: DecodedSpan[] = [];
      for (let c = 0; c < circuits; c++) for (let k = m; k < Math.min(members, m + perBatch); k++) batch.push(...floodTrace(c, k, spans));
      yield batch;
    }
  };
}

function engine(liveBytes: { traces: number; keys: number }): CorrelationEngine {
  const opts: EngineOptions = {
    windowMs: 60_000,
    maxTrackedTraces: 1_000_000,
    maxTrackedKeys: 1_000_000,
    maxTracesPerCircuit: 500,
    liveEntries: 1_000_000,
    liveBytes,
    // Planning orders are counted apart (plan-orders.ts): none is kept.
    namingIndexBytes: 0,
    bridgeKeys: ['circuit_id'],
    correlationKeys: ['circuit_id', 'resource_id', 'request_id'],
  };
  return new CorrelationEngine(opts, nothingStored);
}

/** What an engine fed `batches` holds on the heap after full collections (encoded entries' buffers are not heap). */
function heldBy(batches: Batches, liveBytes: { traces: number; keys: number }): { e: CorrelationEngine; heap: number } {
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  const e = engine(liveBytes);
  for (const spans of batches()) e.observe(spans, []);
  collectGarbage();
  return { e, heap: process.memoryUsage().heapUsed - before };
}

/** Estimated and measured bytes per live trace (`kind` traces) or key group (keys), the other kind encoded in both engines. */
function perEntry(batches: Batches, kind: 'traces' | 'keys'): { estimate: number; measured: number; entries: number } {
  const none = { traces: 0, keys: 0 };
  // Once unmeasured: the code compiled for the first run is heap too.
  heldBy(batches, none);
  const encoded = heldBy(batches, none);
  const live = heldBy(batches, { ...none, [kind]: Infinity });
  const s = live.e.stats();
  const entries = kind === 'traces' ? s.trackedTraces : s.trackedKeys;
  const estimate = kind === 'traces' ? s.liveTraceBytes : s.liveKeyBytes;
  assert.equal(encoded.e.stats()[kind === 'traces' ? 'liveTraceBytes' : 'liveKeyBytes'], 0, 'the other engine keeps none live');
  return { estimate: estimate / entries, measured: (live.heap - encoded.heap) / entries, entries };
}

describe('live-entry-bytes estimates what live entries hold, within a third', () => {
  const shapes: [name: string, batches: Batches, kind: 'traces' | 'keys'][] = [
    ['the bench’s traces', benchBatches(24), 'traces'],
    ['the bench’s key groups', benchBatches(96), 'keys'],
    ['traces of 100 spans', floodBatches(20, 60, 100, 10), 'traces'],
    ['circuits of 300 traces', floodBatches(24, 300, 10, 30), 'keys'],
  ];
  for (const [name, batches, kind] of shapes)
    it(name, t => {
      const { estimate, measured, entries } = perEntry(batches, kind);
      const ratio = estimate / measured;
      const line = `${name}: ${entries} ${kind}, estimated ${estimate.toFixed(0)} B each, measured ${measured.toFixed(0)} B (${ratio.toFixed(2)})`;
      t.diagnostic(line);
      assert.ok(ratio > 0.65 && ratio < 1.35, line);
    });
});
