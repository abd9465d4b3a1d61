// Hot state read back from the encoded tier must be the state that went in, field for field.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CandidateSpans } from '../../src/correlation/candidate-spans.js';
import { newTraceState } from '../../src/correlation/engine.js';
import { keyGroupCodec, traceStateCodec } from '../../src/correlation/state-codec.js';
import type { BridgePlan, KeyGroup, TraceState } from '../../src/correlation/types.js';

const T = 1_795_309_373_398.125;

const traces: [string, TraceState][] = [
  [
    'a trace as the engine first creates it (infinite times, no entry, nothing else)',
    newTraceState('a'.repeat(32)),
  ],
  [
    'a trace with every field set',
    {
      traceId: 'b'.repeat(32),
      services: ['beorn', 'mdso "bpo"', 'ärda'],
      firstMs: T,
      lastMs: T + 2500.5,
      spanLastMs: T + 2400.25,
      spanCount: 12,
      errorCount: 2,
      errorLogCount: 5,
      logCount: 3,
      entry: { spanId: '00f067aa0ba902b7', service: 'beorn', name: 'POST /activate', startMs: T, endMs: T + 2500.5, hasParent: true },
      candidates: CandidateSpans.of([
        { spanId: '1111111111111111', service: 'beorn', startMs: T + 1, endMs: T + 40.25, kind: 3 },
        { spanId: '2222222222222222', service: 'mdso "bpo"', startMs: T + 2, endMs: Infinity, kind: 4 },
        { spanId: '3333333333333333', service: 'beorn', startMs: T + 3, endMs: T + 4, kind: 2 ** 32 - 1 },
      ]),
      keys: { circuit_id: '80.L1XX.005054..CHTR', resource_id: '7c9e6679-7425-40de-944b-e07fc1f90ae7', request_id: 'r-1' },
      moreKeys: ['circuit_id', '81.L1XX.000002..TWCC', 'resource_id', '550e8400-e29b-41d4-a716-446655440000'],
      linkedTraceIds: ['c'.repeat(32), 'd'.repeat(32)],
    },
  ],
  [
    'a trace with strings of every length class and counts past 32 bits',
    {
      traceId: 'e'.repeat(32),
      services: ['', 'x'.repeat(127), 'y'.repeat(128), 'z'.repeat(20_000), 'clé ✓ 😀 \u2028', 'é'.repeat(100), 'a'.repeat(126) + 'é'],
      firstMs: -0.5,
      lastMs: Number.MAX_VALUE,
      spanLastMs: -Number.MIN_VALUE,
      spanCount: 2 ** 40 + 1,
      errorCount: 0,
      errorLogCount: 2 ** 33 + 7,
      logCount: 2 ** 53 - 1,
      entry: { spanId: '', service: 'é', name: 'n'.repeat(300), startMs: -Infinity, endMs: Infinity, hasParent: false },
      candidates: new CandidateSpans(),
      keys: { product_id: 'p'.repeat(1000), resource_type_id: 'tosca.resourceTypes.ünï' },
      moreKeys: [],
      linkedTraceIds: [],
    },
  ],
];

const plan = (n: number): BridgePlan => ({
  spanId: `${n}`.repeat(16),
  traceId: 'b'.repeat(32),
  parentSpanId: '1111111111111111',
  parentService: 'beorn',
  parentStartMs: T + n,
  childTraceId: `${n}`.repeat(32),
  childSpanId: '4444444444444444',
  childService: 'arda',
  childStartMs: T + 100 * n + 0.5,
  key: 'circuit_id',
  value: '80.L1XX.005054..CHTR',
  method: 'circuit_id_match',
  confidence: 0.9,
  basis: 'call',
});

