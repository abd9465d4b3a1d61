// The writer files a trace a full episode refused apart from members (schema.ts, refused_traces).
// A refusal can race another episode's write of the same trace as a member: the trace is then a
// member, and stays one.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import { decodeTraceRequest } from '../../src/otlp/trace-decoder.js';
import { emptyDerivedWrites } from '../../src/store/derived-writes.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { buildTraces, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { traceAndCircuit, traceRow } from './derived-fixture.js';

const T0 = Date.UTC(2026, 11, 5, 10, 0, 0);
const CID = '71.L1XX.100500..CHTR';
const rules = keyRulesFromConfig(loadConfig({ LOG_LEVEL: 'silent' }));

for (const writerThread of [true, false]) {
  describe(`refusal rows (STORE_WRITER_THREAD=${writerThread})`, () => {
    it('keeps a trace that is a member when a refusal of it arrives, and widens its membership', async t => {
      const dir = await mkdtemp(join(tmpdir(), 'corr-refusals-'));
      const store = new SqliteStore({ dataDir: dir, exportBridges: null, writerThread });
      t.after(async () => {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      });
      const [traceSpans] = await buildTraces([
        {
          service: 'mdso',
          spans: [
            { name: 'activate', startMs: T0, endMs: T0 + 10, attributes: { circuit_id: CID } },
            { name: 'poll', startMs: T0 + 5_000, endMs: T0 + 5_010, parent: 'activate' },
          ],
        },
      ]);
      const decoded = decodeTraceRequest(tracesProtobuf(traceSpans!.spans), rules).spans;
      const first = decoded.find(s => s.name === 'activate');
      const late = decoded.find(s => s.name === 'poll');
      await store.ingestSpans(
        [first!],
        spans => {
          const w = traceAndCircuit(CID)(spans);
          w.circuits.push({ circuitId: CID, firstMs: T0, lastMs: T0 + 10, spanDelta: 1, errorDelta: 0, logDelta: 0, services: ['mdso'], keys: {} });
          return w;
        },
        T0 + 100,
      );
      // A full episode's refusal of the same trace, spanning its late span.
      await store.ingestSpans(
        [late!],
        () => {
          const w = emptyDerivedWrites();
          w.traces.push(traceRow([late!]));
          w.refusals.push({ key: 'circuit_id', value: CID, traceId: late!.traceId, firstMs: T0, lastMs: T0 + 5_010 });
          return w;
        },
        T0 + 5_100,
      );
      assert.deepEqual(store.db.prepare('SELECT trace_id, first_ms, last_ms FROM refused_traces').all(), [], 'no refusal filed');
      assert.deepEqual(
        store.db.prepare('SELECT trace_id, first_ms, last_ms FROM trace_keys WHERE key = ? AND value = ?').all('circuit_id', CID),
        [{ trace_id: first!.traceId, first_ms: T0, last_ms: T0 + 5_010 }],
        'the membership spans the trace whole',
      );
      assert.equal((await store.getCircuit(CID))?.traceCount, 1, 'counted once');
    });
  });
}
