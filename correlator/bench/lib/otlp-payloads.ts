// Realistic OTLP trace request bodies made by the official SDK: spans recorded by real SDK tracers
// (one TracerProvider per service, so several resources per request) and serialized by
// ProtobufTraceSerializer. Generating hundreds of thousands of distinct spans through the SDK would
// dominate the bench, so a few templates are made once and each request is a variant of one: ids and
// per-circuit values are rewritten in place, byte for byte, so the protobuf stays valid and every
// request is new data for the store (real inserts, not duplicates).
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type HrTime, type Span } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { TracerProvider, type IdGenerator, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace';

export const SERVICES = [
  'sense-api',
  'sense-orchestrator',
  'mdso-bpo',
  'mdso-resource-adapter',
  'granite-inventory',
  'device-config',
] as const;

export interface TemplateOptions {
  seed: number;
  /** Start of the first trace of each template, epoch ms. */
  baseMs: number;
  spansPerRequest: number;
  /** Traces per circuit within one request. */
  tracesPerCircuit: number;
  /** Add `mdso.resource_type` (→ resource_type_id, one value for all) to MDSO services' spans, as MDSO spans carry. */
  resourceTypeAttribute: boolean;
}

/** A byte range in a template rewritten per variant. */
interface Slot {
  offset: number;
  /** ordinal of the circuit within the template (for circuit-scoped values) */
  ordinal: number;
}

export interface Template {
  body: Buffer;
  spanCount: number;
  traceCount: number;
  circuitCount: number;
  traceIdOffsets: number[];
  spanIdOffsets: number[];
  /** 6 decimal digits inside a circuit id */
  circuitSlots: Slot[];
  /** 12 hex digits ending a resource uuid */
  resourceSlots: Slot[];
}

class Rng {
  constructor(private s: number) {}
  next(): number {
    // mulberry32
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  hex(bytes: number): string {
    let s = '';
    for (let i = 0; i < bytes; i++) s += (1 + this.int(255)).toString(16).padStart(2, '0');
    return s;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

class SeededIds implements IdGenerator {
  constructor(private readonly rng: Rng) {}
  generateTraceId(): string {
    return this.rng.hex(16);
  }
  generateSpanId(): string {
    return this.rng.hex(8);
  }
}

/** Collects ended spans synchronously (the SDK's SimpleSpanProcessor exports asynchronously). */
class Collector implements SpanProcessor {
  readonly spans: ReadableSpan[] = [];
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    this.spans.push(span);
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

const hr = (ms: number): HrTime => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

export function circuitIdFor(n: number): string {
  return `51.KGFN.${String(n % 1_000_000).padStart(6, '0')}..CHTR`;
}

function resourceUuidFor(n: number): string {
  return `7c9e6679-7425-40de-944b-${(n % 2 ** 48).toString(16).padStart(12, '0')}`;
}

/** A service's tracer; the resource carries the attributes a real deployment sets. */
function providers(rng: Rng, collector: Collector) {
  return new Map(
    SERVICES.map((service, i) => {
      const provider = new TracerProvider({
        resource: resourceFromAttributes({
          'service.name': service,
          'service.version': `2.${i}.7`,
          'service.namespace': service.split('-')[0]!,
          'deployment.environment.name': 'production',
          'host.name': `${service}-7d9f8b-${i}x2kq`,
          'telemetry.sdk.language': 'nodejs',
          'telemetry.sdk.name': 'opentelemetry',
          'telemetry.sdk.version': '3.1.1',
        }),
        idGenerator: new SeededIds(rng),
        spanProcessors: [collector],
      });
      return [service, provider.getTracer(`${service}-instrumentation`, '1.4.0')] as const;
    }),
  );
}

/**
 * One trace of about `size` spans: an entry span of `entryService`, internal steps, and client calls
 * into two other services (each with a server span and a child step there). Thirteen attributes per
 * span including circuit_id, one event per span.
 */
function recordTrace(
  rng: Rng,
  tracers: ReturnType<typeof providers>,
  entryService: (typeof SERVICES)[number],
  size: number,
  startMs: number,
  circuit: { id: string; resourceUuid: string },
  step: number,
  withResourceType: boolean,
): number {
  const others = SERVICES.filter(s => s !== entryService);
  let made = 0;
  let t = startMs;
  const attrs = (service: string, route: string, extra: Record<string, string | number>) => ({
    circuit_id: circuit.id,
    'mdso.resource_id': circuit.resourceUuid,
    ...(withResourceType && service.startsWith('mdso') ? { 'mdso.resource_type': 'charter.resourceTypes.NetworkService' } : { 'mdso.step_kind': 'activation' }),
    'http.request.method': rng.pick(['GET', 'POST', 'PUT']),
    'http.route': route,
    'http.response.status_code': 200,
    'server.address': `${service}.svc.cluster.local`,
    'server.port': 8443,
    'url.scheme': 'https',
    'network.protocol.version': '1.1',
    'user_agent.original': 'sense-client/4.2 (+node)',
    'sense.step': `step-${step}`,
    ...extra,
  });
  const start = (service: (typeof SERVICES)[number], name: string, kind: SpanKind, at: number, ctx: Context, extra: Record<string, string | number>): Span => {
    made++;
    const s = tracers.get(service)!.startSpan(name, { kind, startTime: hr(at), attributes: attrs(service, `/api/v1/${name}`, extra) }, ctx);
    s.addEvent('step.completed', { 'step.outcome': 'ok', 'step.attempt': 1 }, hr(at + 1));
    return s;
  };
  const root = start(entryService, `${entryService}.handle`, SpanKind.SERVER, t, ROOT_CONTEXT, { 'code.function': 'handle' });
  const rootCtx = trace.setSpan(ROOT_CONTEXT, root);
  const ends: [Span, number][] = [];
  while (made < size) {
    t += 2 + rng.int(20);
    const remaining = size - made;
    if (remaining >= 3 && rng.next() < 0.6) {
      const callee = rng.pick(others);
      const client = start(entryService, `call ${callee}`, SpanKind.CLIENT, t, rootCtx, { 'peer.service': callee });
      const server = start(callee, `${callee}.serve`, SpanKind.SERVER, t + 1, trace.setSpan(ROOT_CONTEXT, client), { 'code.function': 'serve' });
      const inner = start(callee, `${callee}.work`, SpanKind.INTERNAL, t + 2, trace.setSpan(ROOT_CONTEXT, server), { 'code.function': 'work' });
      const d = 5 + rng.int(40);
      ends.push([inner, t + 2 + d], [server, t + 3 + d], [client, t + 4 + d]);
      t += d;
    } else {
      const s = start(entryService, `${entryService}.step`, SpanKind.INTERNAL, t, rootCtx, { 'code.function': 'step' });
      const d = 1 + rng.int(10);
      ends.push([s, t + d]);
    }
  }
  for (const [s, at] of ends) s.end(hr(at));
  if (rng.next() < 0.05) root.setStatus({ code: SpanStatusCode.ERROR, message: 'downstream failed' });
  const endMs = t + 5;
  root.end(hr(endMs));
  return endMs;
}

function offsetsOf(body: Buffer, needle: Buffer): number[] {
  const out: number[] = [];
  for (let i = body.indexOf(needle); i >= 0; i = body.indexOf(needle, i + 1)) out.push(i);
  return out;
}

/** Templates whose spans are all distinct; deterministic for a given seed so two processes agree. */
export function makeTemplates(count: number, opts: TemplateOptions): Template[] {
  const rng = new Rng(opts.seed);
  const out: Template[] = [];
  for (let ti = 0; ti < count; ti++) {
    const collector = new Collector();
    const tracers = providers(rng, collector);
    let circuitOrdinal = 0;
    let traceCount = 0;
    const circuitIds: string[] = [];
    const uuids: string[] = [];
    while (collector.spans.length < opts.spansPerRequest) {
      // Placeholder values, unique inside the template, overwritten per variant.
      const circuit = { id: circuitIdFor(900_000 + circuitOrdinal), resourceUuid: resourceUuidFor(0xfff000000000 + circuitOrdinal) };
      circuitIds.push(circuit.id);
      uuids.push(circuit.resourceUuid);
      let t = opts.baseMs + circuitOrdinal * 3000;
      for (let k = 0; k < opts.tracesPerCircuit && collector.spans.length < opts.spansPerRequest; k++) {
        const size = Math.min(8 + rng.int(5), opts.spansPerRequest - collector.spans.length);
        // Each step of a circuit is handled by the next service: the bridge planner links them.
        const entry = SERVICES[(circuitOrdinal + k) % SERVICES.length]!;
        t = recordTrace(rng, tracers, entry, size, t + 50 + rng.int(500), circuit, k, opts.resourceTypeAttribute);
        traceCount++;
      }
      circuitOrdinal++;
    }
    const spans = collector.spans;
    const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
    const traceIds = new Set(spans.map(s => s.spanContext().traceId));
    const traceIdOffsets = [...traceIds].flatMap(id => offsetsOf(body, Buffer.from(id, 'hex')));
    const spanIdOffsets = spans.flatMap(s => offsetsOf(body, Buffer.from(s.spanContext().spanId, 'hex')));
    const circuitSlots = circuitIds.flatMap((id, ordinal) => offsetsOf(body, Buffer.from(id)).map(o => ({ offset: o + 8, ordinal })));
    const resourceSlots = uuids.flatMap((u, ordinal) => offsetsOf(body, Buffer.from(u)).map(o => ({ offset: o + 24, ordinal })));
    if (traceIdOffsets.length !== spans.length) throw new Error(`template ${ti}: trace id found ${traceIdOffsets.length} times for ${spans.length} spans`);
    if (circuitSlots.length !== spans.length) throw new Error(`template ${ti}: circuit id found ${circuitSlots.length} times for ${spans.length} spans`);
    out.push({
      body,
      spanCount: spans.length,
      traceCount,
      circuitCount: circuitOrdinal,
      traceIdOffsets,
      spanIdOffsets,
      circuitSlots,
      resourceSlots,
    });
  }
  return out;
}

/** Circuits per variant are numbered from here; bench phases use disjoint index ranges. */
export function variantCircuitNumber(t: Template, variant: number, ordinal: number): number {
  return variant * t.circuitCount + ordinal;
}

function mix64(n: number): Buffer {
  // splitmix64 over a safe integer; the 8 bytes XOR-ed into ids make each variant's ids distinct.
  let x = (BigInt(n) + 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn;
  x = ((x ^ (x >> 30n)) * 0xbf58476d1ce4e5b9n) & 0xffffffffffffffffn;
  x = ((x ^ (x >> 27n)) * 0x94d049bb133111ebn) & 0xffffffffffffffffn;
  x ^= x >> 31n;
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(x);
  return b;
}

/** Variant `n` of a template: new trace, span, circuit and resource ids; same structure and size. */
export function variantBody(t: Template, n: number, into?: Buffer): Buffer {
  // `into` (at least t.body.length bytes) avoids a fresh allocation per variant, for memory measurements.
  const b = into ? into.subarray(0, t.body.length) : Buffer.from(t.body);
  if (into) t.body.copy(b);
  const k = mix64(n);
  for (const o of t.traceIdOffsets) for (let i = 0; i < 8; i++) b[o + 8 + i]! ^= k[i]!;
  for (const o of t.spanIdOffsets) for (let i = 0; i < 8; i++) b[o + i]! ^= k[i]!;
  for (const s of t.circuitSlots) b.write(String(variantCircuitNumber(t, n, s.ordinal) % 1_000_000).padStart(6, '0'), s.offset, 'latin1');
  for (const s of t.resourceSlots) b.write((variantCircuitNumber(t, n, s.ordinal) % 2 ** 48).toString(16).padStart(12, '0'), s.offset, 'latin1');
  return b;
}

/**
 * One circuit's traces, each serialized as its own request (as they arrive in life: one step after
 * another). Every trace's entry service differs from the previous one's, so each later trace is a
 * bridge candidate.
 */
export function circuitTraceBodies(o: {
  seed: number;
  startMs: number;
  circuitId: string;
  traces: number;
  spansPerTrace: number;
  resourceTypeAttribute: boolean;
  /** Each trace starts this long after the one before it; else 50-550 ms after it ends. */
  everyMs?: number;
}): { bodies: Buffer[]; traceIds: string[] } {
  const rng = new Rng(o.seed);
  const collector = new Collector();
  const tracers = providers(rng, collector);
  const bodies: Buffer[] = [];
  const traceIds: string[] = [];
  const circuit = { id: o.circuitId, resourceUuid: resourceUuidFor(o.seed) };
  let t = o.startMs;
  for (let k = 0; k < o.traces; k++) {
    const entry = SERVICES[k % SERVICES.length]!;
    const from = collector.spans.length;
    const at = o.everyMs !== undefined ? o.startMs + k * o.everyMs : t + 50 + rng.int(500);
    t = recordTrace(rng, tracers, entry, o.spansPerTrace, at, circuit, k, o.resourceTypeAttribute);
    const spans = collector.spans.slice(from);
    traceIds.push(spans[0]!.spanContext().traceId);
    bodies.push(Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!));
  }
  return { bodies, traceIds };
}
