// A circuit's correlations in a time range are looked up from what the range holds when that is
// smaller than the circuit's history (sqlite-store.ts, circuitCorrelationsInRange). The answer must
// be the one the lookup through every trace of the circuit gave: each case drives the real app with
// a varied workload and compares the API's ranged answers with that lookup's SQL, kept here as it
// was, run on the same database, with one change: equal ends are ordered by id, as the store
// orders them (list-order.ts), where the plan's reading order, arrival order, broke the tie.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import type { CorrelationQuery } from '../../src/store/store.js';
import { ChosenIds } from '../fixtures/otel-sdk.js';
import { build } from '../helpers/app.js';

const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
const SERVICES = ['beorn', 'mdso', 'arda'] as const;
const CIRCUITS = ['C0', 'C1', 'C2', 'C3'];

/** mulberry32: a workload is a function of its seed, so a failure can be run again. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

interface TraceSpec {
  service: string;
  traceId: string;
  start: number;
  end: number;
  root: Record<string, string>;
  /** A client call naming other key values (a report over two circuits, say). */
  child?: Record<string, string>;
}

interface LogSpec {
  service: string;
  at: number;
  fields: Record<string, string>;
}

interface Workload {
  traces: TraceSpec[];
  logs: LogSpec[];
}

const hexId = (n: number, chars: number) => n.toString(16).padStart(chars, '0');

/**
 * Bursts of traces a window or more apart, key values shared across circuits, traces naming two
 * circuits, logs of their traces, and chains of logs of no trace that stretch an episode over
 * minutes past its traces (so a correlation can reach a range none of its traces is in).
 */
function workload(seed: number): Workload {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const traces: TraceSpec[] = [];
  const logs: LogSpec[] = [];
  let t = T0;
  for (let burst = 0; burst < 8; burst++) {
    t += r() < 0.5 ? 20_000 + r() * 30_000 : 70_000 + r() * 200_000;
    const n = 2 + Math.floor(r() * 8);
    for (let i = 0; i < n; i++) {
      const start = Math.round(t + r() * 40_000);
      const root: Record<string, string> = {};
      if (r() < 0.9) root.circuit_id = CIRCUITS[Math.floor(r() * r() * CIRCUITS.length)]!;
      if (r() < 0.5) root.resource_id = `R${Math.floor(r() * 3)}`;
      if (r() < 0.35) root.request_id = `Q${Math.floor(r() * 4)}`;
      const spec: TraceSpec = {
        service: pick(SERVICES),
        traceId: hexId(seed * 1000 + traces.length + 1, 32),
        start,
        end: start + 100 + Math.round(r() * 5000),
        root,
      };
      if (r() < 0.2) spec.child = r() < 0.6 ? { circuit_id: pick(CIRCUITS) } : { resource_id: `R${Math.floor(r() * 3)}` };
      traces.push(spec);
      if (r() < 0.3) logs.push({ service: spec.service, at: start + 50, fields: { trace_id: spec.traceId, message: 'step' } });
    }
    t += 45_000;
    if (r() < 0.6) {
      // A chain of logs of no trace, each within the window of the next.
      const fields: Record<string, string> = r() < 0.5 ? { circuit_id: pick(CIRCUITS) } : { resource_id: `R${Math.floor(r() * 3)}` };
      const links = 2 + Math.floor(r() * 8);
      for (let k = 0; k < links; k++) logs.push({ service: 'mdso', at: Math.round(t - 40_000 + k * 40_000), fields: { ...fields, message: 'poll' } });
      t += links * 40_000;
    }
  }
  return { traces, logs };
}

