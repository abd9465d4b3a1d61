// Property test: what is stored must not depend on how the data arrives. Each seed makes a random
// "plan" of beorn → MDSO → arda-like traces that share no trace context (several circuits, some
// sharing resources, some naming two circuits, some with W3C span links, some calls naming a later
// trace's service, logs with and without a trace), then sends it through the real app in several
// deliveries: trace by trace in time order, span by span shuffled in small requests with replays
// and a restart, and all at once backwards.
// The circuits, their correlations and bridges and the stitched view must come out the same.
// ORDER_SEEDS=16 runs more seeds (CI runs a few: each delivery is a fresh app).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { ROOT_CONTEXT, SpanKind, trace, type Link } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { createRng } from '../../src/mdso/simulator/rng.js';
import { loadConfig } from '../../src/config/config.js';
import { ChosenIds } from '../fixtures/otel-sdk.js';

const SEEDS = Number(process.env.ORDER_SEEDS ?? 3);
const WINDOW_S = 20;
// mdso-sim: a host mdso-sim.lab names it by name, and mdso only by prefix (RV6's 'sim').
const SERVICES = ['beorn', 'mdso', 'arda', 'palantir', 'mdso-sim'] as const;
const CIRCUITS = ['OC-A', 'OC-B', 'OC-C'];
const RESOURCES = ['RS-1', 'RS-2'];
/** Where traces cluster, in seconds: some clusters are one episode, some further apart than the window. */
const CLUSTERS_S = [0, 14, 50, 95];

interface SpanPlan {
  spanId: string;
  parent: string;
  start: number;
  end: number;
  kind: SpanKind;
  attrs: Record<string, string>;
  links: { traceId: string; spanId: string }[];
}

interface TracePlan {
  service: string;
  traceId: string;
  start: number;
  spans: SpanPlan[];
}

interface LogPlan {
  service: string;
  record: Record<string, string>;
  timeMs: number;
}

/** One unit of delivery: a span of a trace, or a log record. */
type Unit = { span: SpanPlan; trace: TracePlan } | { log: LogPlan };

const hex = (n: number, chars: number, prefix: string) => (prefix + n.toString(16)).padStart(chars, '0');

function makePlan(seed: number, t0: number): { traces: TracePlan[]; logs: LogPlan[] } {
  const rnd = createRng(seed).next;
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const traces: TracePlan[] = [];
  const count = 10 + Math.floor(rnd() * 7);
  let spanNo = 0;
  const spanId = () => hex(++spanNo, 16, `5${seed.toString(16)}0`);
  for (let k = 0; k < count; k++) {
    const traceId = hex(k + 1, 32, `7${seed.toString(16)}0`);
    // Milliseconds, rounded so two traces rarely start together (ties are ordered by trace id).
    const start = t0 + Math.round((pick(CLUSTERS_S) + rnd() * 12) * 1000);
    const duration = 300 + Math.round(rnd() * 4000);
    const circuit = pick(CIRCUITS);
    const keyed: Record<string, string> = { circuit_id: circuit };
    if (rnd() < 0.35) keyed.resource_id = pick(RESOURCES);
    // Most roots carry the circuit; some traces name it only on a later step.
    const keyOnRoot = rnd() < 0.75;
    const root: SpanPlan = {
      spanId: spanId(),
      // Some entries were called from outside (a remote parent): a later root-less span competes.
      parent: rnd() < 0.15 ? hex(k + 1, 16, 'e') : '',
      start,
      end: start + duration,
      kind: SpanKind.SERVER,
      attrs: keyOnRoot ? keyed : {},
      links: [],
    };
    if (traces.length > 0 && rnd() < 0.2) {
      const other = pick(traces);
      root.links.push({ traceId: other.traceId, spanId: other.spans[0]!.spanId });
    }
    const spans = [root];
    const steps = 1 + Math.floor(rnd() * 3);
    for (let s = 0; s < steps; s++) {
      const from = start + Math.round(rnd() * duration * 0.8);
      const attrs: Record<string, string> = {};
      if (!keyOnRoot && s === 0) Object.assign(attrs, keyed);
      // A report that names a second circuit on one call.
      else if (rnd() < 0.12) attrs.circuit_id = pick(CIRCUITS);
      spans.push({
        spanId: spanId(),
        parent: root.spanId,
        start: from,
        end: Math.min(start + duration, from + 50 + Math.round(rnd() * 1500)),
        kind: rnd() < 0.6 ? SpanKind.CLIENT : SpanKind.INTERNAL,
        attrs,
        links: [],
      });
    }
    traces.push({ service: pick(SERVICES), traceId, start, spans });
  }
  nameLaterServices(traces, createRng(seed + 7919).next);
  const logs: LogPlan[] = [];
  for (let n = Math.floor(rnd() * 4); n > 0; n--) {
    const timeMs = t0 + Math.round((pick(CLUSTERS_S) + rnd() * 12) * 1000);
    // A log of no trace that names a circuit (MDSO's), or a trace's log that runs it on.
    const ofTrace = rnd() < 0.5 ? pick(traces) : null;
    // Each record its own text: two identical records cannot be told from a replay of one.
    const record: Record<string, string> = ofTrace
      ? { timestamp: new Date(Math.max(timeMs, ofTrace.start)).toISOString(), message: `step ${n}`, trace_id: ofTrace.traceId }
      : { timestamp: new Date(timeMs).toISOString(), message: `plan step ${n}`, circuit_id: pick(CIRCUITS) };
    logs.push({ service: ofTrace ? ofTrace.service : 'bpocore', record, timeMs });
  }
  return { traces, logs };
}

