import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chunkRecord, chunkSpanIds, encodeSpanChunk, encodeSpanChunks, readSpanChunkMeta, type ChunkSpanInput } from '../../src/store/sqlite/span-chunk.js';

const T = 1_795_000_000_123.456;
const span = (n: number, over: Partial<ChunkSpanInput> = {}): ChunkSpanInput => ({
  spanId: n.toString(16).padStart(16, 'a'),
  parentSpanId: '',
  startMs: T + n,
  endMs: T + n + 0.25,
  kind: 2,
  statusCode: 0,
  resourceId: 7,
  bytes: Buffer.from(`span-${n}-bytes`.repeat(n + 1)),
  ...over,
});

test('a span chunk gives back every span: its fields and its own bytes', () => {
  const cases: ChunkSpanInput[][] = [
    [],
    [span(1)],
    [
      span(1),
      span(2, { parentSpanId: 'ffffffffffffff01', kind: 3, statusCode: 2, resourceId: 4_000_000_000 }),
      span(3, { bytes: new Uint8Array(0), kind: 4_294_967_295 }),
      span(4, { startMs: 0, endMs: -1 }),
    ],
  ];
  for (const spans of cases) {
    const { meta, body } = encodeSpanChunk(spans);
    assert.deepEqual(chunkSpanIds(meta), spans.map(s => s.spanId));
    const read = readSpanChunkMeta(meta);
    assert.deepEqual(
      read.map(m => ({ ...m, bytes: body.subarray(m.offset, m.offset + m.length) })).map(({ offset: _o, length: _l, bytes, ...rest }) => ({ ...rest, bytes: Buffer.from(bytes) })),
      spans.map(s => ({ ...s, bytes: Buffer.from(s.bytes) })),
    );
    // The single-field readers the stitched view uses say the same as the whole records.
    assert.equal(chunkRecord.count(meta), spans.length);
    read.forEach((m, i) => {
      assert.deepEqual(
        [chunkRecord.spanId(meta, i), chunkRecord.startMs(meta, i), chunkRecord.resourceId(meta, i), chunkRecord.offset(meta, i), chunkRecord.length(meta, i)],
        [m.spanId, m.startMs, m.resourceId, m.offset, m.length],
      );
    });
  }
});

test('span ids are stored as Buffer#write(hex) stores them, whatever their case or content', () => {
  const ids = [
    '0123456789abcdef',
    'ABCDEF0123456789',
    'aBcDeF0123456789',
    'ffffffffffffffff',
    // Not hex, or not 16 digits: whatever Buffer#write makes of them (it stops at the first bad pair).
    '0123456789abcdeg',
    'zz23456789abcdef',
    '0123',
    '0123456789abcdef01',
    'é123456789abcdef',
  ];
  for (const id of ids) {
    const { meta } = encodeSpanChunk([span(1, { spanId: id, parentSpanId: id })]);
    const expected = Buffer.alloc(8);
    expected.write(id, 0, 8, 'hex');
    assert.deepEqual(meta.subarray(0, 8), expected, `span id ${id}`);
    assert.deepEqual(meta.subarray(8, 16), expected, `parent span id ${id}`);
  }
});

test("one request's chunks share two buffers; each chunk's ranges are the chunk encoded alone", () => {
  const chunks: ChunkSpanInput[][] = [
    [span(1), span(2, { parentSpanId: 'ffffffffffffff01' })],
    [],
    [span(3, { bytes: new Uint8Array(0) })],
    [span(4), span(5), span(6, { statusCode: 2 })],
  ];
  const { meta, body, bounds } = encodeSpanChunks(chunks);
  assert.equal(bounds.length, chunks.length);
  assert.equal(meta.length, bounds.at(-1)!.metaEnd);
  assert.equal(body.length, bounds.at(-1)!.bodyEnd);
  chunks.forEach((spans, i) => {
    const alone = encodeSpanChunk(spans);
    const b = bounds[i]!;
    assert.deepEqual(meta.subarray(b.metaStart, b.metaEnd), alone.meta, `meta of chunk ${i}`);
    assert.deepEqual(body.subarray(b.bodyStart, b.bodyEnd), alone.body, `body of chunk ${i}`);
  });
});
