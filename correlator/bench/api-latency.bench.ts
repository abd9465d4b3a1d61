// Query-side latencies over loopback HTTP: how soon a bridge is visible in the API after the child
// trace arrives, how long the stitched view of a 50-trace / 5,000-span circuit takes, and the
// detail of a long-lived circuit's last 10 minutes.
// Run: cd correlator && node --expose-gc --import tsx bench/api-latency.bench.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { circuitIdFor, circuitTraceBodies, makeTemplates, variantBody } from './lib/otlp-payloads.js';
import { figure, gc, heading, percentile } from './lib/report.js';

const BACKGROUND_REQUESTS = 100;
const BRIDGE_CIRCUITS = 300;
const STITCHED_TRACES = 50;
const STITCHED_SPANS_PER_TRACE = 100;
const STITCHED_QUERIES = 30;
/** A circuit polled every second for hours: one-span traces, far more than MAX_TRACES_PER_CIRCUIT. */
const LONG_CIRCUIT_TRACES = 20_000;
const LONG_CIRCUIT_EVERY_MS = 1000;
const RANGED_QUERIES = 30;
/** Circuits of the same shape, each viewed once: the view of spans no query has rendered yet. */
const FIRST_VIEW_CIRCUITS = 12;
/**
 * First views of other circuits before those: V8 takes about this many 5,000-span views after the
 * process's first to settle the writer's optimised code on real data (each of them 100-300 ms).
 */
const FRESH_PROCESS_VIEWS = 8;
const baseMs = Date.now() - 30 * 60_000;

// SPAN_JSON_CACHE_BYTES=0 in the environment shows the views without held span JSON, and
// VIEW_RENDER_WORKERS=0 the first views rendered on the main thread alone.
const cacheBytes = process.env.SPAN_JSON_CACHE_BYTES;
const renderWorkers = process.env.VIEW_RENDER_WORKERS;

heading(
  'API latency',
  `buildApp() on 127.0.0.1 (SQLite WAL in ${tmpdir()}, default limits), client in the same process over keep-alive HTTP ` +
    `(timed stitched views counted against Content-Length, not joined), ` +
    `one request at a time, no concurrent ingest; store pre-loaded with ${BACKGROUND_REQUESTS} requests of 512 spans; ` +
    `SPAN_JSON_CACHE_BYTES ${cacheBytes ?? 'default'}, VIEW_RENDER_WORKERS ${renderWorkers ?? 'default'}; ` +
    `load average ${loadavg().map(x => x.toFixed(1)).join(' ')}`,
);

const dataDir = mkdtempSync(join(tmpdir(), 'cs-bench-api-'));
const config = loadConfig({
  DATA_DIR: dataDir,
  LOG_LEVEL: 'warn',
  ...(cacheBytes ? { SPAN_JSON_CACHE_BYTES: cacheBytes } : {}),
  ...(renderWorkers ? { VIEW_RENDER_WORKERS: renderWorkers } : {}),
});
const app = await buildApp({ config });
await app.listen({ host: '127.0.0.1', port: 0 });
const addr = app.server.address();
if (!addr || typeof addr === 'string') throw new Error('no address');
const port = addr.port;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/**
 * When full (mark-compact) collections ended, on the clock of performance.now(): a first view
 * that takes one is about twice as slow, since its marking shares the two cores with the view.
 */
