// A full episode's correlation row is written again by every batch that widens it (a trace it
// refused, a member's late data), and with it every one of its members' ids: a fifth of a span's
// cost for a circuit polled past MAX_TRACES_PER_CIRCUIT. The engine marks a row whose ids the
// store holds already (CorrelationRow.traceIdsStored), and the writer leaves them as they are.
// Nor is the row read back and parsed when the episode looks for others near it (ownId).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { CorrelationEngine } from '../../src/correlation/engine.js';
import type { DecodedSpan } from '../../src/otlp/decoded.js';
import { decodedResource } from '../fixtures/decoded-resource.js';
import { emptyDerivedWrites, type CorrelationRow, type DerivedWrites } from '../../src/store/derived-writes.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const CAP = 3;
const CIRCUIT = 'KEPT.1';
const BASE_MS = Date.now() - 600_000;
const RESOURCES = ['beorn', 'mdso', 'arda'].map(s => decodedResource(s));

/** Trace n of the circuit, 2 s after the one before, as a poller sends them. */
function trace(n: number): DecodedSpan[] {
  const startMs = BASE_MS + n * 2000;
  return [
    {
      traceId: `4b${n.toString(16).padStart(30, '0')}`,
      spanId: `5c${n.toString(16).padStart(14, '0')}`,
      parentSpanId: '',
      name: 'poll',
      kind: 2,
      startMs,
      endMs: startMs + 50,
      resource: RESOURCES[n % 3]!,
      keys: { circuit_id: CIRCUIT },
      links: null,
      bytes: Buffer.alloc(0),
      synthetic: false,
      statusCode: 0,
    },
  ];
}
const traceId = (n: number) => trace(n)[0]!.traceId;

interface Stored {
  trace_ids: string;
  last_ms: number;
  span_count: number;
}

async function openStore(t: TestContext, dir: string, writerThread: boolean): Promise<{ store: SqliteStore; ingest: (n: number) => Promise<CorrelationRow[]> }> {
  const store = new SqliteStore({ dataDir: dir, exportBridges: null, writerThread });
  const engine = new CorrelationEngine(
    { windowMs: 60_000, maxTrackedTraces: 10_000, maxTrackedKeys: 10_000, maxTracesPerCircuit: CAP, bridgeKeys: ['circuit_id'], correlationKeys: ['circuit_id'] },
    store,
  );
  t.after(() => store.close());
  const ingest = async (n: number): Promise<CorrelationRow[]> => {
    let rows: CorrelationRow[] = [];
    await store.ingestSpans(
      trace(n),
      fresh => {
        const { writes } = engine.observe(fresh, []);
        rows = writes.correlations.filter(c => c.key === 'circuit_id');
        return writes;
      },
      Date.now(),
    );
    return rows;
  };
  return { store, ingest };
}

/** A row of the circuit's first two traces, as the engine writes one, to write by hand. */
function correlationRow(id: string): CorrelationRow {
  return {
    id,
    method: 'circuit_id_match',
    key: 'circuit_id',
    value: CIRCUIT,
    confidence: 0.9,
    firstMs: BASE_MS,
    lastMs: BASE_MS + 50,
    traceIds: [traceId(0), traceId(1)],
    services: ['beorn'],
    spanCount: 2,
    logCount: 0,
  };
}

const stored = (store: SqliteStore) => store.db.prepare(`SELECT trace_ids, last_ms, span_count FROM correlations WHERE key = 'circuit_id'`).all() as Stored[];

