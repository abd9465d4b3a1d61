// What batches in flight write, as the main thread's reads see it: each trace and key group a batch
// names is reported until that batch settles, however often and in whatever order it names them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyDerivedWrites, type MembershipRow } from '../../src/store/derived-writes.js';
import { InFlightWrites } from '../../src/store/sqlite/in-flight-writes.js';
import type { RowBatch } from '../../src/store/sqlite/row-writer.js';

const NO_BYTES = new Uint8Array(0);

function batchOf(memberships: [key: string, value: string, traceId: string][]): RowBatch {
  const derived = emptyDerivedWrites();
  derived.memberships = memberships.map(([key, value, traceId]): MembershipRow => ({
    key,
    value,
    traceId,
    firstMs: 1,
    lastMs: 2,
  }));
  derived.traces = memberships.map(([, , traceId]) => ({
    traceId,
    firstMs: 1,
    lastMs: 2,
    spanDelta: 1,
    errorDelta: 0,
    errorLogDelta: 0,
    logDelta: 0,
    services: ['beorn'],
    entry: null,
    keys: {},
    moreKeys: [],
    spanFirstMs: 1,
    spanLastMs: 2,
    linkedTraceIds: [],
    keysGained: false,
    entryBecameRoot: false,
  }));
  return {
    receivedMs: 3,
    resources: [],
    chunks: [],
    chunkMeta: NO_BYTES,
    chunkBody: NO_BYTES,
    logs: [],
    derived,
    bridgeResourceId: 0,
    exports: null,
  };
}

describe('InFlightWrites', () => {
  const cases: { name: string; rows: [string, string, string][] }[] = [
    {
      name: 'two circuits, one after the other',
      rows: [
        ['circuit_id', 'C1', 'a'],
        ['circuit_id', 'C1', 'b'],
        ['circuit_id', 'C2', 'c'],
        ['circuit_id', 'C2', 'd'],
      ],
    },
    {
      name: 'two circuits interleaved, a second key between',
      rows: [
        ['circuit_id', 'C1', 'a'],
        ['resource_id', 'R1', 'a'],
        ['circuit_id', 'C2', 'b'],
        ['circuit_id', 'C1', 'b'],
      ],
    },
    {
      name: 'one value under two keys',
      rows: [
        ['circuit_id', 'X', 'a'],
        ['product_id', 'X', 'a'],
      ],
    },
  ];
  for (const { name, rows } of cases) {
    it(`reports every trace and group of a batch until it settles: ${name}`, () => {
      const inFlight = new InFlightWrites();
      inFlight.add(1, batchOf(rows), new Map(), []);
      for (const [key, value, traceId] of rows) {
        assert.equal(inFlight.writesGroup(key, value, 0), true, `group ${key}=${value} in flight`);
        assert.equal(inFlight.writesTrace(traceId, 0), true, `trace ${traceId} in flight`);
      }
      const groups: string[] = [];
      const traces: string[] = [];
      inFlight.forEachWritten(
        t => traces.push(t),
        (k, v) => groups.push(`${k}=${v}`),
        () => {},
      );
      assert.deepEqual(
        traces.sort(),
        [...new Set(rows.map(r => r[2]))].sort(),
        'each trace listed once',
      );
      assert.deepEqual(
        groups.sort(),
        [...new Set(rows.map(r => `${r[0]}=${r[1]}`))].sort(),
        'each group listed once',
      );
      inFlight.settle(1);
      for (const [key, value, traceId] of rows) {
        assert.equal(inFlight.writesGroup(key, value, 0), false, `group ${key}=${value} settled`);
        assert.equal(inFlight.writesTrace(traceId, 0), false, `trace ${traceId} settled`);
      }
    });
  }

  it('reports the key values of logs of no trace a batch writes until it settles', () => {
    const inFlight = new InFlightWrites();
    const batch = batchOf([]);
    batch.derived!.looseLogs.push({ key: 'circuit_id', value: 'C9', timeMs: 1, service: 'bpocore' });
    inFlight.add(1, batch, new Map(), []);
    assert.equal(inFlight.writesGroup('circuit_id', 'C9', 0), true);
    inFlight.settle(1);
    assert.equal(inFlight.writesGroup('circuit_id', 'C9', 0), false);
  });

  it('keeps a trace and group a later batch also writes when the earlier settles', () => {
    const inFlight = new InFlightWrites();
    inFlight.add(1, batchOf([['circuit_id', 'C1', 'a']]), new Map(), []);
    inFlight.add(2, batchOf([['circuit_id', 'C1', 'a']]), new Map(), []);
    inFlight.settle(1);
    assert.equal(
      inFlight.writesGroup('circuit_id', 'C1', 1),
      true,
      'batch 2 still writes the group',
    );
    assert.equal(inFlight.writesTrace('a', 1), true, 'batch 2 still writes the trace');
    inFlight.settle(2);
    assert.equal(inFlight.writesGroup('circuit_id', 'C1', 0), false, 'nothing in flight');
    assert.equal(inFlight.size, 0);
  });
});
