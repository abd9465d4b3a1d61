import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CandidateSpans } from '../../src/correlation/candidate-spans.js';
import type { CandidateSpan } from '../../src/correlation/types.js';

const T = 1_795_000_000_123.456;

test('candidate spans come back as they were pushed, whatever the services and kinds', () => {
  const cases: CandidateSpan[][] = [
    [],
    [{ spanId: 'a1a1a1a1a1a1a1a1', service: 'beorn', startMs: T, endMs: T + 40.5, kind: 3 }],
    [
      { spanId: '0000000000000001', service: 'beorn', startMs: T, endMs: T + 1, kind: 2 },
      { spanId: '0000000000000002', service: 'mdso', startMs: T + 2, endMs: T + 3, kind: 1 },
      { spanId: '0000000000000003', service: 'beorn', startMs: T + 4, endMs: T + 5, kind: 5 },
      // A kind no SDK sends still round-trips (the planner treats it as not a call).
      { spanId: '0000000000000004', service: 'arda', startMs: 0, endMs: 0, kind: 4_294_967_295 },
    ],
  ];
  for (const spans of cases) {
    const list = CandidateSpans.of(spans);
    assert.equal(list.length, spans.length);
    assert.deepEqual(
      Array.from({ length: list.length }, (_, i) => list.at(i)),
      spans,
    );
    spans.forEach((s, i) => {
      assert.equal(list.spanId(i), s.spanId);
      assert.equal(list.startMs(i), s.startMs);
      assert.equal(list.endMs(i), s.endMs);
      assert.equal(list.kind(i), s.kind);
    });
  }
});
