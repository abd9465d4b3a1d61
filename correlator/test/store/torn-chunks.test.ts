// After a power cut a committed chunk row may point past the end of its segment file
// (torn-chunks.ts). The store rebuilds such chunks when it opens: spans whose bytes are on disk keep
// them, the others come back from their records, so every view of the circuit still answers and the
// counts stay true.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { stat, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import type { DecodedSpan } from '../../src/otlp/decoded.js';
import { otlpTypes } from '../../src/otlp/schema.js';
import { readFullSpan } from '../../src/otlp/span-reader.js';
import { decodeTraceRequest } from '../../src/otlp/trace-decoder.js';
import { encodeSpanChunk, readSpanChunkMeta } from '../../src/store/sqlite/span-chunk.js';
import {
  SpanBodyAppender,
  SpanBodyReader,
  segmentFileName,
  segmentsIn,
} from '../../src/store/sqlite/span-body-files.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import {
  LOST_SPAN_ATTRIBUTE,
  LOST_SPAN_NAME,
  lostSpanBytes,
  rebuildChunk,
  repairTornChunks,
} from '../../src/store/sqlite/torn-chunks.js';
import { SpanKind, buildTraces, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { tempDir as tempDirOf, testCleanup } from '../helpers/cleanup.js';
import { traceAndCircuit } from './derived-fixture.js';

const rules = keyRulesFromConfig(loadConfig({ LOG_LEVEL: 'silent' }));
const T0 = Date.UTC(2026, 11, 6, 5, 0, 0);

/** A data directory removed after the test, once what `closeFirst` was given has closed. */
async function tempDir(t: TestContext) {
  const closeFirst = testCleanup(t);
  return { dir: await tempDirOf(closeFirst, 'corr-torn-'), closeFirst };
}

/** Two traces of one circuit: beorn's of three spans (one failed), then arda's of two. */
async function twoTraces() {
  return buildTraces(
    [
      {
        service: 'beorn',
        spans: [
          { name: 'POST /activate', kind: SpanKind.SERVER, startMs: T0, endMs: T0 + 900, attributes: { circuit_id: 'CIRC-9' } },
          { name: 'validate', startMs: T0 + 10, endMs: T0 + 30, parent: 'POST /activate', error: true },
          { name: 'call mdso', kind: SpanKind.CLIENT, startMs: T0 + 40, endMs: T0 + 800, parent: 'POST /activate' },
        ],
      },
      {
        service: 'arda',
        spans: [
          { name: 'provision', kind: SpanKind.SERVER, startMs: T0 + 1000, endMs: T0 + 1500, attributes: { circuit_id: 'CIRC-9' } },
          { name: 'write config', startMs: T0 + 1100, endMs: T0 + 1200, parent: 'provision' },
        ],
      },
    ],
    7,
  );
}

/** The two traces as the store gets them, a request each. */
async function twoRequests(): Promise<[DecodedSpan[], DecodedSpan[]]> {
  const [beorn, arda] = await twoTraces();
  const decode = (t: typeof beorn) => decodeTraceRequest(tracesProtobuf(t!.spans), rules).spans;
  return [decode(beorn), decode(arda)];
}

/** What a view should show of a span whatever became of its bytes: everything its record keeps. */
function recordedFields(s: { traceId: string; spanId: string; parentSpanId: string; kind: string; startTimeUnixNano: string; endTimeUnixNano: string; status: { code: string } }) {
  return [s.traceId, s.spanId, s.parentSpanId, s.kind, s.startTimeUnixNano, s.endTimeUnixNano, s.status.code];
}

describe('chunks whose bytes a power cut kept from their segment', () => {
  it('rebuild each span from its record unless all its bytes are on disk', async () => {
    const [spans] = await twoRequests();
    const { meta, body } = encodeSpanChunk(spans.map(s => ({ ...s, resourceId: 1 })));
    const records = readSpanChunkMeta(meta);
    const endOf = (i: number) => records[i]!.offset + records[i]!.length;
    const cases = [
      { on: 'whole body', prefix: body.length, kept: 3 },
      { on: 'the first span and a byte of the second', prefix: endOf(0) + 1, kept: 1 },
      { on: 'the first two spans exactly', prefix: endOf(1), kept: 2 },
      { on: 'nothing', prefix: 0, kept: 0 },
    ];
    for (const c of cases) {
      const rebuilt = rebuildChunk(spans[0]!.traceId, meta, body.subarray(0, c.prefix));
      assert.equal(rebuilt.kept, c.kept, c.on);
      assert.equal(rebuilt.lost, 3 - c.kept, c.on);
      const out = readSpanChunkMeta(rebuilt.meta);
      out.forEach((r, i) => {
        const bytes = rebuilt.body.subarray(r.offset, r.offset + r.length);
        // Records other than the place of the bytes are unchanged.
        assert.deepEqual({ ...r, offset: 0, length: 0 }, { ...records[i]!, offset: 0, length: 0 }, c.on);
        if (i < c.kept) assert.deepEqual(Buffer.from(bytes), Buffer.from(spans[i]!.bytes), `${c.on}: span ${i} kept`);
        else {
          const full = readFullSpan(bytes);
          const original = readFullSpan(spans[i]!.bytes);
          assert.equal(full.name, LOST_SPAN_NAME, c.on);
          assert.deepEqual(full.attributes, { [LOST_SPAN_ATTRIBUTE]: true }, c.on);
          assert.deepEqual(recordedFields(full), recordedFields(original), `${c.on}: span ${i}`);
        }
      });
    }
  });

  it('encodes a stand-in span that another OTLP decoder reads as the record says', () => {
    const bytes = lostSpanBytes('0af7651916cd43dd8448eb211c80319c', {
      spanId: 'b7ad6b7169203331',
      parentSpanId: '00f067aa0ba902b7',
      startMs: 1_764_997_200_123.456,
      endMs: 1_764_997_200_999.001,
      kind: 3,
      statusCode: 2,
      resourceId: 4,
      offset: 0,
      length: 0,
    });
    const span = otlpTypes().Span.toObject(otlpTypes().Span.decode(bytes), { longs: String, bytes: String, enums: Number }) as Record<string, unknown>;
    assert.deepEqual(span, {
      traceId: Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex').toString('base64'),
      spanId: Buffer.from('b7ad6b7169203331', 'hex').toString('base64'),
      parentSpanId: Buffer.from('00f067aa0ba902b7', 'hex').toString('base64'),
      name: LOST_SPAN_NAME,
      kind: 3,
      startTimeUnixNano: '1764997200123456000',
      endTimeUnixNano: '1764997200999001000',
      attributes: [{ key: LOST_SPAN_ATTRIBUTE, value: { boolValue: true } }],
      status: { code: 2 },
    });
  });

  for (const damage of ['cut inside the last chunk', 'newest segment file missing'] as const) {
    it(`are rebuilt when the store opens (${damage}), once, and the views and counts stay whole`, async t => {
      const { dir, closeFirst } = await tempDir(t);
      // A segment per request: beorn's in 1, arda's in 2.
      const open = () => new SqliteStore({ dataDir: dir, exportBridges: null, spanSegmentBytes: 1 });
      let store = open();
      closeFirst(() => store.close());
      const [beorn, arda] = await twoRequests();
      await store.ingestSpans(beorn, traceAndCircuit('CIRC-9'), T0 + 2000);
      await store.ingestSpans(arda, traceAndCircuit('CIRC-9'), T0 + 2000);
      const traceIds = [beorn[0]!.traceId, arda[0]!.traceId];
      const view = async () =>
        (await store.spansOfTraces(traceIds, 100)).spans.map(s => ({ stored: s, full: readFullSpan(s.body!) }));
      const before = await view();
      const counts = () => store.db.prepare('SELECT trace_id, span_count FROM traces ORDER BY trace_id').raw().all();
      const countsBefore = counts();
      const ardaChunk = store.db
        .prepare('SELECT meta, body_offset, body_length FROM span_chunks WHERE trace_id = ?')
        .get(arda[0]!.traceId) as { meta: Buffer; body_offset: number; body_length: number };
      await store.close();

      const segment = join(dir, 'spans', segmentFileName(2));
      const fullSize = (await stat(segment)).size;
      assert.equal(fullSize, ardaChunk.body_offset + ardaChunk.body_length);
      let lostNames: string[];
      if (damage === 'cut inside the last chunk') {
        // arda's first span reached the disk, and a byte of its second.
        const first = readSpanChunkMeta(ardaChunk.meta)[0]!;
        await truncate(segment, ardaChunk.body_offset + first.offset + first.length + 1);
        lostNames = arda.slice(1).map(s => s.name);
      } else {
        await unlink(segment);
        lostNames = arda.map(s => s.name);
      }

      store = open();
      const repair = store.repairedOnOpen;
      // A message of its own: without one, a failing assert.ok parses this (transpiled, one-line) file to quote it, for minutes.
      assert.ok(repair, 'the store repaired nothing');
      assert.deepEqual(repair.segments, [
        { segment: 2, fileBytes: damage === 'newest segment file missing' ? null : (await stat(segment)).size, neededBytes: fullSize },
      ]);
      assert.equal(repair.lostSpans, lostNames.length);
      assert.equal(repair.keptSpans, damage === 'newest segment file missing' ? 0 : 1);
      assert.equal(repair.chunks, 1);
      const after = await view();
      assert.deepEqual(
        after.map(s => [s.stored.spanId, s.stored.service, s.stored.startMs]),
        before.map(s => [s.stored.spanId, s.stored.service, s.stored.startMs]),
      );
      after.forEach((s, i) => {
        const was = before[i]!.full;
        assert.deepEqual(recordedFields(s.full), recordedFields(was));
        if (lostNames.includes(was.name)) {
          assert.equal(s.full.name, LOST_SPAN_NAME);
          assert.deepEqual(s.full.attributes, { [LOST_SPAN_ATTRIBUTE]: true });
        } else assert.deepEqual(Buffer.from(s.stored.body!), Buffer.from(before[i]!.stored.body!));
      });
      assert.deepEqual(counts(), countsBefore);

      // Repaired for good: the next open finds nothing, and new spans go past the repair's segment.
      await store.close();
      store = open();
      assert.equal(store.repairedOnOpen, null);
      assert.deepEqual(
        (await view()).map(s => Buffer.from(s.stored.body!).toString('hex')),
        after.map(s => Buffer.from(s.stored.body!).toString('hex')),
      );
      const repairSegment = segmentsIn(join(dir, 'spans')).at(-1)!;
      const late = arda.map(s => ({ ...s, spanId: s.spanId.replace(/^./, 'e') }));
      await store.ingestSpans(late, traceAndCircuit('CIRC-9'), T0 + 3000);
      assert.ok(
        (store.db.prepare('SELECT max(body_segment) FROM span_chunks').pluck().get() as number) > repairSegment,
        'new spans went below the repair\'s segment',
      );
      assert.equal((await store.spansOfTraces(traceIds, 100)).spans.length, 7);
    });
  }

  it('leave the circuit view answering after the correlator restarts on the damaged directory', async t => {
    const { dir, closeFirst } = await tempDir(t);
    const config = loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir });
    let app = await buildApp({ config });
    closeFirst(() => app.close());
    for (const { spans } of await twoTraces()) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/traces',
        headers: { 'content-type': 'application/x-protobuf' },
        payload: tracesProtobuf(spans),
      });
      assert.equal(res.statusCode, 200, res.body);
    }
    const trace = async () => {
      const res = await app.inject({ url: '/api/circuits/CIRC-9/trace' });
      assert.equal(res.statusCode, 200, res.body);
      return (res.json() as { spans: { name: string; spanId: string; synthetic: boolean }[] }).spans;
    };
    assert.match((await app.inject({ url: '/metrics' })).body, /^store_spans_rebuilt_on_open 0$/m);
    const before = await trace();
    // Five received spans and the bridge from beorn to arda, which lives in the database.
    assert.deepEqual(before.map(s => s.synthetic).sort(), [false, false, false, false, false, true]);
    await app.close();
    await truncate(join(dir, 'spans', segmentFileName(1)), 0);
    app = await buildApp({ config });
    const metric = /^store_spans_rebuilt_on_open (\d+)$/m.exec((await app.inject({ url: '/metrics' })).body);
    assert.equal(metric?.[1], '5');
    const after = await trace();
    assert.deepEqual(
      after.map(s => [s.spanId, s.name]),
      before.map(s => [s.spanId, s.synthetic ? s.name : LOST_SPAN_NAME]),
    );
  });

  /**
   * Three traces in segments of their own (1: beorn, 2: arda, 3: palantir), or arda's and
   * palantir's in one request and one segment (2); the store closed.
   */
  async function threeSegments(t: TestContext, lastTwoTogether = false) {
    const { dir, closeFirst } = await tempDir(t);
    const spansDir = join(dir, 'spans');
    const open = (rebuildLostSpans = false) =>
      new SqliteStore({ dataDir: dir, exportBridges: null, spanSegmentBytes: 1, rebuildLostSpans });
    const store = open();
    const [beorn, arda] = await twoRequests();
    const [palantir] = await buildTraces(
      [{ service: 'palantir', spans: [{ name: 'lookup', startMs: T0 + 1600, endMs: T0 + 1700, attributes: { circuit_id: 'CIRC-9' } }] }],
      8,
    );
    const third = decodeTraceRequest(tracesProtobuf(palantir!.spans), rules).spans;
    for (const spans of lastTwoTogether ? [beorn, [...arda, ...third]] : [beorn, arda, third])
      await store.ingestSpans(spans, traceAndCircuit('CIRC-9'), T0 + 2000);
    const traceIds = [beorn, arda, third].map(spans => spans[0]!.traceId);
    await store.close();
    return { dir, spansDir, open, closeFirst, traceIds, names: { beorn: beorn.map(s => s.name), arda: arda.map(s => s.name), palantir: ['lookup'] } };
  }

  const namesOf = async (store: SqliteStore, traceIds: string[]) =>
    (await store.spansOfTraces(traceIds, 100)).spans.map(s => readFullSpan(s.body!).name);

  /** The store rebuilt `chunks` chunks at open, and its views name the spans so (in any order). */
  async function assertRebuilt(store: SqliteStore, chunks: number, traceIds: string[], names: string[]) {
    assert.equal(store.repairedOnOpen?.chunks, chunks);
    assert.deepEqual((await namesOf(store, traceIds)).sort(), [...names].sort());
  }

  it('refuse to open when the damage is not what a power cut leaves, and rebuild when told to', async t => {
    const cases = [
      {
        damage: 'every segment file gone (a directory not mounted, a database restored without it)',
        apply: async (spansDir: string) => {
          for (const n of [1, 2, 3]) await unlink(join(spansDir, segmentFileName(n)));
        },
        refusal: /spans holds none of the 3 segment files the database names\. Is the directory mounted.*STORE_REBUILD_LOST_SPANS=true/,
        lost: 6,
      },
      {
        damage: 'an older segment cut while a newer one is whole',
        apply: async (spansDir: string) => truncate(join(spansDir, segmentFileName(2)), 10),
        refusal: /lacks bytes the database names in 1 of its 3 segment files \(0 missing\), older than 1 intact ones: a power cut loses only the newest/,
        lost: 2,
      },
    ];
    for (const c of cases) {
      const { spansDir, open, closeFirst, traceIds } = await threeSegments(t);
      await c.apply(spansDir);
      assert.throws(() => open(), c.refusal, c.damage);
      // The refusal let go of the directory: the next open is not locked out.
      const store = open(true);
      closeFirst(() => store.close());
      assert.equal(store.repairedOnOpen?.lostSpans, c.lost, c.damage);
      assert.equal((await namesOf(store, traceIds)).filter(n => n === LOST_SPAN_NAME).length, c.lost, c.damage);
    }
  });

  it('are found again when a second power cut takes the end of the repair\'s own segment', async t => {
    const { spansDir, open, closeFirst, traceIds, names } = await threeSegments(t, true);
    // The first cut takes segment 2: arda's and palantir's chunks go to the repair's segment.
    await unlink(join(spansDir, segmentFileName(2)));
    let store = open();
    assert.equal(store.repairedOnOpen?.chunks, 2);
    const repairSegment = segmentsIn(spansDir).at(-1)!;
    const lastWritten = store.db
      .prepare('SELECT max(body_offset) FROM span_chunks WHERE body_segment = ?')
      .pluck()
      .get(repairSegment) as number;
    await store.close();
    // The second takes the end of that segment: the chunk written last, whichever it is.
    await truncate(join(spansDir, segmentFileName(repairSegment)), lastWritten + 1);
    store = open();
    closeFirst(() => store.close());
    await assertRebuilt(store, 1, traceIds, [...names.beorn, ...names.arda.map(() => LOST_SPAN_NAME), LOST_SPAN_NAME]);
  });

  it('leave rows naming a lost file to the next open when a repair does not commit', async t => {
    const { dir, spansDir, open, closeFirst, traceIds, names } = await threeSegments(t);
    await unlink(join(spansDir, segmentFileName(3)));
    // A repair that appends its bytes and dies before its rows commit (as a kill -9 would).
    const db = new Database(join(dir, 'correlator.db'));
    const reader = new SpanBodyReader(spansDir);
    const appender = new SpanBodyAppender(spansDir);
    db.exec('BEGIN');
    assert.equal(repairTornChunks(db, spansDir, reader, appender, false)?.chunks, 1);
    db.exec('ROLLBACK');
    appender.close();
    reader.close();
    db.close();
    // Its segment took a number no row names, so the rows into segment 3 still find nothing there.
    assert.ok(!existsSync(join(spansDir, segmentFileName(3))), 'the repair wrote under the lost segment\'s number');
    const store = open();
    closeFirst(() => store.close());
    await assertRebuilt(store, 1, traceIds, [...names.beorn, ...names.arda, LOST_SPAN_NAME]);
  });

  it('are all rebuilt or none: a repair that dies half-way leaves the whole of it to the next open', async t => {
    const { dir, spansDir, open, closeFirst, traceIds, names } = await threeSegments(t);
    // A power cut takes the ends of the two newest segments.
    await truncate(join(spansDir, segmentFileName(2)), 0);
    await truncate(join(spansDir, segmentFileName(3)), 0);
    // The repair dies (kill -9, another power cut) after rebuilding segment 2's chunks, before segment 3's.
    class DyingAppender extends SpanBodyAppender {
      appends = 0;
      override append(bytes: Uint8Array) {
        if (++this.appends === 2) throw new Error('the process died');
        return super.append(bytes);
      }
    }
    const db = new Database(join(dir, 'correlator.db'));
    const reader = new SpanBodyReader(spansDir);
    const appender = new DyingAppender(spansDir);
    assert.throws(() => repairTornChunks(db, spansDir, reader, appender, false), /the process died/);
    appender.close();
    reader.close();
    db.close();
    // Segment 2's chunks did not move above segment 3 on their own, which would look like damage a
    // power cut does not leave: the next open repairs both.
    const store = open();
    closeFirst(() => store.close());
    await assertRebuilt(store, 2, traceIds, [...names.beorn, ...names.arda.map(() => LOST_SPAN_NAME), LOST_SPAN_NAME]);
  });

  it('leave an undamaged store alone', async t => {
    const { dir, closeFirst } = await tempDir(t);
    let store = new SqliteStore({ dataDir: dir, exportBridges: null });
    closeFirst(() => store.close());
    const [beorn, arda] = await twoRequests();
    await store.ingestSpans(beorn, traceAndCircuit('CIRC-9'), T0 + 2000);
    await store.ingestSpans(arda, traceAndCircuit('CIRC-9'), T0 + 2000);
    await store.close();
    store = new SqliteStore({ dataDir: dir, exportBridges: null });
    assert.equal(store.repairedOnOpen, null);
    // No segment was made for a repair.
    assert.deepEqual(segmentsIn(join(dir, 'spans')), [1]);
  });
});