const groups: [string, KeyGroup][] = [
  [
    'a circuit group with bridges',
    {
      mapKey: 'circuit_id\u000080.L1XX.005054..CHTR',
      id: 'corr-1',
      method: 'circuit_id_match',
      key: 'circuit_id',
      value: '80.L1XX.005054..CHTR',
      confidence: 0.9,
      firstMs: T,
      lastMs: T + 9000,
      traceIds: ['b'.repeat(32), '5'.repeat(32), '6'.repeat(32)],
      traceSet: new Set(['b'.repeat(32), '5'.repeat(32), '6'.repeat(32)]),
      services: ['beorn', 'arda'],
      spanCount: 30,
      logCount: 4,
      looseLogs: 2,
      bridges: new Map([
        ['5'.repeat(32), plan(5)],
        ['6'.repeat(32), plan(6)],
      ]),
      persistedMembers: 3,
      planned: true,
      reachUnmerged: true,
    },
  ],
  [
    'a group that does not bridge, with an empty bridge-less state',
    {
      mapKey: 'resource_id\u0000x',
      id: 'corr-2',
      method: 'resource_id_match',
      key: 'resource_id',
      value: 'x',
      confidence: 0.85,
      firstMs: Infinity,
      lastMs: -Infinity,
      traceIds: [],
      traceSet: new Set(),
      services: [],
      spanCount: 0,
      logCount: 0,
      looseLogs: 0,
      bridges: null,
      persistedMembers: 0,
      planned: false,
      reachUnmerged: false,
    },
  ],
  [
    'a trace-id group with an empty bridge map',
    {
      mapKey: 'trace_id\u0000' + 'b'.repeat(32),
      id: 'corr-3',
      method: 'trace_id',
      key: 'trace_id',
      value: 'b'.repeat(32),
      confidence: 1,
      firstMs: T,
      lastMs: T,
      traceIds: ['b'.repeat(32)],
      traceSet: new Set(['b'.repeat(32)]),
      services: ['beorn'],
      spanCount: 1,
      logCount: 1,
      looseLogs: 1,
      bridges: new Map(),
      persistedMembers: 2,
      planned: false,
      reachUnmerged: false,
    },
  ],
];

describe('traceStateCodec', () => {
  for (const [name, state] of traces) {
    it(`reads back ${name}`, () => {
      // The encoded tier copies the bytes before the next encode, as this copy does.
      const encoded = Buffer.from(traceStateCodec.encode(state));
      assert.deepStrictEqual(traceStateCodec.decode(encoded), state);
    });
  }
  it('gives a decoded candidate list that answers as the original does', () => {
    const original = traces[1]![1].candidates;
    const decoded = traceStateCodec.decode(traceStateCodec.encode(traces[1]![1])).candidates;
    assert.equal(decoded.length, original.length);
    for (let i = 0; i < original.length; i++) assert.deepStrictEqual(decoded.at(i), original.at(i));
    decoded.push('5555555555555555', 'arda', T + 9, T + 10, 3);
    assert.equal(decoded.at(3).service, 'arda');
  });
  it('reads back each of many entries encoded one after another', () => {
    // Entries share the encoder's buffer; each must be whole in its own copy.
    const copies = traces.map(([, state]) => Buffer.from(traceStateCodec.encode(state)));
    copies.forEach((bytes, i) => assert.deepStrictEqual(traceStateCodec.decode(bytes), traces[i]![1]));
  });
});

describe('keyGroupCodec', () => {
  for (const [name, group] of groups) {
    it(`reads back ${name}`, () => {
      assert.deepStrictEqual(keyGroupCodec.decode(Buffer.from(keyGroupCodec.encode(group))), group);
    });
  }
});

describe('traceStateCodec, with calls that say where they went', () => {
  it('reads back each call\'s destination', () => {
    const state: TraceState = {
      ...newTraceState('f'.repeat(32)),
      candidates: CandidateSpans.of([
        { spanId: '1111111111111111', service: 'beorn', startMs: T, endMs: T + 900, kind: 2 },
        { spanId: '2222222222222222', service: 'beorn', startMs: T + 50, endMs: T + 600, kind: 3, destination: { name: 'mdso', isHost: false } },
        { spanId: '3333333333333333', service: 'beorn', startMs: T + 100, endMs: T + 110, kind: 3, destination: { name: 'palantir.example.net', isHost: true } },
      ]),
    };
    const decoded = traceStateCodec.decode(Buffer.from(traceStateCodec.encode(state)));
    assert.deepStrictEqual(decoded, state);
    assert.deepStrictEqual(decoded.candidates.at(2).destination, { name: 'palantir.example.net', isHost: true });
  });
});
