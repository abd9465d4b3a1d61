// A repeat of an activation within the window is a new activation (stitching/repeat-activation.ts).
// A review (RV9) ran the demo twice 10 s apart: the second run's beorn trace hung from the first
// run's arda trace (arda -> beorn), a call that never happened. The same story must come out
// whatever order the traces arrive in and across a restart, and the rule must not cost the
// activation's own bridges: the seed's main case (beorn answers 202, MDSO does not trace, arda
// comes 2 s later), an arda lookup of the same operation before it, a named callback.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import type { CircuitDetail, ServiceGraph } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { testCleanup, tempDir } from '../helpers/cleanup.js';
import { serviceTelemetry, type SpanSpec } from '../helpers/sdk-bodies.js';
import { postAccepted } from './app-fixture.js';

interface Labelled {
  label: string;
  traceId: string;
  body: Buffer;
}

async function traceOf(label: string, service: string, atMs: number, specs: SpanSpec[]): Promise<Labelled> {
  const t = await serviceTelemetry(service, atMs, specs, `repeat:${label}`);
  return { label, traceId: t.traceId, body: Buffer.from(t.traces.protobuf) };
}

/** One activation as the seed runs it: beorn answers at once, arda 2 s later; MDSO traced too when `withMdso`. */
async function activation(tag: string, circuit: string, atMs: number, withMdso: boolean): Promise<Labelled[]> {
  const out = [
    await traceOf(`${tag}.beorn`, 'beorn', atMs, [
      { name: 'POST /beorn/api/v1/service/create', kind: SpanKind.SERVER, startMs: 0, endMs: 60, attributes: { circuit_id: circuit } },
      { name: 'POST', kind: SpanKind.CLIENT, startMs: 10, endMs: 50, parent: 0, attributes: { 'server.address': 'mdso.example.net' } },
    ]),
  ];
  if (withMdso)
    out.push(
      await traceOf(`${tag}.mdso`, 'mdso', atMs + 500, [
        { name: 'mdso.product.CircuitDetailsCollector', kind: SpanKind.SERVER, startMs: 0, endMs: 1800, attributes: { 'mdso.circuit_id': circuit } },
        { name: 'GET', kind: SpanKind.CLIENT, startMs: 1400, endMs: 1700, parent: 0, attributes: { 'server.address': 'arda' } },
      ]),
    );
  out.push(
    await traceOf(`${tag}.arda`, 'arda', atMs + 2000, [
      { name: 'get_topology', kind: SpanKind.SERVER, startMs: 0, endMs: 200, attributes: { circuit_id: circuit } },
      // The demo's database call says nothing of where it went: only its name tells.
      { name: 'SELECT granite.topology', kind: SpanKind.CLIENT, startMs: 20, endMs: 150, parent: 0 },
    ]),
  );
  return out;
}

async function open(dir: string): Promise<FastifyInstance> {
  const app = await buildApp({ config: loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir, CORR_WINDOW_SECONDS: '60' }) });
  await app.ready();
  return app;
}

/** The circuit's bridges as `parent label -> child label`, sorted. */
async function bridges(app: FastifyInstance, circuit: string, labels: ReadonlyMap<string, string>): Promise<string[]> {
  const detail = (await app.inject(`/api/circuits/${encodeURIComponent(circuit)}`)).json<CircuitDetail>();
  return detail.bridges.map(b => `${labels.get(b.traceId) ?? b.traceId} -> ${labels.get(b.childTraceId) ?? b.childTraceId}`).sort();
}

/** A fixed shuffle, so a failure names an order that can be run again. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1_103_515_245 + 12_345) & 0x7fffffff;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const DELIVERIES: { title: string; order: (all: Labelled[]) => Labelled[]; restartAfter?: number }[] = [
  { title: 'in time order', order: all => all },
  { title: 'backwards', order: all => [...all].reverse() },
  { title: 'shuffled (seed 5)', order: all => shuffled(all, 5) },
  { title: 'shuffled (seed 9)', order: all => shuffled(all, 9) },
  { title: 'shuffled, half before a restart and half after', order: all => shuffled(all, 3), restartAfter: 0.5 },
];

/** Sends `all` in the delivery's order (closing and reopening the app at its restart) and reads each circuit's bridges. */
async function deliver(
  t: { after: (fn: () => Promise<void>) => void },
  all: Labelled[],
  circuits: readonly string[],
  delivery: (typeof DELIVERIES)[number],
): Promise<{ bridges: Record<string, string[]>; graph: ServiceGraph }> {
  const cleanup = testCleanup(t);
  const dir = await tempDir(cleanup, 'corr-repeat-');
  const labels = new Map(all.map(x => [x.traceId, x.label]));
  const order = delivery.order(all);
  const cut = delivery.restartAfter === undefined ? order.length : Math.floor(order.length * delivery.restartAfter);
  let app = await open(dir);
  try {
    for (const x of order.slice(0, cut)) await postAccepted(app, '/v1/traces', x.body);
    if (cut < order.length) {
      await app.close();
      app = await open(dir);
      for (const x of order.slice(cut)) await postAccepted(app, '/v1/traces', x.body);
    }
    const out: Record<string, string[]> = {};
    for (const c of circuits) out[c] = await bridges(app, c, labels);
    const graph = (await app.inject('/api/service-graph')).json<ServiceGraph>();
    return { bridges: out, graph };
  } finally {
    await app.close();
  }
}

