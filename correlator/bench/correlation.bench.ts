// Correlation cost per span with 10k, 100k and 1M traces in hot state (it should stay flat), the
// same work through the SQLite store, and the resident memory a tracked trace costs.
// Run: cd correlator && node --expose-gc --import tsx bench/correlation.bench.ts
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { loadConfig } from '../src/config/config.js';
import { CandidateSpans } from '../src/correlation/candidate-spans.js';
import { CorrelationEngine, type EngineOptions } from '../src/correlation/engine.js';
import { nothingStored } from '../src/correlation/nothing-stored.js';
import { keyRulesFromConfig } from '../src/ingest/key-rules.js';
import type { TraceState } from '../src/correlation/types.js';
import type { DecodedResourceScope, DecodedSpan } from '../src/otlp/decoded.js';
import { decodeTraceRequest } from '../src/otlp/trace-decoder.js';
import { emptyDerivedWrites } from '../src/store/derived-writes.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { makeTemplates, variantBody, type TemplateOptions } from './lib/otlp-payloads.js';
import { figure, gc, heading, mainThreadCpuUs } from './lib/report.js';

// 1M tracked traces need ~3-5 GB of heap, more than node's default limit on this machine: rerun
// this file with a larger one rather than measure a collector thrashing at its limit.
const HEAP_MB = 10_240;
if (getHeapStatistics().heap_size_limit < (HEAP_MB - 512) * 2 ** 20) {
  const r = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_MB}`, ...process.execArgv, fileURLToPath(import.meta.url)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const SIZES = (process.env.BENCH_CORRELATION_SIZES ?? '10000,100000,1000000').split(',').map(Number);
const STORE_SIZES = (process.env.BENCH_STORE_SIZES ?? '10000,100000').split(',').map(Number);
const ROUNDS = 3;
const BATCHES_PER_ROUND = 30;
const MEMORY_TRACES = 100_000;
const templateOptions: TemplateOptions = {
  seed: 777,
  baseMs: Date.now() - 3_600_000,
  spansPerRequest: 512,
  tracesPerCircuit: 5,
  resourceTypeAttribute: process.env.BENCH_RESOURCE_TYPE !== '0',
};
const rules = keyRulesFromConfig(loadConfig({}));

heading(
  'correlation cost and hot-state memory',
  `CorrelationEngine.observe on decoded batches of 512 SDK-serialized spans (~10 spans/trace, 5 traces/circuit, MDSO spans carry ` +
    `resource_type_id: ${templateOptions.resourceTypeAttribute}); hot state pre-filled to each size (trace states warmed, then one span per circuit of 5 traces builds the key groups), ` +
    `maxTrackedTraces = size (each new trace evicts the oldest), StateLoader returning nothing; ${ROUNDS} rounds x ${BATCHES_PER_ROUND} ` +
    `batches of new traces per size, each round 1.5 s after a forced collection, --max-old-space-size=${HEAP_MB}, the round with least CPU reported (process CPU time, GC threads included: other processes share this machine, so wall time is printed but not the figure); load average ${loadavg().map(x => x.toFixed(1)).join(' ')}`,
);

// ---- workload ---------------------------------------------------------------------------------------

const templates = makeTemplates(8, templateOptions);
const batches: DecodedSpan[][] = Array.from({ length: ROUNDS * BATCHES_PER_ROUND }, (_, i) => {
  const b = decodeTraceRequest(variantBody(templates[i % templates.length]!, 50_000 + i), rules);
  if (b.rejected > 0) throw new Error(`workload batch rejected spans: ${b.rejectionMessages.join('; ')}`);
  return b.spans;
});
const spansPerBatch = batches[0]!.length;

function engineOptions(size: number): EngineOptions {
  return {
    windowMs: 60_000,
    maxTrackedTraces: size,
    maxTrackedKeys: size,
    maxTracesPerCircuit: 500,
    bridgeKeys: ['circuit_id'],
    correlationKeys: ['circuit_id', 'resource_id', 'request_id'],
  };
}

const FILL_RESOURCES: DecodedResourceScope[] = ['sense-api', 'mdso-bpo', 'granite-inventory'].map(serviceName => ({
  serviceName,
  keys: null,
  attributes: { 'service.name': serviceName },
  resourceBytes: Buffer.from(serviceName),
  scopeName: 'fill',
  scopeVersion: '1',
}));

/** Traces of two spans (an entry and a client call), five per circuit, as fast filler of hot state. */
function fillBatch(first: number, traces: number, baseMs: number): DecodedSpan[] {
  const out: DecodedSpan[] = [];
  for (let j = first; j < first + traces; j++) {
    const traceId = `f111${j.toString(16).padStart(28, '0')}`;
    const entryId = `e${j.toString(16).padStart(15, '0')}`;
    const resource = FILL_RESOURCES[j % FILL_RESOURCES.length]!;
    const circuit = Math.floor(j / 5);
    const keys = { circuit_id: `FILL.${circuit}`, resource_id: `fill-resource-${circuit}` };
    const startMs = baseMs + (j % 5) * 1000;
    const common = { traceId, resource, keys, links: null, bytes: Buffer.alloc(0), synthetic: false, statusCode: 0 };
    out.push(
      { ...common, spanId: entryId, parentSpanId: '', name: 'handle', kind: 2, startMs, endMs: startMs + 300 },
      { ...common, spanId: `c${j.toString(16).padStart(15, '0')}`, parentSpanId: entryId, name: 'call', kind: 3, startMs: startMs + 10, endMs: startMs + 200 },
    );
  }
  return out;
}

/**
 * Hot state of `traces` tracked traces without observing 10 spans for each (1M traces would take
 * minutes): trace states are warmed directly, then one span per circuit builds the key groups.
 */
function fill(engine: CorrelationEngine, traces: number): void {
  const baseMs = templateOptions.baseMs - 600_000;
  const states: TraceState[] = [];
  for (let j = 0; j < traces; j++) {
    const traceId = `f111${j.toString(16).padStart(28, '0')}`;
    const service = FILL_RESOURCES[j % FILL_RESOURCES.length]!.serviceName;
    const startMs = baseMs + (j % 5) * 1000;
    const circuit = Math.floor(j / 5);
    states.push({
      traceId,
      services: [service, 'mdso-resource-adapter'],
      firstMs: startMs,
      lastMs: startMs + 300,
      spanLastMs: startMs + 300,
      spanCount: 10,
      errorCount: 0,
      errorLogCount: 0,
      logCount: 0,
      entry: { spanId: `e${j.toString(16).padStart(15, '0')}`, service, name: 'handle', startMs, endMs: startMs + 300, hasParent: false },
      candidates: CandidateSpans.of(Array.from({ length: 6 }, (_, k) => ({
        spanId: `${k}${j.toString(16).padStart(15, '0')}`,
        service,
        startMs: startMs + 10 * k,
        endMs: startMs + 10 * k + 40,
        kind: k % 2 === 0 ? 3 : 1,
      }))),
      keys: { circuit_id: `FILL.${circuit}`, resource_id: `fill-resource-${circuit}` },
      moreKeys: [],
      linkedTraceIds: [],
    });
    if (states.length === 10_000) engine.warm(states.splice(0));
  }
  engine.warm(states);
  for (let j = 0; j < traces; j += 5 * 256) {
    const spans: DecodedSpan[] = [];
    for (let k = j; k < Math.min(traces, j + 5 * 256); k += 5) spans.push(fillBatch(k, 1, baseMs)[0]!);
    engine.observe(spans, []);
  }
}

interface Timing {
  wallNsPerSpan: number;
  cpuNsPerSpan: number;
  /** the main thread alone (Linux), without the GC's helper threads */
  mainNsPerSpan: number | null;
  /** share of the round's wall time spent in garbage collection pauses */
  gcShare: number;
}

// GC pauses, to tell how much of a round was the collector rather than correlation itself.
let gcMs = 0;
new PerformanceObserver(list => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

/** A store's `observe` returns its promise: a round ends when every batch of it is committed. */
async function timeRounds(observe: (spans: DecodedSpan[]) => void | Promise<unknown>): Promise<Timing> {
  // The forced collection before each round frees what filling left behind; the collector's
  // threads go on sweeping that for a while, and with gigabytes of filler garbage a short pause
  // charged that sweeping to the round (most of the 1M-trace "cost" measured before).
  const settle = (ms = 10) => new Promise(r => setTimeout(r, ms));
  let best: Timing = { wallNsPerSpan: Infinity, cpuNsPerSpan: Infinity, mainNsPerSpan: null, gcShare: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    (globalThis as { gc?: () => void }).gc?.();
    await settle(1500);
    const gc0 = gcMs;
    const cpu0 = process.cpuUsage();
    const main0 = mainThreadCpuUs();
    const t0 = performance.now();
    const committed: Promise<unknown>[] = [];
    for (let i = r * BATCHES_PER_ROUND; i < (r + 1) * BATCHES_PER_ROUND; i++) {
      const done = observe(batches[i]!);
      if (done) committed.push(done);
    }
    await Promise.all(committed);
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const main1 = mainThreadCpuUs();
    const spans = BATCHES_PER_ROUND * spansPerBatch;
    const cpuNs = ((cpu.user + cpu.system) * 1e3) / spans;
    // GC entries are delivered asynchronously.
    await settle();
    if (cpuNs < best.cpuNsPerSpan) best = {
        wallNsPerSpan: (wall * 1e6) / spans,
        cpuNsPerSpan: cpuNs,
        mainNsPerSpan: main0 !== null && main1 !== null ? ((main1 - main0) * 1e3) / spans : null,
        gcShare: (gcMs - gc0) / wall,
      };
  }
  return best;
}

// ---- memory per tracked trace ---------------------------------------------------------------------------

console.log(`\n-- resident memory per tracked trace (${MEMORY_TRACES.toLocaleString('en-US')} realistic traces of ~10 spans)`);
{
  // Variants decoded one at a time so only the engine's state stays reachable.
  gc();
  const before = process.memoryUsage();
  const engine = new CorrelationEngine(engineOptions(10 * MEMORY_TRACES), nothingStored);
  let v = 200_000;
  const scratch = Buffer.alloc(Math.max(...templates.map(t => t.body.length)));
  while (engine.stats().trackedTraces < MEMORY_TRACES) {
    const t = templates[v % templates.length]!;
    engine.observe(decodeTraceRequest(variantBody(t, v++, scratch), rules).spans, []);
  }
  gc();
  const after = process.memoryUsage();
  const s = engine.stats();
  // Older state lives in buffers outside the heap (tiered-map.ts): both count.
  const retained = (m: NodeJS.MemoryUsage) => m.heapUsed + m.arrayBuffers;
  const heapPer = (retained(after) - retained(before)) / s.trackedTraces;
  const rssPer = (after.rss - before.rss) / s.trackedTraces;
  console.log(
    `  ${s.trackedTraces} traces, ${s.trackedKeys} key groups: heap + buffers +${((retained(after) - retained(before)) / 2 ** 20).toFixed(0)} MiB ` +
      `(${heapPer.toFixed(0)} B/trace retained), rss +${((after.rss - before.rss) / 2 ** 20).toFixed(0)} MiB (${rssPer.toFixed(0)} B/trace, ` +
      `RSS growth includes the collector's headroom under the ${HEAP_MB} MB heap limit, so it is an upper bound); ` +
      `at the default MAX_TRACKED_TRACES=500000 that is ~${((heapPer * 500_000) / 2 ** 30).toFixed(2)} GiB of heap and buffers`,
  );
  figure('memory.hot_state.bytes_per_trace', heapPer, 'B/trace');
  figure('memory.hot_state.rss_growth_bytes_per_trace', rssPer, 'B/trace');
  // Keep the engine reachable until measured.
  if (engine.stats().trackedTraces < 0) console.log('unreachable');
  console.log('  (measured first, in a fresh process, so RSS is not blurred by the larger phases below)');
}