async function spansOf(spec: TraceSpec): Promise<ReadableSpan[]> {
  const ids = new ChosenIds();
  const sink = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': spec.service }),
    idGenerator: ids,
    spanProcessors: [new SimpleSpanProcessor({ exporter: sink })],
  });
  const tracer = provider.getTracer('ranged-correlations');
  ids.traceId = spec.traceId;
  ids.spanId = `${spec.traceId.slice(-15)}1`;
  const root = tracer.startSpan('root', { kind: SpanKind.SERVER, startTime: spec.start, attributes: spec.root });
  if (spec.child) {
    ids.spanId = `${spec.traceId.slice(-15)}2`;
    tracer
      .startSpan('call', { kind: SpanKind.CLIENT, startTime: spec.start + 10, attributes: spec.child }, trace.setSpan(ROOT_CONTEXT, root))
      .end(spec.end - 10);
  }
  root.end(spec.end);
  await provider.forceFlush();
  const spans = sink.getFinishedSpans();
  await provider.shutdown();
  return [...spans];
}

/** The workload sent in a shuffled order, traces a few to a request, logs between them. */
async function send(app: FastifyInstance, w: Workload, seed: number): Promise<void> {
  const r = rng(seed ^ 0x5eed);
  const items: (TraceSpec | LogSpec)[] = [...w.traces, ...w.logs];
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  for (let i = 0; i < items.length; ) {
    const n = 1 + Math.floor(r() * 4);
    const batch = items.slice(i, i + n);
    i += n;
    const spans = (await Promise.all(batch.filter((x): x is TraceSpec => 'traceId' in x).map(spansOf))).flat();
    if (spans.length) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/traces',
        headers: { 'content-type': 'application/x-protobuf' },
        payload: Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!),
      });
      assert.equal(res.statusCode, 200, res.body);
    }
    for (const l of batch.filter((x): x is LogSpec => !('traceId' in x))) {
      const records = [{ timestamp: new Date(l.at).toISOString(), ...l.fields }];
      const res = await app.inject({ method: 'POST', url: '/api/logs', payload: { resource: { service: l.service }, records } });
      assert.equal(res.statusCode, 200, res.body);
    }
  }
}

interface ReferenceRow {
  id: string;
  key: string;
  last_ms: number;
}

/**
 * The lookup as it was before ranged queries had a path of their own: every trace of the circuit,
 * their key values as candidate groups, one SQL. Written out here, not imported, so a change to
 * the store's helpers cannot change the reference with it.
 */
function referenceRows(db: Database.Database, q: CorrelationQuery): ReferenceRow[] {
  const circuitTraces = `SELECT trace_id FROM trace_keys WHERE key = 'circuit_id' AND value = ?
  UNION ALL SELECT trace_id FROM refused_traces WHERE key = 'circuit_id' AND value = ?`;
  const traceId = q.trace_id?.toLowerCase();
  const traceIds =
    q.circuit_id !== undefined
      ? (db
          .prepare(
            `SELECT trace_id FROM (SELECT trace_id, first_ms FROM trace_keys WHERE key = 'circuit_id' AND value = @c
             UNION ALL SELECT trace_id, first_ms FROM refused_traces WHERE key = 'circuit_id' AND value = @c)
             GROUP BY trace_id ORDER BY min(first_ms), trace_id`,
          )
          .pluck()
          .all({ c: q.circuit_id }) as string[])
      : [];
  if (traceId !== undefined) traceIds.push(traceId);
  const pairs: [string, string][] = q.circuit_id !== undefined ? [['circuit_id', q.circuit_id]] : [];
  const rows = db
    .prepare('SELECT trace_id, keys, more_keys, log_count FROM traces WHERE trace_id IN (SELECT value FROM json_each(?))')
    .all(JSON.stringify(traceIds)) as { trace_id: string; keys: string; more_keys: string; log_count: number }[];
  for (const row of rows) {
    if (row.log_count > 0) pairs.push(['trace_id', row.trace_id]);
    for (const [key, value] of Object.entries(JSON.parse(row.keys) as Record<string, string>)) pairs.push([key, value]);
    const more = JSON.parse(row.more_keys) as string[];
    for (let i = 0; i < more.length; i += 2) pairs.push([more[i]!, more[i + 1]!]);
  }
  const parts: string[] = [];
  const args: unknown[] = [];
  const add = (sql: string, ...xs: unknown[]) => {
    if (xs.every(x => x !== undefined && x !== '')) {
      parts.push(sql);
      args.push(...xs);
    }
  };
  add('(key, value) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))', q.circuit_id !== undefined || traceId !== undefined ? JSON.stringify(pairs) : undefined);
  add(
    `((key = 'circuit_id' AND value = ?) OR EXISTS (SELECT 1 FROM json_each(correlations.trace_ids) j
           WHERE j.value IN (${circuitTraces})))`,
    q.circuit_id,
    q.circuit_id,
    q.circuit_id,
  );
  add('EXISTS (SELECT 1 FROM json_each(correlations.trace_ids) WHERE value = ?)', traceId);
  add('EXISTS (SELECT 1 FROM json_each(correlations.services) WHERE value = ?)', q.service);
  add('method = ?', q.method);
  add(`trace_ids != '[]'`);
  add('last_ms >= ?', q.fromMs);
  add('first_ms <= ?', q.toMs);
  const sql = `SELECT * FROM correlations WHERE ${parts.join(' AND ')} ORDER BY last_ms DESC, id LIMIT ?`;
  return db.prepare(sql).all(...args, q.limit) as ReferenceRow[];
}

