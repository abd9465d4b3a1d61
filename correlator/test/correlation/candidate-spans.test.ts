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

test('a call keeps where it went, a service name or a host, with any kind and service', () => {
  const spans: CandidateSpan[] = [
    { spanId: '0000000000000001', service: 'beorn', startMs: T, endMs: T + 1, kind: 2 },
    { spanId: '0000000000000002', service: 'beorn', startMs: T + 1, endMs: T + 9, kind: 3, destination: { name: 'mdso', isHost: false } },
    { spanId: '0000000000000003', service: 'beorn', startMs: T + 2, endMs: T + 3, kind: 4, destination: { name: 'mdso', isHost: true } },
    // A destination that is also a service of the trace shares its name.
    { spanId: '0000000000000004', service: 'palantir', startMs: T + 3, endMs: T + 4, kind: 3, destination: { name: 'beorn', isHost: false } },
    // The widest packing: the greatest kind, a host.
    { spanId: '0000000000000005', service: 'arda', startMs: T + 4, endMs: T + 5, kind: 4_294_967_295, destination: { name: 'arda.example.net', isHost: true } },
  ];
  const list = CandidateSpans.of(spans);
  assert.deepEqual(Array.from({ length: list.length }, (_, i) => list.at(i)), spans);
  assert.deepEqual(
    spans.map((_, i) => [list.destinationName(i), list.destinationIsHost(i)]),
    [['', false], ['mdso', false], ['mdso', true], ['beorn', false], ['arda.example.net', true]],
  );
  assert.deepEqual(list.parts()[2], ['beorn', 'mdso', 'palantir', 'arda', 'arda.example.net']);
});

test('replacing candidates again and again keeps every one right, and drops names no longer used', () => {
  // Each replacement brings a new service and destination: far more names than the packing has room for.
  const model: CandidateSpan[] = Array.from({ length: 128 }, (_, i) => ({
    spanId: i.toString(16).padStart(16, '0'),
    service: `s${i % 7}`,
    startMs: T + i,
    endMs: T + i + 1,
    kind: i % 6,
    ...(i % 3 === 0 ? { destination: { name: `d${i % 5}`, isHost: i % 2 === 0 } } : {}),
  }));
  const list = CandidateSpans.of(model);
  for (let n = 0; n < 5000; n++) {
    const i = (n * 37) % model.length;
    const s: CandidateSpan = {
      spanId: (1000 + n).toString(16).padStart(16, '0'),
      service: `service-${n}`,
      startMs: T - n,
      endMs: T - n + 2,
      kind: n % 2 === 0 ? 3 : 2 ** 32 - 1,
      ...(n % 4 !== 3 ? { destination: { name: `host-${n}.example.net`, isHost: n % 4 === 1 } } : {}),
    };
    model[i] = s;
    list.replace(i, s.spanId, s.service, s.startMs, s.endMs, s.kind, s.destination ?? null);
  }
  assert.deepEqual(Array.from({ length: list.length }, (_, i) => list.at(i)), model);
  assert.ok(list.parts()[2].length < 1023, `${list.parts()[2].length} names kept`);
});