// ---- engine alone ------------------------------------------------------------------------------------

console.log('\n-- engine alone (StateLoader returns nothing)');
const engineNs: number[] = [];
const engineMainNs: number[] = [];
// Whichever size was measured first came out slowest (2026-12-04: 100k first gave 4.0 µs per span
// and 10k second 3.1, the usual order the reverse): the process's first rounds still settle JIT
// feedback and the young generation's size. One pass of the first size, discarded, goes first.
{
  const warm = new CorrelationEngine(engineOptions(SIZES[0]!), nothingStored);
  fill(warm, SIZES[0]!);
  await timeRounds(spans => void warm.observe(spans, []));
  console.log(`  (a warm-up pass at ${SIZES[0]!.toLocaleString('en-US')} traces, not counted)`);
}
for (const size of SIZES) {
  gc();
  const mem0 = process.memoryUsage();
  const heap0 = mem0.heapUsed + mem0.arrayBuffers;
  const engine = new CorrelationEngine(engineOptions(size), nothingStored);
  const f0 = performance.now();
  fill(engine, size);
  const fillS = (performance.now() - f0) / 1000;
  gc();
  const mem1 = process.memoryUsage();
  const heapPerTrace = (mem1.heapUsed + mem1.arrayBuffers - heap0) / size;
  const t = await timeRounds(spans => void engine.observe(spans, []));
  const s = engine.stats();
  engineNs.push(t.cpuNsPerSpan);
  if (t.mainNsPerSpan !== null) engineMainNs.push(t.mainNsPerSpan);
  console.log(
    `  ${size.toLocaleString('en-US')} traces: ${t.wallNsPerSpan.toFixed(0)} ns/span wall, ${t.cpuNsPerSpan.toFixed(0)} ns/span cpu (main thread ${t.mainNsPerSpan?.toFixed(0) ?? '?'}), ${(t.gcShare * 100).toFixed(0)}% of the round in GC pauses ` +
      `(${(1e9 / t.wallNsPerSpan).toFixed(0)} spans/s); fill ${fillS.toFixed(1)} s, ${heapPerTrace.toFixed(0)} B heap + buffers per filler trace and its groups; ` +
      `state ${s.trackedTraces} traces / ${s.trackedKeys} keys, ${s.traceEvictions} trace evictions, ` +
      `live entries encoded for bytes ${s.traceDemotions.bytes} traces / ${s.keyDemotions.bytes} keys (${(s.liveTraceBytes / 2 ** 20).toFixed(1)} / ${(s.liveKeyBytes / 2 ** 20).toFixed(1)} MiB live)`,
  );
  const label = size >= 1e6 ? `${size / 1e6}M` : `${size / 1e3}k`;
  figure(`correlation.engine.cpu_ns_per_span.${label}_traces`, t.cpuNsPerSpan, 'ns/span');
  if (t.mainNsPerSpan !== null) figure(`correlation.engine.main_thread_ns_per_span.${label}_traces`, t.mainNsPerSpan, 'ns/span');
}
if (engineNs.length > 1) {
  const flat = Math.max(...engineNs) / Math.min(...engineNs);
  const flatMain = engineMainNs.length === engineNs.length ? Math.max(...engineMainNs) / Math.min(...engineMainNs) : NaN;
  console.log(`  largest / smallest CPU ns per span: ${flat.toFixed(2)} process, ${flatMain.toFixed(2)} main thread (1.00 = perfectly flat)`);
  figure('correlation.engine.flatness_max_over_min', flat, 'ratio', { op: '<=', value: 1.5 });
  if (Number.isFinite(flatMain)) figure('correlation.engine.flatness_main_thread', flatMain, 'ratio', { op: '<=', value: 1.5 });
}