/**
 * Some client calls say where they went, as instrumented calls do: the service of a trace starting
 * soon after the call (or a little before it, within the clock-skew tolerance), by peer.service, by
 * host or by a host prefix (`mdso-sim.lab`, which is by name mdso-sim's). That trace's bridge then hangs from the call's trace, not the nearest one (NamingIndex),
 * so the rule must come out the same however the calls and traces arrive. Its own generator, so
 * the plans of each seed are otherwise what they were.
 */
function nameLaterServices(traces: readonly TracePlan[], rnd: () => number): void {
  const byStart = [...traces].sort((a, b) => a.start - b.start);
  for (const tr of traces)
    for (const s of tr.spans) {
      if (s.kind !== SpanKind.CLIENT || rnd() < 0.4) continue;
      const later = byStart.filter(o => o !== tr && o.start >= s.start - 30).slice(0, 3);
      if (later.length === 0) continue;
      const named = later[Math.floor(rnd() * later.length)]!.service;
      const how = rnd();
      if (how < 0.5) s.attrs['peer.service'] = named;
      else if (how < 0.75) s.attrs['server.address'] = `${named}.example.net`;
      else s.attrs['server.address'] = `${named.replace(/-sim$/, '')}-sim.lab`;
    }
}

/** The plan's spans made by the OpenTelemetry SDK, one ReadableSpan each, by span id. */
async function sdkSpans(traces: readonly TracePlan[]): Promise<Map<string, ReadableSpan>> {
  const out = new Map<string, ReadableSpan>();
  for (const service of SERVICES) {
    const ids = new ChosenIds();
    const sink = new InMemorySpanExporter();
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': service }),
      idGenerator: ids,
      spanProcessors: [new SimpleSpanProcessor({ exporter: sink })],
    });
    const tracer = provider.getTracer('order-independence');
    for (const tr of traces) {
      if (tr.service !== service) continue;
      for (const s of tr.spans) {
        // Each span on its own: its parent, in this trace or outside it, as remote context.
        const ctx = s.parent ? trace.setSpanContext(ROOT_CONTEXT, { traceId: tr.traceId, spanId: s.parent, traceFlags: 1, isRemote: true }) : ROOT_CONTEXT;
        ids.traceId = tr.traceId;
        ids.spanId = s.spanId;
        const links: Link[] = s.links.map(l => ({ context: { ...l, traceFlags: 1 } }));
        tracer.startSpan(`${service}.${s.kind === SpanKind.SERVER ? 'handle' : 'step'}`, { kind: s.kind, startTime: s.start, attributes: s.attrs, links }, ctx).end(s.end);
      }
    }
    await provider.forceFlush();
    for (const sp of sink.getFinishedSpans()) out.set(sp.spanContext().spanId, sp);
    await provider.shutdown();
  }
  return out;
}

class Correlator {
  app: FastifyInstance | null = null;
  constructor(private readonly dir: string) {}

  static async start(t: TestContext): Promise<Correlator> {
    const c = new Correlator(await mkdtemp(join(tmpdir(), 'corr-order-')));
    t.after(async () => {
      await c.app?.close();
      await rm(c.dir, { recursive: true, force: true });
    });
    await c.open();
    return c;
  }

  private async open(): Promise<void> {
    this.app = await buildApp({ config: loadConfig({ DATA_DIR: this.dir, LOG_LEVEL: 'silent', CORR_WINDOW_SECONDS: String(WINDOW_S) }) });
    await this.app.ready();
  }

  async restart(): Promise<void> {
    await this.app!.close();
    this.app = null;
    await this.open();
  }