/** `walked`: the walk of a query with no start (walkFellBack: which then asked by groups). */
type Lookup = 'ranged' | 'byGroups' | 'fellBack' | 'walked' | 'walkFellBack' | 'none';

/** Which lookup a request ran, seen from the SQL it prepared (the store builds both per query). */
class LookupSpy {
  private readonly prepared: string[] = [];
  constructor(db: Database.Database) {
    const prepare = db.prepare.bind(db);
    db.prepare = ((sql: string) => {
      this.prepared.push(sql);
      return prepare(sql);
    }) as typeof db.prepare;
  }

  /** `fellBack`: the ranged lookup could not show a group was a candidate and asked by groups. */
  async around<T>(run: () => Promise<T>): Promise<{ out: T; lookup: Lookup }> {
    this.prepared.length = 0;
    const out = await run();
    const fromCorrelations = this.prepared.filter(s => s.startsWith('SELECT * FROM correlations'));
    const byGroups = fromCorrelations.some(s => s.includes('ORDER BY last_ms DESC, id LIMIT'));
    // The walk without a start (recentCircuitCorrelations) reads each row's member count first.
    if (this.prepared.some(s => s.startsWith('SELECT rid, json_array_length(trace_ids)'))) return { out, lookup: byGroups ? 'walkFellBack' : 'walked' };
    const lookup = byGroups ? (fromCorrelations.length > 1 ? 'fellBack' : 'byGroups') : fromCorrelations.length > 0 ? 'ranged' : 'none';
    return { out, lookup };
  }
}

interface Times {
  /** Every time a datum starts or ends: range ends are drawn around them. */
  points: number[];
  looseLogs: number[];
  spans: [number, number][];
}

function timesOf(db: Database.Database): Times {
  const traces = db.prepare('SELECT first_ms, last_ms FROM traces').raw().all() as [number, number][];
  const looseLogs = db.prepare('SELECT DISTINCT time_ms FROM loose_logs').pluck().all() as number[];
  const spans = db.prepare('SELECT first_ms, last_ms FROM correlations').raw().all() as [number, number][];
  const points = [...new Set([...traces.flat(), ...looseLogs, ...spans.flat()])].sort((a, b) => a - b);
  return { points, looseLogs, spans };
}

/**
 * Ranges of every kind: random, one instant, the tail or head of one correlation, around one log
 * of no trace, inside a gap between data, open at one end.
 */