const fullGcEnds = (() => {
  const ends: number[] = [];
  const observer = new PerformanceObserver(list => {
    for (const e of list.getEntries()) {
      const { detail } = e as PerformanceEntry & { detail?: { kind?: number } | null };
      if (detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) ends.push(e.startTime + e.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    /** The ends at or after `from`, once the entries queued so far are delivered. */
    async since(from: number): Promise<number[]> {
      await new Promise(resolve => setTimeout(resolve, 0));
      return ends.filter(t => t >= from);
    },
    stop: () => observer.disconnect(),
  };
})();

interface Reply {
  status: number;
  body: Buffer;
  ms: number;
}

/**
 * One request. With `keep` false the reply's bytes are counted against its Content-Length instead
 * of joined: a client in its own process, as Grafana is, would not put a copy of each multi-MiB
 * view on the server's heap, where it makes V8 collect more often.
 */
function http(method: 'GET' | 'POST', path: string, body?: Buffer, keep = true): Promise<Reply> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        path,
        method,
        headers: body ? { 'content-type': 'application/x-protobuf', 'content-length': body.length } : {},
      },
      res => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          if (keep) chunks.push(c);
        });
        res.on('end', () => {
          const ms = performance.now() - started;
          const announced = Number(res.headers['content-length']);
          if (!keep && bytes !== announced) reject(new Error(`${path}: ${bytes} bytes received, Content-Length ${announced}`));
          else resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), ms });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function postTraces(body: Buffer): Promise<Reply> {
  const r = await http('POST', '/v1/traces', body);
  if (r.status !== 200) throw new Error(`POST /v1/traces answered ${r.status}: ${r.body.toString().slice(0, 300)}`);
  return r;
}

// ---- background data ----------------------------------------------------------------------------------

