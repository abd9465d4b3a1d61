// A bridge its group plans again (the same parent trace, span id and key group) is updated in place:
// one row, with the latest plan's columns, still found through both traces' rows. Another group
// planning the same hop has a row of its own.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import type { DecodedSpan } from '../../src/otlp/decoded.js';
import { decodeTraceRequest } from '../../src/otlp/trace-decoder.js';
import {
  emptyDerivedWrites,
  type BridgeRow,
  type DerivedWrites,
} from '../../src/store/derived-writes.js';
import { toBridgePlan, type BridgeDbRow } from '../../src/store/sqlite/rows.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { buildTraces, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { traceRow } from './derived-fixture.js';

const T0 = Date.UTC(2026, 11, 4, 10, 0, 0);
const CID = '71.L1XX.100400..CHTR';
const rules = keyRulesFromConfig(loadConfig({ LOG_LEVEL: 'silent' }));

function rows(spans: DecodedSpan[], bridge?: BridgeRow, removed?: BridgeRow): () => DerivedWrites {
  return () => {
    const w = emptyDerivedWrites();
    w.traces.push(traceRow(spans));
    if (bridge) w.bridgesAdded.push(bridge);
    if (removed) w.bridgesRemoved.push(removed);
    return w;
  };
}

/** The stored row, and whether its refs name the expected traces' rows. */
type StoredBridge = BridgeDbRow & { parent_is_beorn: number; child_is_arda: number };

for (const writerThread of [true, false]) {
  describe(`bridge rows (STORE_WRITER_THREAD=${writerThread})`, () => {
    it('a bridge planned again replaces its columns in place', async t => {
      const dir = await mkdtemp(join(tmpdir(), 'corr-bridges-'));
      const store = new SqliteStore({ dataDir: dir, exportBridges: null, writerThread });
      t.after(async () => {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      });
      const [beorn, arda] = (
        await buildTraces([
          {
            service: 'beorn',
            spans: [
              { name: 'create', startMs: T0, endMs: T0 + 10, attributes: { circuit_id: CID } },
              {
                name: 'activate',
                startMs: T0 + 20,
                endMs: T0 + 30,
                attributes: { circuit_id: CID },
              },
              // Fresh spans for the later writes: a batch of duplicates derives nothing.
              { name: 'verify', startMs: T0 + 40, endMs: T0 + 50 },
              { name: 'close', startMs: T0 + 60, endMs: T0 + 70 },
            ],
          },
          {
            service: 'arda',
            spans: [
              {
                name: 'serve',
                startMs: T0 + 100,
                endMs: T0 + 110,
                attributes: { circuit_id: CID },
              },
            ],
          },
        ])
      ).map(tr => decodeTraceRequest(tracesProtobuf(tr.spans), rules).spans);
      const first: BridgeRow = {
        spanId: 'b'.repeat(16),
        traceId: beorn![0]!.traceId,
        parentSpanId: beorn![0]!.spanId,
        parentService: 'beorn',
        parentStartMs: T0,
        childTraceId: arda![0]!.traceId,
        childSpanId: arda![0]!.spanId,
        childService: 'arda',
        childStartMs: T0 + 100,
        key: 'circuit_id',
        value: CID,
        method: 'circuit_id_match',
        confidence: 0.5,
        basis: 'call',
        createdAtMs: T0 + 200,
        settled: true,
      };
      const again: BridgeRow = {
        ...first,
        parentSpanId: beorn![1]!.spanId,
        parentService: 'beorn-2',
        parentStartMs: T0 + 20,
        childSpanId: 'c'.repeat(16),
        childService: 'arda-2',
        childStartMs: T0 + 101,
        confidence: 0.85,
        createdAtMs: T0 + 300,
      };
      await store.ingestSpans(arda!, rows(arda!), T0 + 150);
      await store.ingestSpans([beorn![0]!], rows([beorn![0]!], first), T0 + 200);
      await store.ingestSpans([beorn![1]!], rows([beorn![1]!], again), T0 + 300);

      const stored = store.db
        .prepare(
          `SELECT b.*,
             b.parent_ref = (SELECT id FROM traces WHERE trace_id = ?) AS parent_is_beorn,
             b.child_ref = (SELECT id FROM traces WHERE trace_id = ?) AS child_is_arda
           FROM bridges b`,
        )
        .all(beorn![0]!.traceId, arda![0]!.traceId) as StoredBridge[];
      assert.equal(stored.length, 1, 'one row for the bridge');
      const b = stored[0]!;
      // Whether it was settled decides its export queue entry only: no column of the row.
      const { createdAtMs, settled: _, ...plan } = again;
      assert.deepEqual(toBridgePlan(b), plan, 'the second plan replaced every column');
      assert.equal(b.created_ms, createdAtMs, 'and its creation time');
      assert.equal(b.parent_is_beorn, 1, "filed under beorn's trace row");
      assert.equal(b.child_is_arda, 1, "found from arda's trace row");

      // The same hop for another circuit: a row of its own, and the first keeps its columns.
      const other: BridgeRow = { ...again, value: 'CIRC-OTHER', createdAtMs: T0 + 400 };
      await store.ingestSpans([beorn![2]!], rows([beorn![2]!], other), T0 + 400);
      const byGroup = () => (store.db.prepare('SELECT * FROM bridges ORDER BY value').all() as BridgeDbRow[]).map(r => `${r.value} ${r.created_ms}`);
      assert.deepEqual(byGroup(), [`${CID} ${T0 + 300}`, `CIRC-OTHER ${T0 + 400}`]);
      assert.deepEqual((await store.bridgesOf({ circuitId: 'CIRC-OTHER' })).map(x => x.spanId), [again.spanId]);
      // The trace's bridge span is one, that of the first group in key and value order.
      assert.deepEqual((await store.bridgesOf({ traceId: beorn![0]!.traceId })).map(x => x.value), [[CID, 'CIRC-OTHER'].sort()[0]]);
      // One group giving the hop up leaves the other's row.
      await store.ingestSpans([beorn![3]!], rows([beorn![3]!], undefined, again), T0 + 500);
      assert.deepEqual(byGroup(), [`CIRC-OTHER ${T0 + 400}`]);
    });
  });
}