function ranges(times: Times, r: () => number, count: number): { fromMs?: number; toMs?: number }[] {
  const { points } = times;
  const lo = points[0]! - 60_000;
  const hi = points.at(-1)! + 60_000;
  const anyPoint = () => points[Math.floor(r() * points.length)]!;
  const out: { fromMs?: number; toMs?: number }[] = [];
  for (let i = 0; i < count; i++) {
    const kind = Math.floor(r() * 8);
    const [a, b] = [lo + r() * (hi - lo), lo + r() * (hi - lo)].map(Math.round).sort((x, y) => x - y) as [number, number];
    const span = times.spans[Math.floor(r() * times.spans.length)]!;
    const gapAt = 1 + Math.floor(r() * (points.length - 1));
    const log = times.looseLogs.length ? times.looseLogs[Math.floor(r() * times.looseLogs.length)]! : anyPoint();
    if (kind === 0) out.push({ fromMs: a, toMs: b });
    else if (kind === 1) {
      const p = anyPoint();
      out.push({ fromMs: p, toMs: p });
    } else if (kind === 2) out.push({ fromMs: span[1] - Math.round(r() * 20_000), toMs: span[1] + Math.round(r() * 5_000) });
    else if (kind === 3) out.push({ fromMs: span[0] - 1000, toMs: span[0] + Math.round(r() * 3_000) });
    else if (kind === 4) out.push({ fromMs: log - 1, toMs: log + 1 });
    else if (kind === 5) out.push({ fromMs: points[gapAt - 1]! + 1, toMs: points[gapAt]! - 1 });
    else if (kind === 6) out.push({ fromMs: a });
    else out.push({ toMs: b });
  }
  return out;
}

const LIMITS = [1, 2, 3, 5, 100];

/** Filters a query may add: none mostly, sometimes a service, a method or one trace. */
function extraFilters(r: () => number, traceIds: string[]): Partial<CorrelationQuery> {
  const x = r();
  if (x < 0.7) return {};
  if (x < 0.8) return { service: SERVICES[Math.floor(r() * SERVICES.length)]! };
  if (x < 0.9) return { method: r() < 0.5 ? 'circuit_id_match' : 'resource_id_match' };
  return { trace_id: traceIds[Math.floor(r() * traceIds.length)]!.toUpperCase() };
}

function correlationsUrl(q: CorrelationQuery): string {
  const p = new URLSearchParams({ limit: String(q.limit) });
  for (const k of ['circuit_id', 'trace_id', 'service', 'method'] as const) if (q[k] !== undefined) p.set(k, q[k]);
  if (q.fromMs !== undefined) p.set('from', String(q.fromMs));
  if (q.toMs !== undefined) p.set('to', String(q.toMs));
  return `/api/correlations?${p}`;
}

async function getJson<T>(app: FastifyInstance, url: string): Promise<T> {
  const res = await app.inject({ method: 'GET', url });
  assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
  return res.json<T>();
}

interface Tally extends Record<Lookup, number> {
  queries: number;
  /** Ranged lookups that answered something, at their limit, with equal ends, reaching past their traces. */
  rangedAnswers: number;
  rangedAtLimit: number;
  rangedWithTies: number;
  rangedPastTheirTraces: number;
  /** Walks with no start that answered something, at their limit, with equal ends. */
  walkedAnswers: number;
  walkedAtLimit: number;
  walkedWithTies: number;
}

/** Whether a correlation in the answer has no member trace with a datum in the range. */
function reachesPastItsTraces(db: Database.Database, id: string, fromMs: number, toMs: number): boolean {
  return (
    db
      .prepare(
        `SELECT 1 FROM correlations c, json_each(c.trace_ids) j JOIN traces t ON t.trace_id = j.value
         WHERE c.id = ? AND t.last_ms >= ? AND t.first_ms <= ? LIMIT 1`,
      )
      .get(id, fromMs, toMs) === undefined
  );
}