for (const writerThread of [false, true]) {
  describe(`a correlation row's member ids (writer thread ${writerThread})`, () => {
    it('are written when members join, and left as stored when a batch only widens the episode', async t => {
      const dir = await mkdtemp(join(tmpdir(), 'corr-ids-kept-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      const { store, ingest } = await openStore(t, dir, writerThread);
      await ingest(0);
      const joined = [await ingest(1), await ingest(2)];
      // Each join writes the ids whole: none of them is marked stored.
      assert.deepEqual(joined.map(rows => rows.map(r => [r.traceIds.length, r.traceIdsStored ?? false])), [[[2, false]], [[3, false]]]);
      // Full at 3: traces 3 and 4 are refused, and widen the episode only.
      const widened = [await ingest(3), await ingest(4)];
      assert.deepEqual(widened.map(rows => rows.map(r => [r.traceIds.length, r.traceIdsStored ?? false])), [[[3, true]], [[3, true]]]);
      const [row] = stored(store);
      assert.deepEqual(JSON.parse(row!.trace_ids), [0, 1, 2].map(traceId), 'the members, as the join wrote them');
      assert.equal(row!.last_ms, BASE_MS + 4 * 2000 + 50, 'widened to the last trace it refused');
      assert.equal(row!.span_count, 3, "and counting only its members' spans");
    });

    it('are not read back by the episode itself when it looks for others near it as it widens', async t => {
      const dir = await mkdtemp(join(tmpdir(), 'corr-ids-kept-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      const { store, ingest } = await openStore(t, dir, writerThread);
      for (let n = 0; n < 4; n++) await ingest(n);
      const id = store.db.prepare(`SELECT id FROM correlations WHERE key = 'circuit_id'`).pluck().get() as string;
      const asked: (string | undefined)[] = [];
      const episodesNear = store.episodesNear.bind(store);
      store.episodesNear = (...args: Parameters<SqliteStore['episodesNear']>) => (asked.push(args[7]), episodesNear(...args));
      await ingest(4);
      assert.ok(asked.length > 0 && asked.every(a => a === id), `asked for ${JSON.stringify(asked)} as ${id}`);
      const span = [BASE_MS, BASE_MS + 10_000] as const;
      const ids = (ownId?: string) => store.episodesNear('circuit_id', CIRCUIT, ...span, Infinity, null, null, ownId)!.correlations.map(c => c.id);
      assert.deepEqual([ids(), ids(id)], [[id], []], 'the row itself without ownId, and none with it');
    });

    it('are written whole again by an engine that read the episode back', async t => {
      const dir = await mkdtemp(join(tmpdir(), 'corr-ids-kept-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      const first = await openStore(t, dir, writerThread);
      for (let n = 0; n < 4; n++) await first.ingest(n);
      await first.store.close();
      // A restart: the group is read back, and the store's row is not known to hold its ids.
      const again = await openStore(t, dir, writerThread);
      const rows = await again.ingest(5);
      assert.deepEqual(rows.map(r => [r.traceIds.length, r.traceIdsStored ?? false]), [[3, false]]);
      assert.deepEqual(JSON.parse(stored(again.store)[0]!.trace_ids), [0, 1, 2].map(traceId));
    });

    it('are written whole when the row marked stored is not there, as a merge that removed it leaves it', async t => {
      const dir = await mkdtemp(join(tmpdir(), 'corr-ids-kept-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      const { store } = await openStore(t, dir, writerThread);
      const row: CorrelationRow = { ...correlationRow('kept-missing'), traceIdsStored: true };
      await store.ingestSpans(trace(0), (): DerivedWrites => Object.assign(emptyDerivedWrites(), { correlations: [row] }), Date.now());
      assert.deepEqual(JSON.parse(stored(store)[0]!.trace_ids), [traceId(0), traceId(1)]);
    });

    it('are left as stored by the writer when marked so, whatever the row carries, and the rest updated', async t => {
      const dir = await mkdtemp(join(tmpdir(), 'corr-ids-kept-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      const { store } = await openStore(t, dir, writerThread);
      const row = correlationRow('kept-present');
      const write = (c: CorrelationRow, n: number) =>
        store.ingestSpans(trace(n), (): DerivedWrites => Object.assign(emptyDerivedWrites(), { correlations: [c] }), Date.now());
      await write(row, 0);
      // The marked row's list is not read: the stored one stays, and the rest moves on.
      await write({ ...row, traceIds: [], traceIdsStored: true, lastMs: BASE_MS + 9000, services: ['beorn', 'mdso'], spanCount: 5 }, 1);
      const [after] = store.db.prepare(`SELECT trace_ids, last_ms, services, span_count FROM correlations WHERE id = 'kept-present'`).all() as (Stored & { services: string })[];
      assert.deepEqual(
        [JSON.parse(after!.trace_ids), after!.last_ms, JSON.parse(after!.services), after!.span_count],
        [[traceId(0), traceId(1)], BASE_MS + 9000, ['beorn', 'mdso'], 5],
      );
    });
  });
}
