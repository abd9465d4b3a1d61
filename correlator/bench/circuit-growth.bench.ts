// What a span costs as the circuit it names accumulates traces: a circuit polled for days keeps
// adding traces to its episode up to MAX_TRACES_PER_CIRCUIT, and the cost of each must not grow
// with how many it has. Past the cap the episode plans each new trace among the circuit's traces
// around it (engine.ts, stitchLocally), read from the store: measured apart, at the default cap.
// Run: cd correlator && node --expose-gc --import tsx bench/run.ts circuit-growth
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CorrelationEngine } from '../src/correlation/engine.js';
import type { DecodedResourceScope, DecodedSpan } from '../src/otlp/decoded.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { figure, gc, heading, mainThreadCpuUs } from './lib/report.js';

const SIZES = (process.env.BENCH_GROWTH_SIZES ?? '10,500').split(',').map(Number);
const CIRCUITS = 20;
/** Requests timed at each size, each one trace more in every circuit (as a poller's run brings). */
const TIMED = 10;
/** Below the cap: every size within one episode's members. */
const CAP = 2000;
const GAP_MS = 100;
/** Past the cap: MAX_TRACES_PER_CIRCUIT's default, and a poller's 2 s between a circuit's traces. */
const DEFAULT_CAP = 500;
const POLL_GAP_MS = 2000;
const PAST_CAP_SIZE = 2 * DEFAULT_CAP;

const RESOURCES: DecodedResourceScope[] = ['beorn', 'palantir', 'arda', 'mdso'].map(serviceName => ({
  serviceName,
  keys: null,
  attributes: { 'service.name': serviceName },
  resourceBytes: Buffer.from(serviceName),
  scopeName: 'bench',
  scopeVersion: '1',
}));

heading(
  'cost per span as a circuit grows',
  `SqliteStore.ingestSpans (rows on the calling thread) and the engine; ${CIRCUITS} circuits, each request one trace of 3 spans ` +
    `(entry, two client calls) in every circuit, services rotating, ${GAP_MS} ms apart (one episode), MAX_TRACES_PER_CIRCUIT ${CAP}; ` +
    `${TIMED} requests timed once every circuit holds each size; load average ${loadavg().map(x => x.toFixed(1)).join(' ')}`,
);

interface Shape {
  cap: number;
  gapMs: number;
}

/** One request: the n-th trace of every circuit. */
function request(n: number, baseMs: number, gapMs: number): DecodedSpan[] {
  const out: DecodedSpan[] = [];
  for (let c = 0; c < CIRCUITS; c++) {
    const j = n * CIRCUITS + c;
    const traceId = `b0c1${j.toString(16).padStart(28, '0')}`;
    const entryId = `e${j.toString(16).padStart(15, '0')}`;
    const startMs = baseMs + n * gapMs;
    const common = { traceId, resource: RESOURCES[n % RESOURCES.length]!, links: null, bytes: Buffer.alloc(0), synthetic: false, statusCode: 0 };
    out.push({ ...common, spanId: entryId, parentSpanId: '', name: 'activate', kind: 2, startMs, endMs: startMs + 50, keys: { circuit_id: `GROW.${c}`, request_id: `R.${j}` } });
    for (let k = 0; k < 2; k++)
      out.push({ ...common, spanId: `${k}${j.toString(16).padStart(15, '0')}`, parentSpanId: entryId, name: `step${k}`, kind: 3, startMs: startMs + 1, endMs: startMs + 20, keys: null });
  }
  return out;
}

/** CPU µs per span of the requests after every circuit holds `size` traces. */
async function measure(size: number, { cap, gapMs }: Shape = { cap: CAP, gapMs: GAP_MS }): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-bench-grow-'));
  const store = new SqliteStore({ dataDir: dir, exportBridges: null, writerThread: false });
  const engine = new CorrelationEngine(
    { windowMs: 60_000, maxTrackedTraces: 500_000, maxTrackedKeys: 500_000, maxTracesPerCircuit: cap, bridgeKeys: ['circuit_id'], correlationKeys: ['circuit_id', 'request_id'] },
    store,
  );
  // Recent enough for the time rules however long the circuit's run.
  const baseMs = Date.now() - 3_600_000 - (size + TIMED) * gapMs;
  const ingest = (n: number) => store.ingestSpans(request(n, baseMs, gapMs), fresh => engine.observe(fresh, []).writes, Date.now());
  for (let n = 0; n < size; n++) await ingest(n);
  gc();
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuUs();
  for (let n = size; n < size + TIMED; n++) await ingest(n);
  const cpu = process.cpuUsage(cpu0);
  const main1 = mainThreadCpuUs();
  const spans = TIMED * CIRCUITS * 3;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const us = (cpu.user + cpu.system) / spans;
  const main = main0 !== null && main1 !== null ? ` (main thread ${((main1 - main0) / spans).toFixed(1)})` : '';
  const shape = cap === CAP && gapMs === GAP_MS ? '' : ` (cap ${cap}, ${gapMs} ms apart)`;
  console.log(`  ${size.toLocaleString('en-US')} traces per circuit${shape}: ${us.toFixed(1)} µs cpu per span${main}`);
  return us;
}

// Once untimed: the first size measured otherwise paid for compiling the code.
await measure(SIZES[0]!);
const perSpan: number[] = [];
for (const size of SIZES) {
  perSpan.push(await measure(size));
  figure(`circuit_growth.cpu_us_per_span.${size}_traces_per_circuit`, perSpan.at(-1)!, 'µs/span');
}
figure(`circuit_growth.ratio_${SIZES.at(-1)}_over_${SIZES[0]}`, perSpan.at(-1)! / perSpan[0]!, 'ratio', { op: '<=', value: 2 });

// A circuit polled every 2 s past the default cap, against the same circuits at their start.
const poll = { cap: DEFAULT_CAP, gapMs: POLL_GAP_MS };
const pollStart = await measure(SIZES[0]!, poll);
const pastCap = await measure(PAST_CAP_SIZE, poll);
figure(`circuit_growth.past_cap.cpu_us_per_span.${PAST_CAP_SIZE}_traces_per_circuit`, pastCap, 'µs/span');
figure(`circuit_growth.past_cap.ratio_${PAST_CAP_SIZE}_over_${SIZES[0]}`, pastCap / pollStart, 'ratio', { op: '<=', value: 2 });
// Ten traces a second of one circuit past the cap: each new one is planned among the ~600 of the
// window around it, read back and decoded (engine.ts, stitchWithin). Printed, with no goal: the
// cost grows with a circuit's traces within the window, not with its total.
const dense = await measure(PAST_CAP_SIZE, { cap: DEFAULT_CAP, gapMs: GAP_MS });
figure(`circuit_growth.past_cap_dense.ratio_${PAST_CAP_SIZE}_over_${SIZES[0]}`, dense / perSpan[0]!, 'ratio');