async function compareOne(app: FastifyInstance, spy: LookupSpy, q: CorrelationQuery, tally: Tally): Promise<void> {
  const db = app.correlator.store.db;
  const expected = referenceRows(db, q);
  const { out: got, lookup } = await spy.around(() => getJson<{ correlations: { id: string }[] }>(app, correlationsUrl(q)));
  assert.deepEqual(
    got.correlations.map(c => c.id),
    expected.map(c => c.id),
    `${correlationsUrl(q)}: the ranged answer differs from the lookup through every trace of the circuit`,
  );
  tally.queries++;
  tally[lookup]++;
  if (lookup === 'walked' && expected.length > 0) {
    tally.walkedAnswers++;
    if (expected.length === q.limit) tally.walkedAtLimit++;
    if (expected.some((c, i) => i > 0 && expected[i - 1]!.last_ms === c.last_ms)) tally.walkedWithTies++;
  }
  if (lookup !== 'ranged' || expected.length === 0) return;
  // What the ranged lookups answered: the cases a wrong one would show in.
  tally.rangedAnswers++;
  if (expected.length === q.limit) tally.rangedAtLimit++;
  if (expected.some((c, i) => i > 0 && expected[i - 1]!.last_ms === c.last_ms)) tally.rangedWithTies++;
  if (q.toMs !== undefined && expected.some(c => reachesPastItsTraces(db, c.id, q.fromMs!, q.toMs!))) tally.rangedPastTheirTraces++;
}

/** The circuit detail's correlations with a range: the first 500 and whether there were more. */
async function compareDetail(app: FastifyInstance, circuit: string, range: { fromMs?: number; toMs?: number }): Promise<void> {
  const p = new URLSearchParams();
  if (range.fromMs !== undefined) p.set('from', String(range.fromMs));
  if (range.toMs !== undefined) p.set('to', String(range.toMs));
  const url = `/api/circuits/${circuit}?${p}`;
  const res = await app.inject({ method: 'GET', url });
  const expected = referenceRows(app.correlator.store.db, { circuit_id: circuit, ...range, limit: 501 });
  if (res.statusCode === 404) {
    assert.equal(expected.length, 0, `${url}: no circuit, yet correlations`);
    return;
  }
  assert.equal(res.statusCode, 200, res.body);
  const d = res.json<{ correlations: { id: string }[]; correlationsTruncated: boolean }>();
  assert.deepEqual(
    d.correlations.map(c => c.id),
    expected.slice(0, 500).map(c => c.id),
    url,
  );
  assert.equal(d.correlationsTruncated, expected.length > 500, url);
}

/** A fresh tally of what a case's queries ran and answered. */
const tallied = (): Tally => ({
  ...{ queries: 0, ranged: 0, byGroups: 0, fellBack: 0, walked: 0, walkFellBack: 0, none: 0 },
  ...{ rangedAnswers: 0, rangedAtLimit: 0, rangedWithTies: 0, rangedPastTheirTraces: 0 },
  ...{ walkedAnswers: 0, walkedAtLimit: 0, walkedWithTies: 0 },
});

async function runCase(t: TestContext, seed: number, cap: number, tally: Tally, alter?: (db: Database.Database) => void): Promise<void> {
  const app = await build(t, { MAX_TRACES_PER_CIRCUIT: String(cap) });
  await app.ready();
  const w = workload(seed);
  await send(app, w, seed);
  const db = app.correlator.store.db;
  alter?.(db);
  const spy = new LookupSpy(db);
  const r = rng(seed * 7 + cap);
  const times = timesOf(db);
  const traceIds = w.traces.map(x => x.traceId);
  for (const circuit of [...CIRCUITS, 'C-none']) {
    for (const range of ranges(times, r, 40)) {
      const q: CorrelationQuery = { circuit_id: circuit, ...range, limit: LIMITS[Math.floor(r() * LIMITS.length)]!, ...extraFilters(r, traceIds) };
      await compareOne(app, spy, q, tally);
      if (r() < 0.25) await compareDetail(app, circuit, range);
    }
    // Without a range the lookup is the one it was: checked the same way.
    await compareOne(app, spy, { circuit_id: circuit, limit: 100 }, tally);
  }
  for (const traceId of traceIds.slice(0, 5)) await compareOne(app, spy, { trace_id: traceId, limit: 100 }, tally);
}

