// The rows a request hands the writer thread arrive as they left: every row, field, nested object
// (in its property order: the writer stores entry spans and key values as JSON) and value that is
// not a number (null, undefined, booleans), as structured clone carried them before.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyDerivedWrites, type BridgeRow } from '../../src/store/derived-writes.js';
import { packBatch, unpackBatch } from '../../src/store/sqlite/row-batch-wire.js';
import type { RowBatch } from '../../src/store/sqlite/row-writer.js';

const bridge = (spanId: string, createdAtMs: number, settled = true): BridgeRow => ({
  spanId,
  traceId: 'a'.repeat(32),
  parentSpanId: '1'.repeat(16),
  parentService: 'sense-api',
  parentStartMs: 1_700_000_000_000.25,
  childTraceId: 'b'.repeat(32),
  childSpanId: '2'.repeat(16),
  childService: 'mdso-bpo',
  childStartMs: 1_700_000_000_100,
  key: 'circuit_id',
  value: '51.KGFN.001100..CHTR',
  method: 'circuit_id_match',
  confidence: 0.897,
  basis: 'running_span',
  createdAtMs,
  settled,
});

function fullBatch(): RowBatch {
  const d = emptyDerivedWrites();
  d.traces = [
    {
      traceId: 'a'.repeat(32),
      firstMs: Infinity,
      lastMs: -Infinity,
      spanDelta: 0,
      errorDelta: 0,
      errorLogDelta: 2,
      logDelta: 2,
      services: [],
      entry: null,
      keys: {},
      moreKeys: [],
      linkedTraceIds: [],
      spanFirstMs: null,
      spanLastMs: null,
      keysGained: false,
      entryBecameRoot: false,
    },
    {
      traceId: 'b'.repeat(32),
      firstMs: 1.5,
      lastMs: -0,
      spanDelta: 12,
      errorDelta: 1,
      errorLogDelta: 3,
      logDelta: 0,
      services: ['sense-api', 'granite-inventory', 'sense-api'],
      // Not the interface's order: stored as JSON, the order is part of the row.
      entry: { name: 'sense-api.handle', spanId: '9'.repeat(16), hasParent: false, service: 'sense-api', startMs: 1, endMs: NaN },
      keys: { resource_id: 'r-1', circuit_id: 'c-1', product_id: 'ünïcode ✓' },
      moreKeys: ['circuit_id\u0000c-2'],
      linkedTraceIds: ['c'.repeat(32)],
      spanFirstMs: 1.5,
      spanLastMs: 2,
      keysGained: true,
      entryBecameRoot: true,
    },
  ];
  d.memberships = [{ key: 'circuit_id', value: 'c-1', traceId: 'b'.repeat(32), firstMs: 1, lastMs: 2 }];
  d.refusals = [{ key: 'resource_id', value: 'r-1', traceId: 'a'.repeat(32), firstMs: 3, lastMs: 4 }];
  d.demotions = [{ key: 'circuit_id', value: '', traceId: 'c'.repeat(32), firstMs: 5, lastMs: 6 }];
  d.looseLogs = [{ key: 'circuit_id', value: 'c-1', timeMs: 7, service: 'scripts' }];
  d.looseLogClaims = [{ key: 'resource_id', value: 'r-1', fromMs: 5, toMs: 9.5, circuitIds: ['c-1', 'c-2'] }];
  d.circuits = [
    { circuitId: 'c-1', firstMs: 1, lastMs: 9, spanDelta: 3, errorDelta: 0, logDelta: 1, services: ['a', 'b'], keys: { circuit_id: 'c-1' } },
  ];
  d.correlations = [
    {
      id: 'x1',
      method: 'circuit_id_match',
      key: 'circuit_id',
      value: 'c-1',
      confidence: 0.9,
      firstMs: 1,
      lastMs: 9,
      traceIds: ['a'.repeat(32), 'b'.repeat(32)],
      services: ['a'],
      spanCount: 3,
      logCount: 1,
    },
    // A row whose ids the store holds already: the flag crosses, and its absence above too.
    {
      id: 'x3',
      method: 'circuit_id_match',
      key: 'circuit_id',
      value: 'c-3',
      confidence: 0.9,
      firstMs: 2,
      lastMs: 12,
      traceIds: ['c'.repeat(32)],
      traceIdsStored: true,
      services: ['b'],
      spanCount: 4,
      logCount: 0,
    },
  ];
  d.correlationsRemoved = ['x0', 'x2'];
  d.bridgesAdded = [bridge('3'.repeat(16), 10), bridge('4'.repeat(16), 11, false)];
  const { createdAtMs: _, settled: __, ...removed } = bridge('5'.repeat(16), 0);
  d.bridgesRemoved = [removed];
  d.links = [{ sourceTraceId: 'a'.repeat(32), sourceSpanId: '1'.repeat(16), targetTraceId: 'b'.repeat(32), targetSpanId: '2'.repeat(16), origin: 'otlp' }];
  return {
    receivedMs: 1_700_000_000_500,
    resources: [{ id: 4, hash: 'h', service: 's', scopeName: 'n', scopeVersion: 'v', body: new Uint8Array([1, 2, 3]) }],
    chunks: [
      { id: 1, traceId: 'a'.repeat(32), count: 2, metaStart: 0, metaEnd: 112, bodyStart: 0, bodyEnd: 900 },
      { id: 2, traceId: 'b'.repeat(32), count: 1, metaStart: 112, metaEnd: 168, bodyStart: 900, bodyEnd: 1300 },
    ],
    chunkMeta: new Uint8Array(168),
    chunkBody: new Uint8Array(1300),
    logs: [],
    derived: d,
    bridgeResourceId: 4,
    exports: { refs: ['a:b', 'a:c'], dueMs: 2, heldRefs: ['a:c'], heldDueMs: 3, dropOldest: 0, maxDepth: 10 },
  };
}

