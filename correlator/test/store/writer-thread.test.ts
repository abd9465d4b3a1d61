// Ingest rows written by the writer thread: a request is answered after its rows commit, and what
// the main thread decides for the next request (fresh or duplicate, resource ids, hot-state misses)
// counts the requests still in flight. Each case runs with the thread and in line.
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { describe, it, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import { loadConfig } from '../../src/config/config.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import type { DecodedLog, DecodedSpan } from '../../src/otlp/decoded.js';
import { decodeLogsRequest } from '../../src/otlp/logs-decoder.js';
import { decodeTraceRequest } from '../../src/otlp/trace-decoder.js';
import { emptyDerivedWrites } from '../../src/store/derived-writes.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { WriterThread } from '../../src/store/sqlite/writer-thread.js';
import { WRITER_FAILED_CODE } from '../../src/store/write-failure.js';
import { storeUnavailable } from '../../src/api/errors.js';
import { encodeSpanChunks } from '../../src/store/sqlite/span-chunk.js';
import { SpanBodyReader } from '../../src/store/sqlite/span-body-files.js';
import { buildTestApp } from '../api/app-fixture.js';
import { keyValue, len, span, stringValue, text } from '../fixtures/hand-made-otlp.js';
import { traceAndCircuit } from './derived-fixture.js';
import {
  SpanKind,
  buildLogs,
  buildTraces,
  logsProtobuf,
  tracesProtobuf,
} from '../fixtures/otel-sdk.js';

const T0 = Date.UTC(2026, 11, 3, 9, 0, 0);
const CID = '71.L1XX.100200..CHTR';
const rules = keyRulesFromConfig(loadConfig({ LOG_LEVEL: 'silent' }));

async function openStore(
  t: TestContext,
  writerThread: boolean,
): Promise<{ store: SqliteStore; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'corr-writer-'));
  const store = new SqliteStore({ dataDir: dir, exportBridges: null, writerThread });
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { store, dir };
}

/** Two traces of one service, one resource: decoded as the pipeline decodes them. */
async function twoTraces(
  service = 'beorn',
): Promise<{ first: DecodedSpan[]; second: DecodedSpan[] }> {
  const [a, b] = await buildTraces([
    {
      service,
      spans: [{ name: 'create', startMs: T0, endMs: T0 + 50, attributes: { circuit_id: CID } }],
    },
    {
      service,
      spans: [
        { name: 'activate', startMs: T0 + 100, endMs: T0 + 150, attributes: { circuit_id: CID } },
      ],
    },
  ]);
  const decode = (spans: Parameters<typeof tracesProtobuf>[0]) =>
    decodeTraceRequest(tracesProtobuf(spans), rules).spans;
  return { first: decode(a!.spans), second: decode(b!.spans) };
}

const traceAndCircuitOf = traceAndCircuit(CID);

const none = () => emptyDerivedWrites();

async function logRecords(): Promise<DecodedLog[]> {
  const records = await buildLogs('palantir', [
    { body: `activation started circuit_id=${CID}`, atMs: T0 },
    { body: 'activation finished', atMs: T0 + 10 },
  ]);
  return decodeLogsRequest(logsProtobuf(records), rules, T0).logs;
}