describe("a circuit's correlations in a range", () => {
  it('are those the lookup through all its traces gives, in the same order and at the same limits', async t => {
    const tally = tallied();
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
      for (const cap of [2, 3]) await runCase(t, seed, cap, tally);
    }
    t.diagnostic(JSON.stringify(tally));
    // The comparison means something only if both lookups ran, and the ranged one answered at its
    // limit, with equal ends to order, and with correlations none of whose traces is in the range.
    assert.ok(tally.byGroups > tally.queries / 10, `lookups by groups ${tally.byGroups} of ${tally.queries}`);
    for (const k of ['rangedAnswers', 'rangedAtLimit', 'rangedWithTies', 'rangedPastTheirTraces'] as const) {
      assert.ok(tally[k] >= 20, `${k}: ${tally[k]}`);
    }
  });

  it('are looked up through the circuit traces when the correlations the range reaches list more traces', async t => {
    // BIG: four episodes of five traces, 1,000 s apart; SMALL: three traces beside BIG's last.
    const traces: TraceSpec[] = [];
    for (let e = 0; e < 4; e++)
      for (let i = 0; i < 5; i++) {
        const start = T0 + e * 1_000_000 + i * 1000;
        traces.push({ service: 'beorn', traceId: hexId(9000 + traces.length, 32), start, end: start + 500, root: { circuit_id: 'BIG' } });
      }
    for (let i = 0; i < 3; i++) {
      const start = T0 + 3_000_000 + i * 1000;
      traces.push({ service: 'arda', traceId: hexId(9100 + i, 32), start, end: start + 500, root: { circuit_id: 'SMALL' } });
    }
    const app = await build(t);
    await app.ready();
    await send(app, { traces, logs: [] }, 1);
    const spy = new LookupSpy(app.correlator.store.db);
    const tally = tallied();
    const range = { fromMs: T0 + 2_999_000, toMs: T0 + 3_010_000 };
    // The range reaches two correlations that list 8 traces: fewer than BIG's 20, more than SMALL's 3.
    await compareOne(app, spy, { circuit_id: 'BIG', ...range, limit: 100 }, tally);
    assert.deepEqual([tally.ranged, tally.byGroups], [1, 0], 'BIG: by the correlations the range reaches');
    await compareOne(app, spy, { circuit_id: 'SMALL', ...range, limit: 100 }, tally);
    assert.deepEqual([tally.ranged, tally.byGroups], [1, 1], "SMALL: by the circuit's traces");
  });

  it('are those still where a trace of the circuit no longer names the group it is a member of', async t => {
    // The engine writes no such rows; the ranged lookup then cannot show a group is a candidate
    // from the correlation's own traces, and must answer as the lookup by groups does.
    const tally = tallied();
    // Every trace of C0 and a third of the others, so that only traces of other circuits name
    // the groups of some of C0's correlations.
    const forget = (db: Database.Database) => {
      db.exec(`UPDATE traces SET keys = '{}', more_keys = '[]', log_count = 0
        WHERE id % 3 = 0 OR trace_id IN (SELECT trace_id FROM trace_keys WHERE key = 'circuit_id' AND value = 'C0'
          UNION SELECT trace_id FROM refused_traces WHERE key = 'circuit_id' AND value = 'C0')`);
    };
    for (const seed of [1, 2, 3, 4]) await runCase(t, seed, 2, tally, forget);
    t.diagnostic(JSON.stringify(tally));
    assert.ok(tally.fellBack >= 10, `ranged lookups that asked by groups: ${tally.fellBack}`);
  });
});