{
  const templates = makeTemplates(4, { seed: 99, baseMs, spansPerRequest: 512, tracesPerCircuit: 5, resourceTypeAttribute: true });
  const t0 = performance.now();
  for (let i = 0; i < BACKGROUND_REQUESTS; i++) await postTraces(variantBody(templates[i % templates.length]!, 300_000 + i));
  console.log(`background: ${BACKGROUND_REQUESTS * 512} spans posted in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

// ---- bridge latency -------------------------------------------------------------------------------------

{
  const visible: number[] = [];
  const postMs: number[] = [];
  let polls = 0;
  for (let i = 0; i < BRIDGE_CIRCUITS; i++) {
    const circuitId = circuitIdFor(500_000 + i);
    const { bodies, traceIds } = circuitTraceBodies({
      seed: 10_000 + i,
      startMs: baseMs + i * 1000,
      circuitId,
      traces: 2,
      spansPerTrace: 10,
      resourceTypeAttribute: true,
    });
    await postTraces(bodies[0]!);
    const t0 = performance.now();
    postMs.push((await postTraces(bodies[1]!)).ms);
    for (;;) {
      polls++;
      const r = await http('GET', `/api/circuits/${encodeURIComponent(circuitId)}`);
      const detail = r.status === 200 ? (JSON.parse(r.body.toString()) as { bridges: { childTraceId: string }[] }) : null;
      if (detail?.bridges.some(b => b.childTraceId === traceIds[1])) break;
      if (performance.now() - t0 > 10_000) throw new Error(`no bridge for ${circuitId} after 10 s`);
    }
    visible.push(performance.now() - t0);
  }
  visible.sort((a, b) => a - b);
  postMs.sort((a, b) => a - b);
  console.log(
    `bridge visible after child arrival, ${BRIDGE_CIRCUITS} circuits of 2 traces x 10 spans: p50 ${percentile(visible, 50).toFixed(1)} ms, ` +
      `p99 ${percentile(visible, 99).toFixed(1)} ms, max ${visible.at(-1)!.toFixed(1)} ms (child POST alone p50 ${percentile(postMs, 50).toFixed(1)} ms); ` +
      `${polls} GET /api/circuits/:id polls (${(polls / BRIDGE_CIRCUITS).toFixed(2)} per circuit: 1.00 = visible on the first look)`,
  );
  figure('api.bridge_visible.p50', percentile(visible, 50), 'ms');
  figure('api.bridge_visible.p99', percentile(visible, 99), 'ms', { op: '<', value: 50 });
}

// ---- stitched view -----------------------------------------------------------------------------------------

{
  const stitchedCircuit = async (n: number): Promise<string> => {
    const circuitId = circuitIdFor(777_777 + n);
    const { bodies } = circuitTraceBodies({
      seed: 4242 + n,
      startMs: baseMs + 5 * 60_000 + n * 3_600_000,
      circuitId,
      traces: STITCHED_TRACES,
      spansPerTrace: STITCHED_SPANS_PER_TRACE,
      resourceTypeAttribute: true,
    });
    for (const b of bodies) await postTraces(b);
    return `/api/circuits/${encodeURIComponent(circuitId)}/trace`;
  };
  const firstViewPaths: string[] = [];
  for (let n = 1; n <= FIRST_VIEW_CIRCUITS; n++) firstViewPaths.push(await stitchedCircuit(n));
  const freshPaths: string[] = [];
  for (let n = 0; n <= FRESH_PROCESS_VIEWS; n++) freshPaths.push(await stitchedCircuit(FIRST_VIEW_CIRCUITS + 1 + n));
  /** The time of each view, and whether a full collection ended while it ran. */
  const firstViewsOf = async (paths: string[]): Promise<{ ms: number[]; fullGc: boolean[] }> => {
    const ms: number[] = [];
    const spans: [from: number, to: number][] = [];
    for (const p of paths) {
      const from = performance.now();
      const r = await http('GET', p, undefined, false);
      if (r.status !== 200) throw new Error(`GET ${p} answered ${r.status}`);
      ms.push(r.ms);
      spans.push([from, performance.now()]);
    }
    const ends = await fullGcEnds.since(spans[0]![0]);
    return { ms, fullGc: spans.map(([from, to]) => ends.some(t => t >= from && t <= to)) };
  };
  // A fresh process's first large views run the span writer while V8 is still optimising it on
  // real data (on the main thread and in each render worker): shown on their own, as the ingest
  // benchmark's warm-up is, and in viewing order.
  const [cold, ...fresh] = (await firstViewsOf(freshPaths)).ms;
  console.log(
    `a fresh process's first ${FRESH_PROCESS_VIEWS + 1} views of such circuits (span writer being optimised), in viewing order: ` +
      `${[cold!, ...fresh].map(ms => ms.toFixed(0)).join(', ')} ms`,
  );
  figure('api.stitched_view_5000_spans.process_first_view', cold!, 'ms');
  figure('api.stitched_view_5000_spans.fresh_process_views.max', Math.max(...fresh), 'ms');
  const { ms: firstViews, fullGc } = await firstViewsOf(firstViewPaths);
  const inOrder = firstViews.map((ms, i) => `${ms.toFixed(0)}${fullGc[i] ? '*' : ''}`).join(', ');
  const withGc = fullGc.filter(Boolean).length;
  const withoutGc = firstViews.filter((_, i) => !fullGc[i]).sort((a, b) => a - b);
  firstViews.sort((a, b) => a - b);
  console.log(
    `then the first view of each of ${FIRST_VIEW_CIRCUITS} other circuits of the same shape (every span rendered from its stored bytes): ` +
      `p50 ${percentile(firstViews, 50).toFixed(1)} ms, max ${firstViews.at(-1)!.toFixed(1)} ms (in viewing order: ${inOrder} ms; ` +
      `* = a full collection ended during the view, ${withGc} of ${FIRST_VIEW_CIRCUITS}; the others: ` +
      `${withoutGc.length ? `p50 ${percentile(withoutGc, 50).toFixed(1)} ms, max ${withoutGc.at(-1)!.toFixed(1)} ms` : 'none'})`,
  );
  figure('api.stitched_view_5000_spans.first_view.p50', percentile(firstViews, 50), 'ms');
  figure('api.stitched_view_5000_spans.first_view.max', firstViews.at(-1)!, 'ms', { op: '<', value: 100 });
  figure('api.stitched_view_5000_spans.first_view.with_full_gc', withGc, 'views');

  const path = await stitchedCircuit(0);
  const first = await http('GET', path);
  const view = JSON.parse(first.body.toString()) as { spans: unknown[]; bridges: unknown[]; traceIds: string[]; spanCount: number; truncated: boolean };
  console.log(
    `stitched view: ${view.traceIds.length} traces, ${view.spans.length} spans returned (spanCount ${view.spanCount}, truncated ${view.truncated}), ` +
      `${view.bridges.length} bridges, ${(first.body.length / 2 ** 20).toFixed(1)} MiB of JSON`,
  );
  if (view.traceIds.length !== STITCHED_TRACES) throw new Error(`expected ${STITCHED_TRACES} traces in the stitched view`);
  // The check above parsed 6 MiB of JSON into this process's heap: a client in its own process (as
  // Grafana is) leaves no such garbage for the server's first timed views to collect.
  gc();
  const times: number[] = [];
  for (let i = 0; i < STITCHED_QUERIES; i++) {
    const r = await http('GET', path, undefined, false);
    if (r.status !== 200) throw new Error(`GET ${path} answered ${r.status}`);
    times.push(r.ms);
  }
  times.sort((a, b) => a - b);
  const detailTimes: number[] = [];
  for (let i = 0; i < STITCHED_QUERIES; i++) detailTimes.push((await http('GET', `${path.slice(0, -'/trace'.length)}`)).ms);
  detailTimes.sort((a, b) => a - b);
  console.log(
    `GET ${path} x ${STITCHED_QUERIES} after its first view (span JSON held, SPAN_JSON_CACHE_BYTES): ` +
      `p50 ${percentile(times, 50).toFixed(1)} ms, p99 ${percentile(times, 99).toFixed(1)} ms (time to last byte); ` +
      `circuit detail (summary, traces, correlations, bridges) p50 ${percentile(detailTimes, 50).toFixed(1)} ms, p99 ${percentile(detailTimes, 99).toFixed(1)} ms`,
  );
  figure('api.stitched_view_5000_spans.p50', percentile(times, 50), 'ms');
  figure('api.stitched_view_5000_spans.p99', percentile(times, 99), 'ms', { op: '<', value: 100 });
  figure('api.circuit_detail_50_traces.p99', percentile(detailTimes, 99), 'ms');
}

