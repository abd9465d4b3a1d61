// A trace read back from the store (after a restart, or once hot state evicted it) has the
// candidate bridge parents hot state had, each call with where it went: its span's bytes are read
// back for it, from the row (a store in memory) or from the segment files (one with a directory).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { loadConfig } from '../../src/config/config.js';
import { CandidateSpans } from '../../src/correlation/candidate-spans.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import { decodeTraceRequest } from '../../src/otlp/trace-decoder.js';
import { emptyDerivedWrites } from '../../src/store/derived-writes.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { testCleanup, tempDir } from '../helpers/cleanup.js';
import { buildTraces, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { traceRow } from './derived-fixture.js';

const rules = keyRulesFromConfig(loadConfig({ LOG_LEVEL: 'silent' }));

describe('candidates of a trace read back from the store', () => {
  for (const where of ['memory', 'directory'] as const)
    it(`carry each call's destination, as hot state has them (a store in ${where})`, async t => {
      const cleanup = testCleanup(t);
      const dataDir = where === 'memory' ? ':memory:' : await tempDir(cleanup, 'corr-stored-candidates-');
      const store = new SqliteStore({ dataDir, exportBridges: null, writerThread: false });
      cleanup(() => store.close());
      const t0 = Date.now() - 60_000;
      const [beorn] = await buildTraces([
        {
          service: 'beorn',
          spans: [
            { name: 'create', kind: SpanKind.SERVER, startMs: t0, endMs: t0 + 1000, attributes: { circuit_id: 'C-1', 'server.address': 'beorn' } },
            { name: 'POST', kind: SpanKind.CLIENT, startMs: t0 + 50, endMs: t0 + 600, parent: 'create', attributes: { 'peer.service': 'MDSO' } },
            { name: 'GET', kind: SpanKind.CLIENT, startMs: t0 + 100, endMs: t0 + 110, parent: 'create', attributes: { 'url.full': 'http://palantir:5002/x' } },
            { name: 'publish', kind: SpanKind.PRODUCER, startMs: t0 + 120, endMs: t0 + 130, parent: 'create' },
          ],
        },
      ]);
      // Two requests: the calls' bytes are in two chunks.
      const spans = decodeTraceRequest(tracesProtobuf(beorn!.spans), rules).spans;
      const inHotState = CandidateSpans.of([]);
      for (const part of [spans.slice(0, 2), spans.slice(2)]) {
        await store.ingestSpans(part, () => ({ ...emptyDerivedWrites(), traces: [traceRow(part)] }), Date.now());
        for (const s of part) inHotState.push(s.spanId, s.resource.serviceName, s.startMs, s.endMs, s.kind, s.destination ?? null);
      }
      const [loaded] = store.loadTraces([beorn!.traceId]);
      const all = (c: CandidateSpans) => Array.from({ length: c.length }, (_, i) => c.at(i)).sort((a, b) => a.startMs - b.startMs);
      assert.deepEqual(all(loaded!.candidates), all(inHotState));
      assert.deepEqual(
        all(loaded!.candidates).map(c => c.destination ?? null),
        [null, { name: 'mdso', isHost: false }, { name: 'palantir', isHost: true }, null],
      );
    });

  it('keep a call to a destination no other kept call goes to, after 128 calls to another', async t => {
    const cleanup = testCleanup(t);
    const store = new SqliteStore({ dataDir: ':memory:', exportBridges: null, writerThread: false });
    cleanup(() => store.close());
    const t0 = Date.now() - 60_000;
    const [beorn] = await buildTraces([
      {
        service: 'beorn',
        spans: [
          { name: 'create', kind: SpanKind.SERVER, startMs: t0, endMs: t0 + 1000, attributes: { circuit_id: 'C-1' } },
          ...Array.from({ length: 128 }, (_, i) => ({
            name: `poll ${i}`,
            kind: SpanKind.CLIENT,
            startMs: t0 + 1 + i,
            endMs: t0 + 2 + i,
            parent: 'create',
            attributes: { 'peer.service': 'palantir' },
          })),
          { name: 'POST', kind: SpanKind.CLIENT, startMs: t0 + 400, endMs: t0 + 410, parent: 'create', attributes: { 'peer.service': 'MDSO' } },
        ],
      },
    ]);
    const spans = decodeTraceRequest(tracesProtobuf(beorn!.spans), rules).spans;
    await store.ingestSpans(spans, () => ({ ...emptyDerivedWrites(), traces: [traceRow(spans)] }), Date.now());
    const [loaded] = store.loadTraces([beorn!.traceId]);
    const kept = Array.from({ length: loaded!.candidates.length }, (_, i) => loaded!.candidates.at(i));
    // The MDSO call and the 127 latest polls; the earliest poll and the root give way.
    const byStart = [...spans].sort((a, b) => a.startMs - b.startMs);
    assert.deepEqual(kept.map(c => c.spanId).sort(), byStart.slice(2).map(s => s.spanId).sort());
    assert.deepEqual(kept.find(c => c.destination?.name === 'mdso')?.spanId, byStart.at(-1)!.spanId);
  });
});
