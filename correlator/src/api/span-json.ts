// Stored spans → the JSON array of a view's API Spans in timeline order, and the reply around it.
// Each span is written from its stored bytes by span-json-writer.ts (or, for the spans it cannot
// write, through the object path here: decoded into a Span and serialized as the schema
// serializer would); spans whose JSON the cache holds are not written again. A large view shares
// the writing with the render workers.
import type { Span } from '@correlation-station/api-schema';
import type { FastifyReply } from 'fastify';
import type { StoredResource, StoredSpan, ViewSpan } from '../store/store.js';
import { type JsonParts, JsonPartsBuilder } from './json-parts.js';
import { emptyHeldJsonSink, type HeldJsonSink, type ViewLookup } from './rendered-span-cache.js';
import { COMMA, type RenderedRun, type Written, renderSpans } from './span-json-writer.js';
import type { SpanRenderWorkers } from './span-render-workers.js';
import { apiResources, toApiSpan } from './span-view.js';
import { timelineOrder } from '../store/timeline-order.js';

const COMMA_BYTES = Buffer.from([COMMA]);

/** The schema serializer's output for an attribute map (`additionalProperties: {}`: every key). */
export function attributeMapJson(map: Record<string, unknown>): string {
  let json = '';
  for (const key of Object.keys(map)) {
    const value = map[key];
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    json += `${json ? ',' : '{'}${JSON.stringify(key)}:${JSON.stringify(value)}`;
  }
  return json ? `${json}}` : '{}';
}

function str(s: string): string {
  return JSON.stringify(s);
}

function numberJson(n: number): string {
  return n === Infinity || n === -Infinity ? 'null' : String(n);
}

/** A Span object in schema property order, as the schema serializer writes it: the object path. */
export function apiSpanJson(span: Span): string {
  const status = span.status.message !== undefined ? `,"message":${str(span.status.message)}` : '';
  return (
    `{"traceId":${str(span.traceId)},"spanId":${str(span.spanId)},"parentSpanId":${str(span.parentSpanId)}` +
    `,"serviceName":${str(span.serviceName)},"name":${str(span.name)},"kind":${str(span.kind)}` +
    `,"startTimeUnixNano":${str(span.startTimeUnixNano)},"endTimeUnixNano":${str(span.endTimeUnixNano)}` +
    `,"startTimeMs":${numberJson(span.startTimeMs)},"durationMs":${numberJson(span.durationMs)}` +
    `,"status":{"code":${str(span.status.code)}${status}}` +
    `,"attributes":${attributeMapJson(span.attributes)},"resourceId":${span.resourceId}` +
    `,"events":[${span.events.map(ev => `{"timeUnixNano":${str(ev.timeUnixNano)},"name":${str(ev.name)},"attributes":${attributeMapJson(ev.attributes)}}`).join(',')}]` +
    `,"links":[${span.links.map(l => `{"traceId":${str(l.traceId)},"spanId":${str(l.spanId)},"attributes":${attributeMapJson(l.attributes)}}`).join(',')}]` +
    `,"synthetic":${span.synthetic ? 'true' : 'false'}}`
  );
}

// Store resource objects are cached and shared by the spans of a resource, so their JSON is too.
const resourceJsonCache = new WeakMap<StoredResource, Buffer>();

/** `"resourceId":<id>` as UTF-8: what a span says of its resource, given once in the reply's resources. */
function resourceJsonOf(res: StoredResource): Buffer {
  let cached = resourceJsonCache.get(res);
  if (!cached) {
    cached = Buffer.from(`"resourceId":${res.id}`, 'utf8');
    resourceJsonCache.set(res, cached);
  }
  return cached;
}

/** The object path for a stored span: decodes it into an API Span and serializes that. */
function objectPathOf(s: StoredSpan): { json: string; written: Written } {
  const span = toApiSpan(s);
  return { json: apiSpanJson(span), written: { startTimeMs: span.startTimeMs, root: span.parentSpanId === '' } };
}

/** What a view has before rendering: the JSON the cache holds, and which spans still need writing. */
interface ViewPlan extends HeldJsonSink {
  /** Indices of the spans to render, in view order. */
  readonly misses: number[];
}