  async sendSpans(spans: ReadableSpan[]): Promise<void> {
    const r = await this.app!.inject({
      method: 'POST',
      url: '/v1/traces',
      headers: { 'content-type': 'application/x-protobuf' },
      payload: Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!),
    });
    assert.equal(r.statusCode, 200, r.body);
  }

  async sendLogs(logs: LogPlan[]): Promise<void> {
    // One request per service: the JSON log format names one resource.
    for (const service of new Set(logs.map(l => l.service))) {
      const records = logs.filter(l => l.service === service).map(l => l.record);
      const r = await this.app!.inject({ method: 'POST', url: '/api/logs', payload: { resource: { service }, records } });
      assert.equal(r.statusCode, 200, r.body);
    }
  }

  /** Units as requests: a run of spans is one OTLP request, a run of logs one logs request. */
  async deliver(units: readonly Unit[], sdk: ReadonlyMap<string, ReadableSpan>): Promise<void> {
    for (let i = 0; i < units.length; ) {
      const first = units[i]!;
      let j = i + 1;
      while (j < units.length && 'log' in units[j]! === 'log' in first) j++;
      const run = units.slice(i, j);
      if ('log' in first) await this.sendLogs(run.map(u => (u as { log: LogPlan }).log));
      else await this.sendSpans(run.map(u => sdk.get((u as { span: SpanPlan }).span.spanId)!));
      i = j;
    }
  }

  async get<T>(url: string): Promise<T> {
    const r = await this.app!.inject({ method: 'GET', url });
    assert.equal(r.statusCode, 200, `${url}: ${r.body}`);
    return r.json<T>();
  }

  /** What the API serves about every circuit, in a form two deliveries compare by. */
  async state(): Promise<unknown> {
    type Listed = { circuits: { circuitId: string }[] };
    const circuits = (await this.get<Listed>('/api/circuits?limit=1000')).circuits;
    const out: Record<string, unknown> = { circuits: normalise(circuits) };
    for (const { circuitId } of circuits) {
      const id = encodeURIComponent(circuitId);
      out[`detail ${circuitId}`] = normalise(await this.get(`/api/circuits/${id}`));
      out[`correlations ${circuitId}`] = normalise(await this.get(`/api/correlations?circuit_id=${id}`));
      out[`stitched ${circuitId}`] = normalise(byResource(await this.get(`/api/circuits/${id}/trace`)));
    }
    return out;
  }
}

/** Lists sorted by their JSON (the order of equals is no property of the data), and no arrival times. */
function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (!ARRIVAL_FIELDS.has(k)) out[k] = normalise(v);
    return out;
  }
  return value;
}

type Stitched = { resources: { id: number; attributes: unknown }[]; spans: { resourceId: number }[] };

/** A view numbers its resources as it meets them: each span names its resource's attributes instead. */
function byResource(view: Stitched): unknown {
  const attributes = new Map(view.resources.map(r => [r.id, JSON.stringify(r.attributes)]));
  return {
    ...view,
    resources: view.resources.map(r => ({ ...r, id: undefined })),
    spans: view.spans.map(s => ({ ...s, resourceId: attributes.get(s.resourceId) })),
  };
}

/** Fields that record when the correlator received or made something, not what the data says. */
const ARRIVAL_FIELDS = new Set(['createdAtMs', 'createdAt', 'receivedAtMs', 'ingestedAtMs', 'updatedAtMs']);

/** Deliveries of the same units: each a list of requests and restarts. */
function deliveries(units: Unit[], seed: number): [string, (Unit[] | 'restart')[]][] {
  const rnd = createRng(seed * 7919 + 1).next;
  const inOrder: (Unit[] | 'restart')[] = [];
  const byTrace = new Map<TracePlan, Unit[]>();
  const logs: Unit[] = [];
  for (const u of units) {
    if ('log' in u) logs.push(u);
    else byTrace.set(u.trace, [...(byTrace.get(u.trace) ?? []), u]);
  }
  for (const [, traceUnits] of [...byTrace].sort(([a], [b]) => a.start - b.start)) inOrder.push(traceUnits);
  if (logs.length > 0) inOrder.push(logs);

  const shuffled = [...units];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  const split: (Unit[] | 'restart')[] = [];
  for (let i = 0; i < shuffled.length; ) {
    const n = 1 + Math.floor(rnd() * 5);
    split.push(shuffled.slice(i, i + n));
    i += n;
    // Replays: a request sent again later, as a client retries.
    if (rnd() < 0.2) split.push(shuffled.slice(Math.floor(rnd() * i), i));
  }
  split.splice(Math.floor(split.length / 2), 0, 'restart');

  const backwards = [...units].reverse();
  const half = Math.ceil(backwards.length / 2);
  return [
    ['trace by trace in time order', inOrder],
    ['span by span shuffled, replays, a restart', split],
    ['backwards in two requests, the first sent again', [backwards.slice(0, half), backwards.slice(half), backwards.slice(0, half)]],
  ];
}

describe('stored results do not depend on the order, split or replay of the data', () => {
  for (let seed = 1; seed <= SEEDS; seed++)
    it(`seed ${seed}`, async t => {
      const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;
      const plan = makePlan(seed, t0);
      const sdk = await sdkSpans(plan.traces);
      const units: Unit[] = [...plan.traces.flatMap(tr => tr.spans.map(span => ({ span, trace: tr }))), ...plan.logs.map(log => ({ log }))];
      const runs: { name: string; state: unknown }[] = [];
      for (const [name, steps] of deliveries(units, seed)) {
        const c = await Correlator.start(t);
        for (const step of steps) {
          if (step === 'restart') await c.restart();
          else await c.deliver(step, sdk);
        }
        runs.push({ name, state: await c.state() });
        await c.app!.close();
        c.app = null;
      }
      const first = runs[0]!.state as Record<string, unknown>;
      assert.ok(Object.keys(first).length > 1, 'the plan made circuits');
      for (const { name, state } of runs.slice(1))
        for (const [part, expected] of Object.entries(first))
          assert.deepEqual((state as Record<string, unknown>)[part], expected, `seed ${seed}, ${part}: ${name} gives what ${runs[0]!.name} gives`);
    });
});