describe("a circuit's correlations with no start to their range", () => {
  /** Its queries with no range or an end alone, at every limit, some with other filters, and its detail. */
  async function compareUnstarted(app: FastifyInstance, spy: LookupSpy, seed: number, traceIds: string[], tally: Tally): Promise<void> {
    const r = rng(seed * 13);
    const { points } = timesOf(app.correlator.store.db);
    for (const circuit of [...CIRCUITS, 'C-none']) {
      for (const limit of [1, 2, 3, 4, 5, 8, 100]) {
        await compareOne(app, spy, { circuit_id: circuit, limit }, tally);
        await compareOne(app, spy, { circuit_id: circuit, limit, ...extraFilters(r, traceIds) }, tally);
        await compareOne(app, spy, { circuit_id: circuit, toMs: points[Math.floor(r() * points.length)]!, limit }, tally);
      }
      await compareDetail(app, circuit, {});
    }
  }

  it('are those the lookup through all its traces gives, walked newest first to the limit', async t => {
    const tally = tallied();
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      for (const cap of [2, 3, 50]) {
        const app = await build(t, { MAX_TRACES_PER_CIRCUIT: String(cap) });
        await app.ready();
        const w = workload(seed);
        await send(app, w, seed);
        await compareUnstarted(app, new LookupSpy(app.correlator.store.db), seed, w.traces.map(x => x.traceId), tally);
      }
    }
    t.diagnostic(JSON.stringify(tally));
    // Both ways ran, and the walk answered at its limit and with equal ends to order.
    assert.ok(tally.walked >= 100 && tally.walkFellBack >= 20, JSON.stringify(tally));
    for (const k of ['walkedAnswers', 'walkedAtLimit', 'walkedWithTies'] as const) assert.ok(tally[k] >= 20, `${k}: ${tally[k]}`);
  });

  it("are looked up through the circuit's traces once the walk has probed as many member traces", async t => {
    // OLD: two traces, then NEW's episodes of five traces each, later.
    const traces: TraceSpec[] = [];
    for (let i = 0; i < 2; i++) {
      const start = T0 + i * 1000;
      traces.push({ service: 'arda', traceId: hexId(9200 + i, 32), start, end: start + 500, root: { circuit_id: 'OLD' } });
    }
    for (let e = 0; e < 3; e++)
      for (let i = 0; i < 5; i++) {
        const start = T0 + (e + 1) * 1_000_000 + i * 1000;
        traces.push({ service: 'beorn', traceId: hexId(9300 + traces.length, 32), start, end: start + 500, root: { circuit_id: 'NEW' } });
      }
    const app = await build(t);
    await app.ready();
    await send(app, { traces, logs: [] }, 1);
    const spy = new LookupSpy(app.correlator.store.db);
    const tally = tallied();
    // NEW's last correlation lists 5 traces, more than OLD's 2: OLD's walk gives up there.
    await compareOne(app, spy, { circuit_id: 'OLD', limit: 100 }, tally);
    assert.deepEqual([tally.walked, tally.walkFellBack], [0, 1], 'OLD: by its traces');
    // NEW's last two list 10 of its 15 traces: its walk stops there.
    await compareOne(app, spy, { circuit_id: 'NEW', limit: 2 }, tally);
    assert.deepEqual([tally.walked, tally.walkFellBack], [1, 1], "NEW: by the correlations' walk");
    // To the limit of 100 it walks OLD's too: 17 traces, more than the 15 the lookup by its traces reads.
    await compareOne(app, spy, { circuit_id: 'NEW', limit: 100 }, tally);
    assert.deepEqual([tally.walked, tally.walkFellBack], [1, 2], 'NEW, to 100: by its traces');
  });

  it('are those still where a trace of the circuit no longer names the group it is a member of', async t => {
    const tally = tallied();
    for (const seed of [1, 2, 3, 4]) {
      const app = await build(t, { MAX_TRACES_PER_CIRCUIT: '2' });
      await app.ready();
      const w = workload(seed);
      await send(app, w, seed);
      const db = app.correlator.store.db;
      // As in the ranged case above: C0's traces and a third of the others forget their keys.
      db.exec(`UPDATE traces SET keys = '{}', more_keys = '[]', log_count = 0
        WHERE id % 3 = 0 OR trace_id IN (SELECT trace_id FROM trace_keys WHERE key = 'circuit_id' AND value = 'C0'
          UNION SELECT trace_id FROM refused_traces WHERE key = 'circuit_id' AND value = 'C0')`);
      await compareUnstarted(app, new LookupSpy(db), seed, w.traces.map(x => x.traceId), tally);
    }
    t.diagnostic(JSON.stringify(tally));
    assert.ok(tally.walkFellBack >= 10, `walks that asked by groups: ${tally.walkFellBack}`);
  });
});