/** As the writer thread receives it: packed, then structured-cloned. */
const crossed = (b: RowBatch) => unpackBatch(structuredClone(packBatch(b)));

describe('row batch wire format', () => {
  it('carries every row and value of a batch as it was', () => {
    const b = fullBatch();
    assert.deepStrictEqual(crossed(b), b);
  });

  it('keeps the property order of nested objects, which the writer stores as JSON', () => {
    const b = fullBatch();
    const t = crossed(b).derived!.traces[1]!;
    assert.equal(JSON.stringify(t.entry), JSON.stringify(b.derived!.traces[1]!.entry));
    assert.equal(JSON.stringify(t.keys), JSON.stringify(b.derived!.traces[1]!.keys));
    assert.ok(Object.is(t.lastMs, -0));
  });

  it('carries a batch that derives nothing, or has no chunks', () => {
    const b = { ...fullBatch(), derived: null, chunks: [] };
    assert.deepStrictEqual(crossed(b), b);
    const e = { ...fullBatch(), derived: emptyDerivedWrites() };
    assert.deepStrictEqual(crossed(e), e);
  });

  it('carries batches larger than its first guess of their size', () => {
    const b = fullBatch();
    b.derived!.bridgesAdded = Array.from({ length: 500 }, (_, i) => bridge(i.toString(16).padStart(16, '0'), i));
    b.derived!.correlationsRemoved = Array.from({ length: 300 }, (_, i) => `r${i}`);
    b.chunks = Array.from({ length: 500 }, (_, i) => ({ id: i, traceId: `t${i}`, count: 1, metaStart: i * 56, metaEnd: i * 56 + 56, bodyStart: i, bodyEnd: i + 1 }));
    assert.deepStrictEqual(crossed(b), b);
  });

  it('moves its numbers in buffers of their own, which can be transferred', () => {
    const w = packBatch(fullBatch());
    assert.equal(w.rows.refs.byteOffset, 0);
    assert.equal(w.rows.refs.byteLength, w.rows.refs.buffer.byteLength);
    assert.equal(w.rows.nums.byteLength, w.rows.nums.buffer.byteLength);
  });
});