// ---- ranged detail of a long-lived circuit -------------------------------------------------------------

{
  const circuitId = circuitIdFor(888_888);
  const endMs = Date.now();
  const { bodies } = circuitTraceBodies({
    seed: 8888,
    startMs: endMs - LONG_CIRCUIT_TRACES * LONG_CIRCUIT_EVERY_MS,
    circuitId,
    traces: LONG_CIRCUIT_TRACES,
    spansPerTrace: 1,
    resourceTypeAttribute: true,
    everyMs: LONG_CIRCUIT_EVERY_MS,
  });
  // 500 traces to a request: concatenated requests are one request with all their resource spans.
  for (let i = 0; i < bodies.length; i += 500) await postTraces(Buffer.concat(bodies.slice(i, i + 500)));
  const path = `/api/circuits/${encodeURIComponent(circuitId)}?from=${endMs - 10 * 60_000}&to=${endMs}`;
  const first = await http('GET', path);
  if (first.status !== 200) throw new Error(`GET ${path} answered ${first.status}`);
  const detail = JSON.parse(first.body.toString()) as { summary: { traceCount: number }; traces: unknown[]; correlations: unknown[]; bridges: unknown[] };
  const times: number[] = [];
  for (let i = 0; i < RANGED_QUERIES; i++) times.push((await http('GET', path)).ms);
  times.sort((a, b) => a - b);
  console.log(
    `ranged circuit detail, last 10 minutes of a circuit of ${detail.summary.traceCount} one-span traces a second apart ` +
      `(${detail.traces.length} traces, ${detail.correlations.length} correlations, ${detail.bridges.length} bridges in the range) x ${RANGED_QUERIES}: ` +
      `p50 ${percentile(times, 50).toFixed(1)} ms, p99 ${percentile(times, 99).toFixed(1)} ms`,
  );
  figure('api.ranged_circuit_detail_20000_traces.p50', percentile(times, 50), 'ms');
  figure('api.ranged_circuit_detail_20000_traces.p99', percentile(times, 99), 'ms');
}

fullGcEnds.stop();
agent.destroy();
await app.close();
rmSync(dataDir, { recursive: true, force: true });
