// Chunks and bridges are found through their traces' row ids (schema 4): retention must take them
// with the row, or a later trace given the same id would show them as its own.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import type { DecodedSpan } from '../../src/otlp/decoded.js';
import { decodeTraceRequest } from '../../src/otlp/trace-decoder.js';
import { emptyDerivedWrites, type DerivedWrites } from '../../src/store/derived-writes.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { buildTraces, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { traceRow } from './derived-fixture.js';

const T0 = Date.UTC(2026, 11, 4, 9, 0, 0);
const HOUR = 3_600_000;
const CID = '71.L1XX.100300..CHTR';
const rules = keyRulesFromConfig(loadConfig({ LOG_LEVEL: 'silent' }));

/** Three one-span traces of the circuit: one from beorn, then arda's, then a later palantir one. */
async function traces(): Promise<DecodedSpan[][]> {
  const built = await buildTraces([
    {
      service: 'arda',
      spans: [
        {
          name: 'serve',
          startMs: T0 + 2 * HOUR,
          endMs: T0 + 2 * HOUR + 10,
          attributes: { circuit_id: CID },
        },
      ],
    },
    {
      service: 'beorn',
      spans: [{ name: 'create', startMs: T0, endMs: T0 + 10, attributes: { circuit_id: CID } }],
    },
    {
      service: 'palantir',
      spans: [{ name: 'check', startMs: T0 + 3 * HOUR, endMs: T0 + 3 * HOUR + 10 }],
    },
  ]);
  return built.map(t => decodeTraceRequest(tracesProtobuf(t.spans), rules).spans);
}

/** The trace's row, and for beorn's trace the bridge from it to arda's. */
function rowsFor(spans: DecodedSpan[], bridgeTo?: DecodedSpan): () => DerivedWrites {
  return () => {
    const w = emptyDerivedWrites();
    const s = spans[0]!;
    w.traces.push(traceRow(spans));
    if (bridgeTo)
      w.bridgesAdded.push({
        spanId: 'b'.repeat(16),
        traceId: s.traceId,
        parentSpanId: s.spanId,
        parentService: 'beorn',
        parentStartMs: s.startMs,
        childTraceId: bridgeTo.traceId,
        childSpanId: bridgeTo.spanId,
        childService: 'arda',
        childStartMs: bridgeTo.startMs,
        key: 'circuit_id',
        value: CID,
        method: 'circuit_id_match',
        confidence: 0.9,
        basis: 'call',
        createdAtMs: T0 + 2 * HOUR,
        settled: true,
      });
    return w;
  };
}

test("retention takes a trace's chunks and bridges with its row, so a trace given its row id again finds none of them", async t => {
  const dir = await mkdtemp(join(tmpdir(), 'corr-refs-'));
  const store = new SqliteStore({ dataDir: dir, exportBridges: null });
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const [arda, beorn, palantir] = await traces();
  const received = T0 + 2 * HOUR;
  await store.ingestSpans(arda!, rowsFor(arda!), received);
  // beorn's trace arrives last, so its row has the highest id.
  await store.ingestSpans(beorn!, rowsFor(beorn!, arda![0]), received);
  const ids = () => store.db.prepare('SELECT trace_id, id FROM traces ORDER BY id').raw().all();
  assert.deepEqual(ids(), [
    [arda![0]!.traceId, 1],
    [beorn![0]!.traceId, 2],
  ]);
  assert.equal((await store.bridgesOf({ traceId: arda![0]!.traceId })).length, 1);

  // beorn's trace ended more than an hour before arda's; its chunks and its bridge arrived with arda's.
  const pruned = store.prune(T0 + HOUR);
  assert.deepEqual(
    [pruned.traces, pruned.spans],
    [1, 2],
    'one trace row, its span and its bridge span',
  );
  assert.deepEqual(await store.bridgesOf({ traceId: arda![0]!.traceId }), []);
  assert.deepEqual((await store.links(arda![0]!.traceId)).in, []);

  await store.ingestSpans(palantir!, rowsFor(palantir!), T0 + 3 * HOUR);
  assert.deepEqual(ids()[1], [palantir![0]!.traceId, 2], 'the new trace has the deleted row id');
  const { spans } = await store.spansOfTraces([palantir![0]!.traceId], 10);
  assert.deepEqual(
    spans.map(s => [s.service, s.synthetic]),
    [['palantir', false]],
  );
});
