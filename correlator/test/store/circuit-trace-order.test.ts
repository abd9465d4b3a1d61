// A circuit's most recent traces are read in order from its trace rows' first-datum indexes (schema.ts,
// version 13): the same traces, in the same order, as grouping all its rows by trace and sorting them
// by each trace's earliest row, which the detail and the stitched view did before taking the last
// `limit`, reading every trace of a circuit polled for days to show 1,000.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { CIRCUIT_TRACES_OF_RANGE_NEWEST_FIRST, circuitTracesNewestFirst, KEY_VALUE_TRACES_NEAR, KEY_VALUE_TRACES_NEAR_UNORDERED } from '../../src/store/sqlite/circuit-traces.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { TimeRange } from '../../src/store/store.js';

const CID = '51.KGFN.000042..CHTR';
const T0 = Date.now() - 3_600_000;
const id = (n: number) => n.toString(16).padStart(32, '0');

/** [trace, member row's first datum or null, refused row's or null, the traces row's extent]. */
const ROWS: [number, number | null, number | null, [number, number]][] = [
  [1, 100, null, [100, 150]],
  [2, null, 200, [200, 250]],
  // Both kinds: counted once, at the earlier row (the refused one here, the member one next).
  [3, 900, 300, [300, 950]],
  [4, 400, 950, [400, 960]],
  // A tie on first datum: by trace id.
  [6, 500, null, [500, 520]],
  [5, null, 500, [500, 510]],
  // Both kinds at the same time.
  [7, 600, 600, [600, 700]],
  // Its trace reaches later than its rows: a range finds it by the trace's own extent.
  [8, 650, null, [650, 2000]],
  [9, null, 800, [800, 820]],
];

/** Ranges over ROWS: each end inside, between and at traces, open at one end, none of the circuit's. */
const RANGES: [string, TimeRange][] = [
  ['none', {}],
  ['from', { fromMs: T0 + 505 }],
  ['to', { toMs: T0 + 500 }],
  ['both', { fromMs: T0 + 250, toMs: T0 + 650 }],
  // Traces 3 and 4, each with rows of both kinds: at the earlier row, not at the member's.
  ['both kinds', { fromMs: T0 + 940, toMs: T0 + 955 }],
  ['ties', { fromMs: T0 + 505, toMs: T0 + 600 }],
  // Trace 8's rows end at 660: its data reach the range by its last datum alone.
  ['late extent', { fromMs: T0 + 1500 }],
  ['late extent, bounded', { fromMs: T0 + 1000, toMs: T0 + 1100 }],
  ['one instant', { fromMs: T0 + 510, toMs: T0 + 510 }],
  ["beside another circuit's trace", { fromMs: T0 + 705, toMs: T0 + 706 }],
  ['empty', { fromMs: T0 + 3000 }],
];

function storeWithRows(t: TestContext): SqliteStore {
  const store = new SqliteStore({ dataDir: ':memory:', exportBridges: null });
  t.after(() => store.close());
  const db = store.db;
  const trace = db.prepare(`INSERT INTO traces (trace_id, first_ms, last_ms, services, keys, linked, updated_ms) VALUES (?, ?, ?, '[]', '{}', '[]', 0)`);
  const row = (table: string) => db.prepare(`INSERT INTO ${table} (key, value, trace_id, first_ms, last_ms) VALUES ('circuit_id', ?, ?, ?, ?)`);
  const [member, refused] = [row('trace_keys'), row('refused_traces')];
  for (const [n, memberMs, refusedMs, [first, last]] of ROWS) {
    trace.run(id(n), T0 + first, T0 + last);
    if (memberMs !== null) member.run(CID, id(n), T0 + memberMs, T0 + memberMs + 10);
    if (refusedMs !== null) refused.run(CID, id(n), T0 + refusedMs, T0 + refusedMs + 10);
  }
  // Another circuit's and another key's rows are not its.
  trace.run(id(99), T0 + 700, T0 + 710);
  member.run('OTHER', id(99), T0 + 700, T0 + 710);
  db.prepare(`INSERT INTO trace_keys VALUES ('product_id', ?, ?, ?, ?)`).run(CID, id(99), T0 + 700, T0 + 710);
  return store;
}

