// The SQLite store with its seen filter: what it held before a restart is still found (the filter
// is built from the store when it opens), whether the build finished at once or runs in slices
// between requests, and new trace ids and keys are answered without a lookup.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { loadConfig } from '../../src/config/config.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import type { DecodedSpan } from '../../src/otlp/decoded.js';
import { decodeLogsRequest } from '../../src/otlp/logs-decoder.js';
import { decodeTraceRequest } from '../../src/otlp/trace-decoder.js';
import { emptyDerivedWrites } from '../../src/store/derived-writes.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { buildLogs, buildTraces, logsProtobuf, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { traceAndCircuit } from './derived-fixture.js';
import { testCleanup } from '../helpers/cleanup.js';

const T0 = Date.UTC(2026, 11, 3, 9, 0, 0);
const CID = '71.L1XX.200300..CHTR';
const WINDOW: [number, number] = [T0 - 60_000, T0 + 60_000];
const rules = keyRulesFromConfig(loadConfig({ LOG_LEVEL: 'silent' }));

async function dataDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'corr-seen-'));
  testCleanup(t)(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function open(t: TestContext, dir: string, seenFilterBytes?: number): SqliteStore {
  const store = new SqliteStore({
    dataDir: dir,
    exportBridges: null,
    ...(seenFilterBytes === undefined ? {} : { seenFilterBytes }),
  });
  testCleanup(t)(() => store.close());
  return store;
}

async function oneTrace(): Promise<DecodedSpan[]> {
  const [trace] = await buildTraces([
    {
      service: 'beorn',
      spans: [
        { name: 'create', startMs: T0, endMs: T0 + 50, attributes: { circuit_id: CID } },
        { name: 'validate', startMs: T0 + 5, endMs: T0 + 20, attributes: { circuit_id: CID } },
      ],
    },
  ]);
  return decodeTraceRequest(tracesProtobuf(trace!.spans), rules).spans;
}

const traceAndCircuitOf = traceAndCircuit(CID);
const none = () => emptyDerivedWrites();

describe('the store with its seen filter', () => {
  it('still finds after a restart what it held before, and looks nothing up for new ids and keys', async t => {
    const dir = await dataDir(t);
    const spans = await oneTrace();
    const traceId = spans[0]!.traceId;
    const first = open(t, dir);
    assert.deepEqual(await first.ingestSpans(spans, traceAndCircuitOf, T0), {
      fresh: 2,
      duplicates: 0,
    });
    await first.close();

    const store = open(t, dir);
    // A store this small is read when it opens: the filter answers from the first request.
    assert.equal(store.seenFilterStats().active, true);
    assert.deepEqual(await store.ingestSpans(spans, none, T0), { fresh: 0, duplicates: 2 });
    assert.equal(store.loadTraces([traceId])[0]?.spanCount, 2);
    assert.deepEqual(store.loadGroup('circuit_id', CID, ...WINDOW, 10)?.traceIds, [traceId]);
    assert.equal(store.seenFilterStats().skipped, 0);

    assert.deepEqual(store.loadTraces(['0123456789abcdef0123456789abcdef']), []);
    assert.equal(store.loadGroup('circuit_id', 'never-seen', ...WINDOW, 10), null);
    assert.equal(store.seenFilterStats().skipped, 2);
  });

  it('still finds log records after a restart, and looks new ones up only in the filter', async t => {
    const dir = await dataDir(t);
    const records = async (first: string) =>
      decodeLogsRequest(
        logsProtobuf(
          await buildLogs('palantir', [
            { body: `${first} circuit_id=${CID}`, atMs: T0 },
            { body: 'activation finished', atMs: T0 + 10 },
          ]),
        ),
        rules,
        T0,
      ).logs;
    const logs = await records('activation started');
    const first = open(t, dir);
    assert.deepEqual(await first.ingestLogs(logs, none, T0), { fresh: 2, duplicates: 0 });
    // Sent again once committed: the filter learnt them from the batch, not from a scan.
    assert.deepEqual(await first.ingestLogs(logs, none, T0), { fresh: 0, duplicates: 2 });
    await first.close();

    const store = open(t, dir);
    assert.deepEqual(await store.ingestLogs(logs, none, T0), { fresh: 0, duplicates: 2 });
    assert.equal(store.seenFilterStats().skipped, 0);
    const other = await records('activation retried');
    assert.deepEqual(await store.ingestLogs(other, none, T0), { fresh: 1, duplicates: 1 });
    assert.equal(store.seenFilterStats().skipped, 1);
  });

  it('finds the key values of logs of no trace, as they are written and after a restart', async t => {
    const dir = await dataDir(t);
    const logs = decodeLogsRequest(logsProtobuf(await buildLogs('bpocore', [{ body: `plan step circuit_id=${CID}`, atMs: T0 }])), rules, T0).logs;
    const looseLog = () => {
      const w = emptyDerivedWrites();
      w.looseLogs.push({ key: 'circuit_id', value: CID, timeMs: T0, service: 'bpocore' });
      return w;
    };
    const first = open(t, dir);
    assert.equal(first.seenFilterStats().active, true);
    assert.deepEqual(await first.ingestLogs(logs, looseLog, T0), { fresh: 1, duplicates: 0 });
    assert.equal(first.loadGroup('circuit_id', CID, ...WINDOW, 10)?.looseLogs, 1);
    await first.close();

    const store = open(t, dir);
    assert.equal(store.seenFilterStats().active, true);
    assert.deepEqual(store.looseLogs('circuit_id', CID, ...WINDOW), { count: 1, firstMs: T0, lastMs: T0, services: ['bpocore'] });
    assert.equal(store.loadGroup('circuit_id', CID, ...WINDOW, 10)?.looseLogs, 1);
    assert.equal(store.seenFilterStats().skipped, 0);
  });

  it('forgets spans retention deleted with their trace row, even when they arrived late', async t => {
    const dir = await dataDir(t);
    const spans = await oneTrace();
    const store = open(t, dir);
    // Received now, but their trace ended at T0: retention goes by the trace's last span, and a
    // trace's chunks are found through its row, so they go with it.
    const eachTrace = (fresh: DecodedSpan[]) => {
      const w = emptyDerivedWrites();
      for (const id of new Set(fresh.map(s => s.traceId))) {
        const d = traceAndCircuitOf(fresh.filter(s => s.traceId === id));
        w.traces.push(...d.traces);
        w.memberships.push(...d.memberships);
      }
      return w;
    };
    await store.ingestSpans(spans, eachTrace, Date.now());
    const pruned = store.prune(T0 + 60_000);
    assert.deepEqual([pruned.traces, pruned.spans], [2, 2]);
    assert.equal(store.db.prepare('SELECT count(*) FROM span_chunks').pluck().get(), 0);
    assert.deepEqual(await store.ingestSpans(spans, none, Date.now()), { fresh: 2, duplicates: 0 });
  });

  it('reads a large store in slices between requests, looking every id up until it is done', async t => {
    const dir = await dataDir(t);
    const spans = await oneTrace();
    const seed = open(t, dir);
    await seed.ingestSpans(spans, traceAndCircuitOf, T0);
    const insert = seed.db.prepare(
      `INSERT INTO traces (trace_id, first_ms, last_ms, services, keys, linked, updated_ms) VALUES (?, 0, 0, '[]', '{}', '[]', 0)`,
    );
    seed.db.transaction(() => {
      for (let i = 0; i < 5000; i++) insert.run(i.toString(16).padStart(32, '0'));
    })();
    await seed.close();

    const store = open(t, dir);
    assert.equal(store.seenFilterStats().active, false);
    // Not yet built: the store is asked, and answers.
    assert.deepEqual(await store.ingestSpans(spans, none, T0), { fresh: 0, duplicates: 2 });
    for (let turns = 0; !store.seenFilterStats().active; turns++) {
      assert.ok(turns < 100, 'the build never finished');
      await nextTurn();
    }
    assert.equal(store.seenFilterStats().builds, 1);
    assert.equal(store.loadTraces([(4999).toString(16).padStart(32, '0')]).length, 1);
    assert.deepEqual(await store.ingestSpans(spans, none, T0), { fresh: 0, duplicates: 2 });
    assert.equal(store.seenFilterStats().skipped, 0);
  });

  it('behaves the same with the filter switched off', async t => {
    const dir = await dataDir(t);
    const spans = await oneTrace();
    const store = open(t, dir, 0);
    assert.deepEqual(await store.ingestSpans(spans, traceAndCircuitOf, T0), {
      fresh: 2,
      duplicates: 0,
    });
    assert.deepEqual(await store.ingestSpans(spans, none, T0), { fresh: 0, duplicates: 2 });
    assert.deepEqual(store.loadTraces(['0123456789abcdef0123456789abcdef']), []);
    assert.equal(store.loadGroup('circuit_id', CID, ...WINDOW, 10)?.traceIds.length, 1);
    assert.deepEqual(store.seenFilterStats(), {
      bytes: 0,
      entries: 0,
      active: false,
      builds: 0,
      skipped: 0,
    });
  });
});