function planView(stored: readonly ViewSpan[], lookup: ViewLookup | undefined): ViewPlan {
  const n = stored.length;
  const plan: ViewPlan = { ...emptyHeldJsonSink(n), misses: [] };
  for (let i = 0; i < n; i++) if (!lookup?.fill(stored[i]!, plan, i)) plan.misses.push(i);
  return plan;
}

/** Renders misses [first, first + count) of the plan on this thread. */
function renderMisses(stored: readonly ViewSpan[], plan: ViewPlan, first: number, count: number): RenderedRun {
  const source = (k: number) => bytesOf(stored[plan.misses[first + k]!]!);
  return renderSpans(
    count,
    source,
    k => resourceJsonOf(source(k).resource),
    k => objectPathOf(source(k)),
  );
}

/**
 * Records what run `run` rendered of misses [first, ...) of the plan, in the plan and the cache;
 * spans it left unwritten stay for the caller.
 */
function takeRun(stored: readonly ViewSpan[], plan: ViewPlan, first: number, run: RenderedRun, lookup: ViewLookup | undefined): void {
  for (let k = 0; k < run.blockOf.length; k++) {
    const slab = run.blocks[run.blockOf[k]!];
    if (slab === undefined) continue;
    const i = plan.misses[first + k]!;
    plan.slabOf[i] = slab;
    plan.from[i] = run.from[k]!;
    plan.to[i] = run.to[k]!;
    plan.startMs[i] = run.startMs[k]!;
    plan.roots[i] = run.roots[k]!;
    lookup?.cache?.add(stored[i]!, slab, run.from[k]!, run.to[k]!, run.startMs[k]!, run.roots[k] === 1);
  }
}

/** The body from a plan every span of which is rendered: `head`, the spans in timeline order, `tail`. */
function assembleView(stored: readonly ViewSpan[], plan: ViewPlan, head: string, tail: string, lookup: ViewLookup | undefined): JsonParts {
  lookup?.cache?.evictOverBudget();
  const n = stored.length;
  const { slabOf, from, to, startMs, roots } = plan;
  // The store reads spans by start time and id: the timeline order sorts again only where roots
  // or parents tie with earlier-sorted spans.
  const order = timelineOrder(n, {
    startMs: i => startMs[i]!,
    root: i => roots[i] === 1,
    traceId: i => stored[i]!.traceId,
    spanId: i => stored[i]!.spanId,
    parentSpanId: i => stored[i]!.parentSpanId,
  });

  const body = new JsonPartsBuilder();
  const opening = Buffer.from(`${head}[`, 'utf8');
  body.add(opening, 0, opening.length);
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const slab = slabOf[i];
    if (slab === undefined) throw new Error(`span ${stored[i]!.traceId}/${stored[i]!.spanId} was not rendered`);
    body.add(slab, from[i]!, to[i]!);
    if (k + 1 < n && !body.extendOver(COMMA)) body.add(COMMA_BYTES, 0, 1);
  }
  const closing = Buffer.from(`]${tail}`, 'utf8');
  body.add(closing, 0, closing.length);
  return body.finish();
}

/**
 * The reply body: `head`, the JSON array of the API Spans of `stored` in timeline order (as
 * `orderForTimeline(toApiSpans(stored))` serialized by the route's schema), then `tail`. Spans the
 * view's cache lookup finds are not copied: the body is a list of ranges of the cache's blocks and
 * of the blocks the other spans are written into here, which the cache then keeps as they are.
 */
export function timelineSpansJson(
  stored: readonly ViewSpan[],
  head = '',
  tail = '',
  lookup?: ViewLookup,
): JsonParts {
  const plan = planView(stored, lookup);
  takeRun(stored, plan, 0, renderMisses(stored, plan, 0, plan.misses.length), lookup);
  return assembleView(stored, plan, head, tail, lookup);
}

/**
 * timelineSpansJson with the rendering shared between this thread and the render workers: each
 * takes an equal share of the spans not held, so a first view costs about its share's time. A
 * share a worker could not render (it failed, or a span needs the object path) is rendered here.
 */
