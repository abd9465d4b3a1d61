// Span bytes live in segment files beside the database (span-body-files.ts): a store with a
// directory writes them there and reads them back, a store in memory keeps them in its rows, a
// writer never appends to a segment it did not open, and retention deletes a segment once no row
// points into it, never the one a writer may be appending to.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import { decodeTraceRequest } from '../../src/otlp/trace-decoder.js';
import {
  SegmentUsage,
  SpanBodyAppender,
  SpanBodyReader,
  probeSegmentWrite,
  segmentFileName,
  segmentsIn,
} from '../../src/store/sqlite/span-body-files.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { buildTraces, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { traceAndCircuit } from './derived-fixture.js';
import { testCleanup } from '../helpers/cleanup.js';

const rules = keyRulesFromConfig(loadConfig({ LOG_LEVEL: 'silent' }));
const DAY = 86_400_000;

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'corr-span-files-'));
  testCleanup(t)(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('span segment files', () => {
  it('reads back what was appended, across segments, and opens a new segment only between transactions', async t => {
    const dir = await tempDir(t);
    const appender = new SpanBodyAppender(dir, 10);
    t.after(() => appender.close());
    appender.beforeTransaction();
    const a = appender.append(Buffer.from('0123456789ab'));
    // Past the size inside a transaction: the same segment.
    const b = appender.append(Buffer.from('xyz'));
    assert.deepEqual(
      [a, b],
      [
        { segment: 1, offset: 0 },
        { segment: 1, offset: 12 },
      ],
    );
    appender.beforeTransaction();
    const c = appender.append(Buffer.from('second'));
    assert.deepEqual(c, { segment: 2, offset: 0 });
    // Under the size: the next transaction stays in the segment.
    appender.beforeTransaction();
    assert.deepEqual(appender.append(Buffer.from('!')), { segment: 2, offset: 6 });
    const reader = new SpanBodyReader(dir);
    t.after(() => reader.close());
    assert.equal(reader.read(1, 12, 3).toString(), 'xyz');
    assert.equal(reader.read(1, 2, 4).toString(), '2345');
    assert.equal(reader.read(2, 0, 7).toString(), 'second!');
  });

  it('opens a segment again after a failed open, without closing a descriptor twice', async t => {
    const dir = await tempDir(t);
    const appender = new SpanBodyAppender(dir, 1);
    t.after(() => appender.close());
    appender.beforeTransaction();
    appender.append(Buffer.from('a'));
    await rm(dir, { recursive: true });
    assert.throws(
      () => appender.beforeTransaction(),
      (e: NodeJS.ErrnoException) => e.code === 'ENOENT',
    );
    await mkdir(dir);
    appender.beforeTransaction();
    const place = appender.append(Buffer.from('b'));
    const reader = new SpanBodyReader(dir);
    t.after(() => reader.close());
    assert.equal(reader.read(place.segment, place.offset, 1).toString(), 'b');
  });

  it('starts past every segment present: a previous process may have left bytes that never committed', async t => {
    const dir = await tempDir(t);
    await writeFile(join(dir, segmentFileName(7)), 'torn tail');
    await writeFile(join(dir, 'notes.txt'), 'not a segment');
    const appender = new SpanBodyAppender(dir);
    t.after(() => appender.close());
    appender.beforeTransaction();
    assert.deepEqual(appender.append(Buffer.from('new')), { segment: 8, offset: 0 });
    assert.deepEqual(segmentsIn(dir), [7, 8]);
  });

  it('holds a bounded number of segments open however many it reads', async t => {
    const dir = await tempDir(t);
    const appender = new SpanBodyAppender(dir, 1);
    for (let n = 1; n <= 100; n++) {
      appender.beforeTransaction();
      appender.append(Buffer.from(`segment ${n}`));
    }
    appender.close();
    const reader = new SpanBodyReader(dir);
    t.after(() => reader.close());
    for (let round = 0; round < 2; round++)
      for (let n = 1; n <= 100; n++)
        assert.equal(reader.read(n, 0, 8 + String(n).length).toString(), `segment ${n}`);
    assert.equal(reader.openSegments(), 64);
  });

  it('counts past eight digits', async t => {
    const dir = await tempDir(t);
    await writeFile(join(dir, segmentFileName(99_999_999)), '');
    const appender = new SpanBodyAppender(dir);
    t.after(() => appender.close());
    appender.beforeTransaction();
    assert.deepEqual(appender.append(Buffer.from('x')), { segment: 100_000_000, offset: 0 });
    assert.deepEqual(segmentsIn(dir), [99_999_999, 100_000_000]);
  });

  it('names the file when a chunk asks for bytes it does not hold', async t => {
    const dir = await tempDir(t);
    const appender = new SpanBodyAppender(dir);
    appender.beforeTransaction();
    appender.append(Buffer.alloc(100, 1));
    appender.close();
    await truncate(join(dir, segmentFileName(1)), 40);
    const reader = new SpanBodyReader(dir);
    t.after(() => reader.close());
    assert.throws(
      () => reader.read(1, 30, 20),
      /span bytes missing: 00000001\.spans .* ends at 40 bytes, a stored chunk needs 50/,
    );
    assert.throws(() => reader.read(4, 0, 1), /span bytes missing: cannot open 00000004\.spans/);
    // A segment that is there but cannot be opened is not called lost.
    await writeFile(join(dir, 'f'), '');
    await symlink(join(dir, 'f', 'below-a-file'), join(dir, segmentFileName(5)));
    assert.throws(
      () => reader.read(5, 0, 1),
      /span bytes unreadable: cannot open 00000005\.spans .*ENOTDIR/,
    );
  });

  it('probes whether the directory takes writes, as readiness asks after a failed one', async t => {
    const dir = await tempDir(t);
    probeSegmentWrite(dir);
    assert.deepEqual(await readdir(dir), [], 'the probe leaves nothing behind');
    // A write that fails as on a full disk.
    await symlink('/dev/full', join(dir, '.write-probe'));
    assert.throws(
      () => probeSegmentWrite(dir),
      (e: NodeJS.ErrnoException) => e.code === 'ENOSPC',
    );
  });

  it('counts the segment files and their bytes: the newest as it grows, none that retention deleted', async t => {
    const dir = await tempDir(t);
    const usage = new SegmentUsage(dir);
    assert.deepEqual(usage.read(), { segments: 0, bytes: 0 });
    const appender = new SpanBodyAppender(dir, 10);
    t.after(() => appender.close());
    appender.beforeTransaction();
    appender.append(Buffer.alloc(12));
    appender.beforeTransaction();
    appender.append(Buffer.alloc(3));
    assert.deepEqual(usage.read(), { segments: 2, bytes: 15 });
    appender.beforeTransaction();
    appender.append(Buffer.alloc(4));
    assert.deepEqual(usage.read(), { segments: 2, bytes: 19 }, 'the newest segment grew');
    appender.beforeTransaction();
    appender.append(Buffer.alloc(5));
    appender.beforeTransaction();
    appender.append(Buffer.alloc(1));
    assert.deepEqual(usage.read(), { segments: 3, bytes: 25 });
    const reader = new SpanBodyReader(dir);
    t.after(() => reader.close());
    assert.deepEqual(reader.deleteUnreferenced(segment => segment === 2), [1]);
    assert.deepEqual(usage.read(), { segments: 2, bytes: 13 });
  });

  it('deletes a segment no row points into, and never the newest', async t => {
    const dir = await tempDir(t);
    for (const n of [1, 2, 3, 4]) await writeFile(join(dir, segmentFileName(n)), `segment ${n}`);
    const reader = new SpanBodyReader(dir);
    t.after(() => reader.close());
    // An open descriptor does not keep a deleted segment readable under its number.
    assert.equal(reader.read(1, 0, 9).toString(), 'segment 1');
    const deleted = reader.deleteUnreferenced(segment => segment === 2);
    assert.deepEqual(deleted, [1, 3]);
    assert.deepEqual(segmentsIn(dir), [2, 4]);
    assert.throws(() => reader.read(1, 0, 1), /cannot open 00000001\.spans/);
  });
});

async function twoDaysOfTraces() {
  const now = Date.now();
  const trace = (service: string, startMs: number, seed: number) =>
    buildTraces(
      [
        {
          service,
          spans: [
            {
              name: `${service}.root`,
              startMs,
              endMs: startMs + 50,
              attributes: { circuit_id: `CIRC-${seed}` },
            },
            {
              name: `${service}.step`,
              startMs: startMs + 10,
              endMs: startMs + 20,
              parent: `${service}.root`,
            },
          ],
        },
      ],
      seed,
    );
  const [old] = await trace('beorn', now - 9 * DAY, 1);
  const [recent] = await trace('arda', now - 3_600_000, 2);
  const [other] = await trace('palantir', now - 3_500_000, 3);
  const decoded = (spans: NonNullable<typeof old>['spans']) =>
    decodeTraceRequest(tracesProtobuf(spans), rules).spans;
  // Two traces in one request: two chunks back to back in one segment, read in one piece.
  return { old: decoded(old!.spans), recent: decoded([...recent!.spans, ...other!.spans]) };
}

for (const writerThread of [true, false]) {
  describe(`a store's span bytes (STORE_WRITER_THREAD=${writerThread})`, () => {
    it('go to segment files, come back whole in views, and go with retention', async t => {
      const dir = await tempDir(t);
      // A segment per request, so that retention has one to delete.
      const open = () =>
        new SqliteStore({ dataDir: dir, exportBridges: null, writerThread, spanSegmentBytes: 1 });
      let store = open();
      testCleanup(t)(() => store.close());
      const { old, recent } = await twoDaysOfTraces();
      await store.ingestSpans(old, traceAndCircuit('CIRC-1'), Date.now());
      await store.ingestSpans(recent, traceAndCircuit('CIRC-2'), Date.now());
      assert.deepEqual(
        store.db
          .prepare('SELECT length(body), body_segment FROM span_chunks ORDER BY id')
          .raw()
          .all(),
        [
          [0, 1],
          [0, 2],
          [0, 2],
        ],
      );
      // Reopened: the earlier segments are read, and new bytes go to a segment of their own.
      await store.close();
      store = open();
      const memory = new SqliteStore({ dataDir: ':memory:', exportBridges: null });
      testCleanup(t)(() => memory.close());
      for (const [spans, cid] of [
        [old, 'CIRC-1'],
        [recent, 'CIRC-2'],
      ] as const)
        await memory.ingestSpans(spans, traceAndCircuit(cid), Date.now());
      assert.equal(
        memory.db
          .prepare('SELECT count(*) FROM span_chunks WHERE length(body) > 0 AND body_segment = 0')
          .pluck()
          .get(),
        3,
      );
      const ids = [...new Set([...old, ...recent].map(s => s.traceId))];
      const bytesOf = async (s: SqliteStore) =>
        (await s.spansOfTraces(ids, 100)).spans.map(sp => [
          sp.spanId,
          Buffer.from(sp.body!).toString('hex'),
        ]);
      const fromFiles = await bytesOf(store);
      assert.equal(fromFiles.length, 6);
      assert.deepEqual(fromFiles, await bytesOf(memory));
      assert.deepEqual(
        fromFiles.map(([, hex]) => hex),
        [...old, ...recent]
          .sort((a, b) => a.startMs - b.startMs)
          .map(s => Buffer.from(s.bytes).toString('hex')),
      );
      const late = (await twoDaysOfTraces()).recent.map(s => ({
        ...s,
        spanId: s.spanId.replace(/^./, 'f'),
      }));
      await store.ingestSpans(late, traceAndCircuit('CIRC-2'), Date.now());
      assert.equal(store.db.prepare('SELECT max(body_segment) FROM span_chunks').pluck().get(), 3);
      // The old trace's segment goes with it; the recent one's stays, and so does the newest.
      const result = store.prune(Date.now() - 7 * DAY);
      assert.equal(result.traces, 1);
      assert.deepEqual(segmentsIn(join(dir, 'spans')), [2, 3]);
      assert.equal((await store.spansOfTraces([recent[0]!.traceId], 100)).spans.length, 4);
      assert.deepEqual(
        (await readdir(dir)).filter(f => f === 'spans'),
        ['spans'],
      );
    });
  });
}