describe('a repeat activation within the window is a new activation', () => {
  // Runs 10, 30 and 50 s apart, four each, with and without MDSO's own trace: each run keeps its
  // own bridges and none hangs from the run before it.
  const base = Date.now() - 30 * 60_000;
  const scenarios: { circuit: string; gapS: number; withMdso: boolean }[] = [];
  for (const gapS of [10, 30, 50]) for (const withMdso of [false, true]) scenarios.push({ circuit: `80.L1XX.R${gapS}${withMdso ? 'M' : 'N'}..CHTR`, gapS, withMdso });
  const RUNS = 4;

  async function all(): Promise<Labelled[]> {
    const out: Labelled[] = [];
    for (const s of scenarios)
      for (let k = 0; k < RUNS; k++) out.push(...(await activation(`${s.circuit}.r${k}`, s.circuit, base + k * s.gapS * 1000, s.withMdso)));
    return out;
  }

  const expected = Object.fromEntries(
    scenarios.map(s => [
      s.circuit,
      Array.from({ length: RUNS }, (_, k) => {
        const run = `${s.circuit}.r${k}`;
        return s.withMdso ? [`${run}.beorn -> ${run}.mdso`, `${run}.mdso -> ${run}.arda`] : [`${run}.beorn -> ${run}.arda`];
      })
        .flat()
        .sort(),
    ]),
  );

  for (const delivery of DELIVERIES)
    it(`each run keeps its own bridges and no arda -> beorn appears (${delivery.title})`, async t => {
      const got = await deliver(t, await all(), scenarios.map(s => s.circuit), delivery);
      assert.deepEqual(got.bridges, expected);
      const backwards = got.graph.edges.filter(e => e.source === 'arda' && e.target === 'beorn');
      assert.deepEqual(backwards, [], 'no bridged edge runs from arda back to beorn');
      assert.ok(got.graph.edges.some(e => e.source === 'beorn' && e.target === 'arda' && e.bridged), 'the runs without MDSO show beorn -> arda');
    });
});

describe('what the repeat rule must not take', () => {
  const base = Date.now() - 20 * 60_000;

  it('an earlier arda lookup of the same operation that called nothing leaves the activation its arda bridge', async t => {
    const circuit = '80.L1XX.LOOKUP..CHTR';
    const lookup = await traceOf('lookup.arda', 'arda', base, [
      { name: 'get_topology', kind: SpanKind.SERVER, startMs: 0, endMs: 200, attributes: { circuit_id: circuit } },
    ]);
    const run = await activation('run', circuit, base + 20_000, false);
    for (const delivery of DELIVERIES.slice(0, 3)) {
      const got = await deliver(t, [lookup, ...run], [circuit], delivery);
      assert.ok(got.bridges[circuit]!.includes('run.beorn -> run.arda'), `${delivery.title}: ${JSON.stringify(got.bridges)}`);
      assert.equal(got.bridges[circuit]!.filter(b => b.endsWith('-> run.arda')).length, 1, delivery.title);
    }
  });

  it('a callback that names beorn still hangs from the call, though it repeats the run’s first operation', async t => {
    const circuit = '80.L1XX.CALLBACK..CHTR';
    const run = await activation('run', circuit, base, true);
    // MDSO's plan script posts back to beorn's create route by name, 4 s in.
    const script = await traceOf('script.mdso', 'mdso', base + 3000, [
      { name: 'mdso.product.Notify', kind: SpanKind.SERVER, startMs: 0, endMs: 2000, attributes: { 'mdso.circuit_id': circuit } },
      { name: 'POST', kind: SpanKind.CLIENT, startMs: 1000, endMs: 1300, parent: 0, attributes: { 'server.address': 'beorn' } },
    ]);
    const callback = await traceOf('callback.beorn', 'beorn', base + 4010, [
      { name: 'POST /beorn/api/v1/service/create', kind: SpanKind.SERVER, startMs: 0, endMs: 100, attributes: { circuit_id: circuit } },
      { name: 'POST', kind: SpanKind.CLIENT, startMs: 10, endMs: 50, parent: 0, attributes: { 'server.address': 'mdso.example.net' } },
    ]);
    for (const delivery of DELIVERIES.slice(0, 3)) {
      const got = await deliver(t, [...run, script, callback], [circuit], delivery);
      assert.ok(got.bridges[circuit]!.includes('script.mdso -> callback.beorn'), `${delivery.title}: ${JSON.stringify(got.bridges)}`);
    }
  });
});