/** What the detail listed before version 13: every row grouped by trace, by earliest row then id. */
function allByGrouping(store: SqliteStore, range: TimeRange): string[] {
  return store.db
    .prepare(
      `SELECT c.trace_id FROM (
         SELECT trace_id, first_ms FROM trace_keys WHERE key = 'circuit_id' AND value = @circuit
         UNION ALL SELECT trace_id, first_ms FROM refused_traces WHERE key = 'circuit_id' AND value = @circuit) c
       JOIN traces t ON t.trace_id = c.trace_id WHERE t.last_ms >= @fromMs AND t.first_ms <= @toMs
       GROUP BY c.trace_id ORDER BY min(c.first_ms), c.trace_id`,
    )
    .pluck()
    .all({ circuit: CID, fromMs: range.fromMs ?? -Number.MAX_VALUE, toMs: range.toMs ?? Number.MAX_VALUE }) as string[];
}

/** How often each of the store's named statements is run by `method`, counted as they run. */
function countCalls<N extends string>(store: SqliteStore, method: 'all' | 'get', names: readonly N[]): Record<N, number> {
  const calls = Object.fromEntries(names.map(name => [name, 0])) as Record<N, number>;
  const statements = (store as unknown as { st: Record<string, Record<typeof method, (...args: unknown[]) => unknown>> }).st;
  for (const name of names) {
    const statement = statements[name]!;
    const run = statement[method].bind(statement);
    statement[method] = (...args) => {
      calls[name]++;
      return run(...args);
    };
  }
  return calls;
}