export async function timelineSpansJsonShared(
  stored: readonly ViewSpan[],
  head: string,
  tail: string,
  lookup: ViewLookup | undefined,
  workers: SpanRenderWorkers | undefined,
): Promise<JsonParts> {
  const plan = planView(stored, lookup);
  const misses = plan.misses.length;
  const helpers = workers?.available(misses) ?? 0;
  if (helpers === 0) {
    takeRun(stored, plan, 0, renderMisses(stored, plan, 0, misses), lookup);
    return assembleView(stored, plan, head, tail, lookup);
  }
  // This thread's share first, the workers' shares after it.
  const share = Math.ceil(misses / (helpers + 1));
  const jobs: { first: number; count: number; run: Promise<RenderedRun | null> }[] = [];
  for (let first = share; first < misses; first += share) {
    const count = Math.min(share, misses - first);
    const sources = Array.from({ length: count }, (_, k) => bytesOf(stored[plan.misses[first + k]!]!));
    jobs.push({ first, count, run: workers!.render(sources, sources.map(s => resourceJsonOf(s.resource))) });
  }
  takeRun(stored, plan, 0, renderMisses(stored, plan, 0, Math.min(share, misses)), lookup);
  for (const job of jobs) {
    const run = await job.run;
    if (run === null) {
      takeRun(stored, plan, job.first, renderMisses(stored, plan, job.first, job.count), lookup);
      continue;
    }
    // Spans the worker left unwritten take the object path here, in a run of their own.
    const left: number[] = [];
    for (let k = 0; k < job.count; k++) if (run.blockOf[k] === -1) left.push(k);
    takeRun(stored, plan, job.first, run, lookup);
    if (left.length > 0) {
      const source = (j: number) => bytesOf(stored[plan.misses[job.first + left[j]!]!]!);
      const rest = renderSpans(left.length, source, j => resourceJsonOf(source(j).resource), j => objectPathOf(source(j)));
      for (let j = 0; j < left.length; j++) takeRun(stored, plan, job.first + left[j]!, sliceRun(rest, j), lookup);
    }
  }
  return assembleView(stored, plan, head, tail, lookup);
}

/** Span j of a run as a run of one span. */
function sliceRun(run: RenderedRun, j: number): RenderedRun {
  return {
    blocks: run.blocks,
    blockOf: run.blockOf.subarray(j, j + 1),
    from: run.from.subarray(j, j + 1),
    to: run.to.subarray(j, j + 1),
    startMs: run.startMs.subarray(j, j + 1),
    roots: run.roots.subarray(j, j + 1),
  };
}

/**
 * A reply body from the route's serializer output for the reply with `spans: []` (stitched view,
 * trace detail). Property names are never escaped and string values always escape their quotes, so
 * `"spans":[]` occurs once, as the property, as long as no object before `spans` has such a property.
 */
function replyWithSpansJson(
  envelope: string,
  stored: readonly ViewSpan[],
  lookup: ViewLookup | undefined,
  workers: SpanRenderWorkers | undefined,
): Promise<JsonParts> {
  const at = envelope.indexOf('"spans":[]');
  if (at < 0) throw new Error('reply envelope has no empty spans array');
  return timelineSpansJsonShared(stored, envelope.slice(0, at + 8), envelope.slice(at + 10), lookup, workers);
}

/**
 * Sends the 200 reply `payload` (its `spans` empty) with `stored` as its spans and their resources
 * as its `resources`: the route's schema serializer writes the payload, the spans are written from
 * their bytes (shared with the render
 * workers when given), and the pieces go out as they are, with the whole length.
 */
export async function sendWithSpans<Payload extends { spans: [] }>(
  reply: FastifyReply,
  payload: Payload,
  stored: readonly ViewSpan[],
  lookup?: ViewLookup,
  workers?: SpanRenderWorkers,
): Promise<FastifyReply> {
  // Spans name their resource by id: every reply with spans lists those resources once.
  const envelope = reply.serializeInput({ ...payload, resources: apiResources(stored) }, '200') as string;
  const body = await replyWithSpansJson(envelope, stored, lookup, workers);
  return reply.type('application/json; charset=utf-8').header('content-length', body.length).send(body.stream());
}

/** A span the lookup did not find: the store read its bytes (it reads them unless told the JSON is held). */
function bytesOf(s: ViewSpan): StoredSpan {
  if (s.body === null) throw new Error(`span ${s.traceId}/${s.spanId} has neither its bytes nor held JSON`);
  return s as StoredSpan;
}