for (const writerThread of [true, false]) {
  describe(`ingest rows ${writerThread ? 'in the writer thread' : 'in line'}`, () => {
    it('counts spans still in flight as stored: a retry sent before the first commit is all duplicates', async t => {
      const { store } = await openStore(t, writerThread);
      const { first } = await twoTraces();
      const [a, b] = await Promise.all([
        store.ingestSpans(first, none, T0),
        store.ingestSpans(first, none, T0),
      ]);
      assert.deepEqual(a, { fresh: first.length, duplicates: 0 });
      assert.deepEqual(b, { fresh: 0, duplicates: first.length });
      const { spans } = await store.spansOfTraces([first[0]!.traceId], 100);
      assert.equal(spans.length, first.length);
    });

    it('counts logs still in flight as stored', async t => {
      const { store } = await openStore(t, writerThread);
      const logs = await logRecords();
      const [a, b] = await Promise.all([
        store.ingestLogs(logs, none, T0),
        store.ingestLogs(logs, none, T0),
      ]);
      assert.deepEqual(a, { fresh: 2, duplicates: 0 });
      assert.deepEqual(b, { fresh: 0, duplicates: 2 });
      assert.equal((await store.logs({ limit: 10 })).length, 2);
    });

    it('keeps a record sent twice in one batch twice, and a resend of the batch adds none', async t => {
      const { store } = await openStore(t, writerThread);
      const logs = await logRecords();
      // Two identical lines in one batch are two lines logged; only a resent batch is a duplicate.
      assert.deepEqual(await store.ingestLogs([...logs, ...logs], none, T0), { fresh: 4, duplicates: 0 });
      assert.deepEqual(await store.ingestLogs([...logs, ...logs], none, T0), { fresh: 0, duplicates: 4 });
      assert.deepEqual(await store.ingestLogs(logs, none, T0), { fresh: 0, duplicates: 2 });
      assert.equal((await store.logs({ limit: 10 })).length, 4);
    });

    it('gives equal resources sent as two objects in one request one id', async t => {
      const { store } = await openStore(t, writerThread);
      // Built apart, the two traces' resources are equal but not the same object: the SDK
      // serializes them as two ResourceSpans.
      const [a] = await buildTraces(
        [{ service: 'palantir', spans: [{ name: 'a', startMs: T0, endMs: T0 + 5 }] }],
        7,
      );
      const [b] = await buildTraces(
        [{ service: 'palantir', spans: [{ name: 'b', startMs: T0, endMs: T0 + 5 }] }],
        8,
      );
      const spans = decodeTraceRequest(tracesProtobuf([...a!.spans, ...b!.spans]), rules).spans;
      assert.notEqual(spans[0]!.resource, spans[1]!.resource);
      await store.ingestSpans(spans, none, T0);
      const read = await store.spansOfTraces([a!.traceId, b!.traceId], 10);
      assert.deepEqual(
        read.spans.map(s => s.resource.serviceName),
        ['palantir', 'palantir'],
      );
      assert.equal(read.spans[0]!.resource.id, read.spans[1]!.resource.id);
    });

    it('gives each distinct scope of a request of thousands one resource row, also while an equal request is in flight', async t => {
      const { store } = await openStore(t, writerThread);
      // One resource, scopes each with a span; a scope name twice is one resource row.
      const body = (scopes: string[]) =>
        len(1, len(1, len(1, keyValue('service.name', stringValue('beorn')))), ...scopes.map(n => len(2, len(1, text(1, n)), len(2, span()))));
      const scopes = Array.from({ length: 4000 }, (_, i) => `scope-${i % 2000}`);
      const first = decodeTraceRequest(body(scopes), rules).spans;
      const second = decodeTraceRequest(body([...scopes].reverse()), rules).spans;
      assert.equal(first.length + second.length, 8000);
      // The second is planned while the first is in flight: it takes the first's rows.
      await Promise.all([store.ingestSpans(first, none, T0), store.ingestSpans(second, none, T0)]);
      assert.deepEqual(store.db.prepare('SELECT count(*), count(DISTINCT scope_name) FROM resources').raw().get(), [2000, 2000]);
      const read = await store.spansOfTraces([first[0]!.traceId], 10_000);
      assert.equal(read.spans.length, 8000);
      const sent = new Map([...first, ...second].map(s => [s.spanId, s.resource.scopeName]));
      const wrong = read.spans.filter(s => s.resource.scopeName !== sent.get(s.spanId));
      assert.equal(wrong.length, 0, `spans read with another scope than sent, e.g. ${JSON.stringify(wrong[0]?.spanId)}`);
    });

    it('lets a hot-state miss for a trace or key in flight read it only once committed', async t => {
      const { store } = await openStore(t, writerThread);
      const { first } = await twoTraces();
      const traceId = first[0]!.traceId;
      const stored = store.ingestSpans(first, traceAndCircuitOf, T0);
      // Asked before the answer to the request above: the store must already give what it wrote.
      const [state] = store.loadTraces([traceId]);
      assert.equal(state?.traceId, traceId);
      assert.equal(state.spanCount, first.length);
      const group = store.loadGroup('circuit_id', CID, T0 - 60_000, T0 + 60_000, 10);
      assert.deepEqual(group?.traceIds, [traceId]);
      assert.equal(store.writeStats().waits, writerThread ? 1 : 0);
      await stored;
      // A key nothing in flight wrote is read at once.
      assert.equal(store.loadGroup('circuit_id', 'other', T0 - 60_000, T0 + 60_000, 10), null);
      assert.equal(store.writeStats().waits, writerThread ? 1 : 0);
    });

    it('refuses a request it could not store, keeps the next one whole, and stores the first when it comes again', async t => {
      const { store } = await openStore(t, writerThread);
      const { first, second } = await twoTraces('arda');
      // Takes the chunk id the first request is about to get: its insert fails.
      const nextId = store.db
        .prepare('SELECT coalesce(max(id), 0) + 1 FROM span_chunks')
        .pluck()
        .get() as number;
      store.db
        .prepare(
          "INSERT INTO span_chunks (id, trace_id, received_ms, span_count, meta, body) VALUES (?, 'x', 0, 0, x'', x'')",
        )
        .run(nextId);
      const refused = store.ingestSpans(first, traceAndCircuitOf, T0);
      // The second request uses the resource the first one introduced, before the first has failed.
      const kept = store.ingestSpans(second, traceAndCircuitOf, T0);
      // With SQLite's code, which the ingest routes answer 503 for, from the thread as in line.
      await assert.rejects(refused, (e: Error & { code?: string }) =>
        /UNIQUE constraint failed: span_chunks\.id/.test(e.message) && e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY',
      );
      assert.deepEqual(await kept, { fresh: second.length, duplicates: 0 });
      assert.deepEqual(await store.traceSummaries([first[0]!.traceId]), []);
      const { spans } = await store.spansOfTraces([second[0]!.traceId], 10);
      assert.equal(spans[0]!.resource.serviceName, 'arda');
      assert.deepEqual(await store.ingestSpans(first, traceAndCircuitOf, T0), {
        fresh: first.length,
        duplicates: 0,
      });
      assert.equal((await store.traceSummaries([first[0]!.traceId])).length, 1);
    });

    it('answers every request handed over before close, and keeps their rows', async t => {
      const { store, dir } = await openStore(t, writerThread);
      const { first, second } = await twoTraces();
      const answers = [
        store.ingestSpans(first, traceAndCircuitOf, T0),
        store.ingestSpans(second, traceAndCircuitOf, T0),
      ];
      const closed = store.close();
      // Handed to the thread after close began: refused, not left unanswered. (In line, it is
      // written before the connection closes.)
      const late = store.ingestSpans(
        first.map(sp => ({ ...sp, spanId: 'f'.repeat(16) })),
        none,
        T0,
      );
      if (writerThread) await assert.rejects(late, /the store is closing/);
      else assert.equal((await late).fresh, 1);
      await closed;
      assert.deepEqual(await Promise.all(answers), [
        { fresh: first.length, duplicates: 0 },
        { fresh: second.length, duplicates: 0 },
      ]);
      const reopened = new SqliteStore({ dataDir: dir, exportBridges: null, writerThread });
      t.after(() => reopened.close());
      assert.equal((await reopened.circuitTraceIds(CID)).length, 2);
    });
  });
}