// ---- through the store ---------------------------------------------------------------------------------

console.log(
  '\n-- through SqliteStore.ingestSpans (file-backed, WAL): spans inserted + correlation derived, one transaction per batch, ' +
    'rows written on the calling thread (STORE_WRITER_THREAD=false) so the CPU per span adds up on one thread; ' +
    'the ingest bench shows what the writer thread gains',
);
for (const size of STORE_SIZES) {
  const dir = mkdtempSync(join(tmpdir(), 'cs-bench-corr-'));
  const store = new SqliteStore({ dataDir: dir, exportBridges: null, writerThread: false });
  const engine = new CorrelationEngine(engineOptions(size), store);
  const f0 = performance.now();
  // Rows of earlier traces (their entry span only, to keep the fill short) so indexes have depth.
  for (let j = 0; j < size; j += 512) {
    const spans = fillBatch(j, Math.min(512, size - j), templateOptions.baseMs - 600_000).filter(s => s.parentSpanId === '');
    await store.ingestSpans(spans, fresh => engine.observe(fresh, []).writes, Date.now());
  }
  const fillS = (performance.now() - f0) / 1000;
  let engineCpuUs = 0;
  const t = await timeRounds(spans =>
    store.ingestSpans(
      spans,
      fresh => {
        const e0 = process.cpuUsage();
        const w = engine.observe(fresh, []).writes;
        const e = process.cpuUsage(e0);
        engineCpuUs += e.user + e.system;
        return w;
      },
      Date.now(),
    ),
  );
  const enginePart = (engineCpuUs * 1e3) / (ROUNDS * BATCHES_PER_ROUND * spansPerBatch);
  await store.close();
  rmSync(dir, { recursive: true, force: true });

  // The same spans with nothing derived: what storing the spans alone costs (at the first size only, for time).
  let tb: Timing | null = null;
  if (size === STORE_SIZES[0]) {
    const dir2 = mkdtempSync(join(tmpdir(), 'cs-bench-corr-'));
    const bare = new SqliteStore({ dataDir: dir2, exportBridges: null, writerThread: false });
    for (let j = 0; j < size; j += 512) {
      const spans = fillBatch(j, Math.min(512, size - j), templateOptions.baseMs - 600_000).filter(s => s.parentSpanId === '');
      await bare.ingestSpans(spans, () => emptyDerivedWrites(), Date.now());
    }
    tb = await timeRounds(spans => bare.ingestSpans(spans, () => emptyDerivedWrites(), Date.now()));
    await bare.close();
    rmSync(dir2, { recursive: true, force: true });
  }

  const label = size >= 1e6 ? `${size / 1e6}M` : `${size / 1e3}k`;
  console.log(
    `  ${size.toLocaleString('en-US')} traces stored and tracked: ${t.cpuNsPerSpan.toFixed(0)} ns/span cpu (main thread ${t.mainNsPerSpan?.toFixed(0) ?? '?'}), ${t.wallNsPerSpan.toFixed(0)} wall, ` +
      `${(t.gcShare * 100).toFixed(0)}% in GC pauses ` +
      `(${(1e9 / t.cpuNsPerSpan).toFixed(0)} spans per cpu-s); of which engine ~${enginePart.toFixed(0)} ns cpu (mean of all rounds)` +
      (tb
        ? `, span rows alone ${tb.cpuNsPerSpan.toFixed(0)} ns cpu, so derived writes ~${(t.cpuNsPerSpan - tb.cpuNsPerSpan - enginePart).toFixed(0)} ns cpu`
        : '') +
      `; fill ${fillS.toFixed(1)} s`,
  );
  figure(`correlation.store_path.cpu_ns_per_span.${label}_traces`, t.cpuNsPerSpan, 'ns/span');
  if (tb) figure(`correlation.store_path.spans_only.cpu_ns_per_span.${label}_traces`, tb.cpuNsPerSpan, 'ns/span');
}