describe("a circuit's most recent traces", () => {
  it('are the last of all its traces by first datum, say whether there were more, and are counted', async t => {
    const store = storeWithRows(t);
    assert.deepEqual(
      await store.circuitTraceIds(CID),
      [1, 2, 3, 4, 5, 6, 7, 8, 9].map(id),
      'all of them, each once, by its earliest row then id',
    );
    const ranges: [string, TimeRange][] = [
      ['none', {}],
      ['from', { fromMs: T0 + 505 }],
      ['to', { toMs: T0 + 500 }],
      ['both', { fromMs: T0 + 250, toMs: T0 + 650 }],
      ['late extent', { fromMs: T0 + 1500 }],
      ['empty', { fromMs: T0 + 3000 }],
    ];
    for (const [name, range] of ranges) {
      const all = allByGrouping(store, range);
      assert.deepEqual(await store.circuitTraceIds(CID, range), all, `${name}: all`);
      // Rows written here have no circuits row, whose count a range-less count reads (as the detail's).
      if (name !== 'none') assert.equal(await store.circuitTraceCount(CID, range), all.length, `${name}: count`);
      for (const limit of [1, 2, 3, all.length - 1, all.length, all.length + 1].filter(n => n >= 1)) {
        assert.deepEqual(
          await store.recentCircuitTraceIds(CID, range, limit),
          { traceIds: all.slice(Math.max(0, all.length - limit)), truncated: all.length > limit },
          `${name}, limit ${limit}`,
        );
      }
    }
  });

  it("are read in order from the circuit's first-datum indexes, without sorting all of them", t => {
    const store = storeWithRows(t);
    for (const ranged of [false, true]) {
      const plan = (
        store.db.prepare(`EXPLAIN QUERY PLAN ${circuitTracesNewestFirst(ranged)}`).all({ circuit: CID, fromMs: 0, toMs: 1, limit: 2 }) as { detail: string }[]
      ).map(r => r.detail);
      const text = plan.join('\n');
      assert.match(text, /trace_keys_circuit_first/, text);
      assert.match(text, /refused_traces_circuit_first/, text);
      assert.doesNotMatch(text, /TEMP B-TREE/, text);
    }
  });

  it('near a time, are read from both kinds’ indexes by last datum, not from all of a full episode’s members', t => {
    const store = storeWithRows(t);
    for (const sql of [KEY_VALUE_TRACES_NEAR, KEY_VALUE_TRACES_NEAR_UNORDERED]) {
      const plan = (
        store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ key: 'circuit_id', value: CID, fromMs: 0, toMs: 1, limit: 2 }) as { detail: string }[]
      ).map(r => r.detail);
      const text = plan.join('\n');
      // Covering: each row's first datum is in the index, not looked up in the table.
      assert.match(text, /trace_keys USING COVERING INDEX trace_keys_near \(key=\? AND value=\? AND last_ms>\?\)/, text);
      assert.match(text, /refused_traces USING COVERING INDEX refused_traces_near \(key=\? AND value=\? AND last_ms>\?\)/, text);
    }
  });

  it("in a range, are the same read from the range's traces as from the circuit's rows", t => {
    const store = storeWithRows(t);
    const fromCircuit = store.db.prepare(circuitTracesNewestFirst(true)).pluck();
    const fromRange = store.db.prepare(CIRCUIT_TRACES_OF_RANGE_NEWEST_FIRST).pluck();
    for (const [name, range] of RANGES) {
      const newestFirst = allByGrouping(store, range).reverse();
      const bounds = { circuit: CID, fromMs: range.fromMs ?? -Number.MAX_VALUE, toMs: range.toMs ?? Number.MAX_VALUE };
      for (const limit of [-1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
        const expected = limit === -1 ? newestFirst : newestFirst.slice(0, limit);
        assert.deepEqual(fromRange.all({ ...bounds, limit }), expected, `${name}, limit ${limit}: from the range's traces`);
        assert.deepEqual(fromCircuit.all({ ...bounds, limit }), expected, `${name}, limit ${limit}: from the circuit's rows`);
      }
    }
  });

  it("are read from the range's traces when it holds fewer than the circuit, as from its rows", async t => {
    const store = storeWithRows(t);
    // The circuit's count is what the range's traces are weighed against.
    store.db
      .prepare(`INSERT INTO circuits (circuit_id, first_ms, last_ms, trace_count, services, keys, updated_ms) VALUES (?, ?, ?, ?, '[]', '{}', 0)`)
      .run(CID, T0 + 100, T0 + 2000, ROWS.length);
    // How often each way was taken, by the store's own statements.
    const reads = countCalls(store, 'all', ['circuitTraceIdsOfRange', 'circuitTraceIdsIn']);
    const counts = countCalls(store, 'get', ['circuitTraceCountOfRange', 'circuitTraceCountIn']);
    for (const [name, range] of RANGES) {
      const oldestFirst = allByGrouping(store, range);
      for (const limit of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
        assert.deepEqual(
          await store.recentCircuitTraceIds(CID, range, limit),
          { traceIds: oldestFirst.slice(Math.max(0, oldestFirst.length - limit)), truncated: oldestFirst.length > limit },
          `${name}, limit ${limit}`,
        );
      }
      assert.deepEqual(await store.circuitTraceIds(CID, range), oldestFirst, `${name}: all`);
      if (name !== 'none') assert.equal(await store.circuitTraceCount(CID, range), oldestFirst.length, `${name}: count`);
    }
    // Not every range: the circuit's rows are read when the range starts more of them than listed.
    assert.ok(reads.circuitTraceIdsOfRange > 20, JSON.stringify(reads));
    assert.ok(reads.circuitTraceIdsIn > 20, JSON.stringify(reads));
    // Counted the same way: from the range's traces when it holds fewer than the circuit.
    assert.ok(counts.circuitTraceCountOfRange > 0, JSON.stringify(counts));
    assert.ok(counts.circuitTraceCountIn > 0, JSON.stringify(counts));
  });

  it("in a range, are read from the range's traces by end, each probed for the circuit's rows", t => {
    const store = storeWithRows(t);
    const plan = (
      store.db.prepare(`EXPLAIN QUERY PLAN ${CIRCUIT_TRACES_OF_RANGE_NEWEST_FIRST}`).all({ circuit: CID, fromMs: 0, toMs: 1, limit: 2 }) as { detail: string }[]
    ).map(r => r.detail);
    const text = plan.join('\n');
    assert.match(text, /SEARCH t USING INDEX traces_last/, text);
    assert.match(text, /SEARCH m USING PRIMARY KEY \(key=\? AND value=\? AND trace_id=\?\)/, text);
    assert.match(text, /SEARCH r USING PRIMARY KEY \(key=\? AND value=\? AND trace_id=\?\)/, text);
    assert.doesNotMatch(text, /circuit_first/, text);
  });
});