/** A batch of one chunk with the given id: a second batch with the same id cannot commit. */
function chunkBatch(id: number, spans: DecodedSpan[]) {
  const { meta, body, bounds } = encodeSpanChunks([spans.map(s => ({ ...s, resourceId: 1 }))]);
  return {
    receivedMs: T0,
    resources: [],
    chunks: [{ id, traceId: spans[0]!.traceId, count: spans.length, ...bounds[0]! }],
    chunkMeta: meta,
    chunkBody: body,
    logs: [],
    derived: null,
    bridgeResourceId: 0,
    exports: null,
  };
}

const spansIn = (dir: string) => ({ dir: join(dir, 'spans'), segmentBytes: 1 << 20 });

describe('writer thread hand-over', () => {
  it('moves the span bytes to the thread instead of copying them, and writes them whole', async t => {
    const dir = await mkdtemp(join(tmpdir(), 'corr-writer-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    // Creates the store's file and schema.
    await new SqliteStore({ dataDir: dir, exportBridges: null, writerThread: false }).close();
    const thread = new WriterThread(join(dir, 'correlator.db'), spansIn(dir), e => assert.fail(e));
    t.after(() => thread.close());
    const { first } = await twoTraces();
    const batch = chunkBatch(1, first);
    const { chunkMeta: meta, chunkBody: body } = batch;
    const expected = Buffer.from(body);
    const written = thread.write(1, batch);
    // Moved, so the batch no longer holds them.
    assert.equal(body.byteLength, 0);
    assert.equal(meta.byteLength, 0);
    await written;
    const reader = new Database(join(dir, 'correlator.db'), { readonly: true });
    t.after(() => reader.close());
    const row = reader
      .prepare('SELECT span_count, length(body) AS in_row, body_segment, body_offset, body_length FROM span_chunks WHERE id = 1')
      .get() as { span_count: number; in_row: number; body_segment: number; body_offset: number; body_length: number };
    assert.equal(row.span_count, first.length);
    // The bytes are in the thread's segment file, not in the row (span-body-files.ts).
    assert.equal(row.in_row, 0);
    const stored = new SpanBodyReader(join(dir, 'spans')).read(row.body_segment, row.body_offset, row.body_length);
    assert.ok(stored.equals(expected), 'the stored body differs from the bytes handed over');
  });
});

describe('writer thread commits', () => {
  it('commits the requests that waited for it together, and a failing one fails alone', async t => {
    const dir = await mkdtemp(join(tmpdir(), 'corr-writer-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await new SqliteStore({ dataDir: dir, exportBridges: null, writerThread: false }).close();
    const file = join(dir, 'correlator.db');
    const thread = new WriterThread(file, spansIn(dir), e => assert.fail(e));
    t.after(() => thread.close());
    const { first, second } = await twoTraces();
    await thread.write(1, chunkBatch(1, first));
    assert.equal(thread.commits(), 1);
    // While another connection holds the write lock, the thread waits inside the commit of
    // batch 2; the three handed over meanwhile wait in its queue and go in one transaction,
    // which batch 4 (chunk id 1 again) makes fail: each is then written alone.
    await holdWriteLock(file, 300);
    const two = thread.write(2, chunkBatch(2, second));
    await new Promise(r => setTimeout(r, 100));
    const three = thread.write(3, chunkBatch(3, first));
    const four = thread.write(4, chunkBatch(1, second));
    const five = thread.write(5, chunkBatch(5, second));
    await two;
    await three;
    await assert.rejects(four, /UNIQUE constraint failed: span_chunks\.id/);
    await five;
    assert.equal(thread.commits(), 4, 'batches 1, 2, 3 and 5 committed, 3 and 5 each alone');
    // Without a failure in it, a group is one commit.
    await holdWriteLock(file, 300);
    const six = thread.write(6, chunkBatch(6, first));
    await new Promise(r => setTimeout(r, 100));
    const rest = [7, 8, 9].map(seq => thread.write(seq, chunkBatch(seq, second)));
    await Promise.all([six, ...rest]);
    assert.equal(thread.commits(), 6, 'batch 6 alone, then 7, 8 and 9 in one commit');
    const reader = new Database(file, { readonly: true });
    t.after(() => reader.close());
    assert.deepEqual(
      reader.prepare('SELECT id FROM span_chunks ORDER BY id').pluck().all(),
      [1, 2, 3, 5, 6, 7, 8, 9],
    );
  });
});

describe('writer thread failure', () => {
  it('rejects what it held, reports once, and no longer blocks a drain', async () => {
    const failures: Error[] = [];
    // A directory that does not exist: the thread cannot open its connection.
    const thread = new WriterThread(join(tmpdir(), 'corr-no-such-dir', 'correlator.db'), spansIn(join(tmpdir(), 'corr-no-such-dir')), e =>
      failures.push(e),
    );
    const batch = {
      receivedMs: T0,
      resources: [],
      chunks: [],
      chunkMeta: new Uint8Array(0),
      chunkBody: new Uint8Array(0),
      logs: [],
      derived: null,
      bridgeResourceId: 0,
      exports: null,
    };
    // With the code the ingest routes answer 503 for: the request was not stored, a retry may be.
    await assert.rejects(
      thread.write(1, batch),
      (e: Error & { code?: string }) =>
        /directory does not exist|unable to open|SQLITE_CANTOPEN|exited/.test(e.message) &&
        e.code === WRITER_FAILED_CODE &&
        storeUnavailable(e)?.statusCode === 503,
    );
    assert.equal(failures.length, 1);
    assert.equal(thread.alive, false);
    assert.equal(thread.settled(), 1);
    thread.drain();
    await assert.rejects(thread.write(2, batch));
    await thread.close();
  });
});

describe('a writer thread that dies of an error', () => {
  it('closes the segment it was appending to, and the store goes on in line', async t => {
    const dir = await mkdtemp(join(tmpdir(), 'corr-writer-dies-'));
    let died: (e: Error) => void = () => {};
    const death = new Promise<Error>(resolve => (died = resolve));
    const store = new SqliteStore({ dataDir: dir, exportBridges: null, writerThread: true, onWriterError: e => died(e) });
    t.after(async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    });
    const { first, second } = await twoTraces();
    await store.ingestSpans(first, traceAndCircuitOf, T0);
    const segment = join(dir, 'spans', '00000001.spans');
    const openOn = (file: string) =>
      readdirSync('/proc/self/fd').filter(fd => {
        try {
          return readlinkSync(join('/proc/self/fd', fd)) === file;
        } catch {
          return false; // closed since the listing
        }
      }).length;
    assert.equal(openOn(segment), 1, 'the thread appends to the segment it opened');
    // A request the thread cannot read: a bug, as far as the thread knows, and it dies of it.
    const { worker } = (store as unknown as { sink: { worker: Worker } }).sink;
    // Held, so the test waits for the death: the thread is unreferenced while it holds no batch.
    worker.ref();
    worker.postMessage({ type: 'write', seq: 99, batch: {} });
    assert.match((await death).message, /reduce|undefined/);
    assert.equal(openOn(segment), 0);
    assert.equal(store.writeStats().writerThread, false);
    await store.ingestSpans(second, traceAndCircuitOf, T0);
    assert.equal((await store.spansOfTraces([first[0]!.traceId, second[0]!.traceId], 10)).spans.length, 2);
  });
});

/**
 * Takes the store file's write lock on a connection of its own for `ms`, in a thread that sleeps
 * holding it, so no commit can happen meanwhile. Resolves once the lock is held.
 */
function holdWriteLock(file: string, ms: number): Promise<void> {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const Database = require(workerData.driver);
    const db = new Database(workerData.file);
    db.prepare('BEGIN IMMEDIATE').run();
    parentPort.postMessage('locked');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.ms);
    db.prepare('COMMIT').run();
    db.close();
  `;
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const holder = new Worker(source, { eval: true, workerData: { file, ms, driver } });
  return new Promise((resolve, reject) => {
    holder.once('message', () => resolve());
    holder.once('error', reject);
  });
}

describe('correlation with requests in flight', () => {
  /**
   * A circuit's first trace, three requests of other circuits that push it out of hot state (100
   * traces, 100 keys), then its second trace and the rest of the first, all handed over before
   * any commit: the misses for the circuit and the first trace must read what is in flight.
   */
  async function requests(): Promise<Buffer[]> {
    const [beorn, mdso] = await buildTraces([
      {
        service: 'beorn',
        spans: [
          {
            name: 'POST /service/create',
            kind: SpanKind.SERVER,
            startMs: T0,
            endMs: T0 + 900,
            attributes: { circuit_id: CID },
          },
          {
            name: 'POST mdso/resources',
            kind: SpanKind.CLIENT,
            startMs: T0 + 20,
            endMs: T0 + 80,
            parent: 'POST /service/create',
            attributes: { circuit_id: CID },
          },
        ],
      },
      {
        service: 'mdso',
        spans: [
          {
            name: 'CircuitDetailsCollector',
            startMs: T0 + 100,
            endMs: T0 + 700,
            attributes: { 'mdso.circuit_id': CID },
          },
        ],
      },
    ]);
    const noise = await Promise.all(
      [0, 1, 2].map(r =>
        buildTraces(
          Array.from({ length: 150 }, (_, i) => ({
            service: 'arda',
            spans: [
              {
                name: 'topology',
                startMs: T0 + 10,
                endMs: T0 + 20,
                attributes: { circuit_id: `NOISE-${r}-${i}` },
              },
            ],
          })),
          100 + r,
        ),
      ),
    );
    return [
      tracesProtobuf([beorn!.spans[0]!]),
      ...noise.map(traces => tracesProtobuf(traces.flatMap(tr => tr.spans))),
      tracesProtobuf(mdso!.spans),
      tracesProtobuf([beorn!.spans[1]!]),
    ];
  }

  /** What the API says about the circuit, without the times the store stamps. */
  async function circuitView(writerThread: boolean, t: TestContext, bodies: Buffer[]) {
    const app = await buildTestApp(t, {
      STORE_WRITER_THREAD: String(writerThread),
      MAX_TRACKED_TRACES: '100',
      MAX_TRACKED_KEYS: '100',
    });
    const { pipeline, store } = app.correlator;
    // The writer would otherwise commit the first request while this thread decodes the others.
    await holdWriteLock(store.db.name, 500);
    const results = await Promise.all(bodies.map(b => pipeline.tracesFromProtobuf(b)));
    assert.deepEqual(
      results.map(r => r.duplicates),
      bodies.map(() => 0),
    );
    const detail = (await app.inject(`/api/circuits/${encodeURIComponent(CID)}`)).json<{
      summary: { traceCount: number; spanCount: number; bridgeCount: number; services: string[] };
      traces: { traceId: string; spanCount: number; services: string[] }[];
      bridges: { spanId: string; traceId: string; childTraceId: string }[];
      correlations: { id: string; traceIds: string[]; spanCount: number }[];
    }>();
    return {
      waits: store.writeStats().waits,
      evictions: app.correlator.engine.stats().traceEvictions,
      summary: (({ traceCount, spanCount, bridgeCount, services }) => ({
        traceCount,
        spanCount,
        bridgeCount,
        services,
      }))(detail.summary),
      traces: detail.traces.map(({ traceId, spanCount, services }) => ({
        traceId,
        spanCount,
        services,
      })),
      bridges: detail.bridges.map(({ spanId, traceId, childTraceId }) => ({
        spanId,
        traceId,
        childTraceId,
      })),
      correlations: detail.correlations.map(({ id, traceIds, spanCount }) => ({
        id,
        traceIds,
        spanCount,
      })),
    };
  }

  it('stores the same circuit with the writer thread as in line', async t => {
    const bodies = await requests();
    const threaded = await circuitView(true, t, bodies);
    const inline = await circuitView(false, t, bodies);
    assert.ok(
      threaded.evictions > 0 && inline.evictions > 0,
      'hot state evicted the circuit between its requests',
    );
    assert.ok(threaded.waits > 0, 'a miss waited for a request in flight');
    assert.equal(inline.waits, 0);
    const { waits: _w1, evictions: _e1, ...a } = threaded;
    const { waits: _w2, evictions: _e2, ...b } = inline;
    assert.deepEqual(a, b);
    assert.equal(a.summary.traceCount, 2);
    assert.equal(a.summary.spanCount, 3);
    assert.equal(a.bridges.length, 1);
    assert.deepEqual(a.traces.find(tr => tr.spanCount === 2)?.services, ['beorn']);
  });
});
