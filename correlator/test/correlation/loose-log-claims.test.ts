// Which logs of no trace a batch claims for which circuits (loose-log-claims.ts, engine.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { circuitClaims, circuitsNamedBy, namesACircuit, spanWithin } from '../../src/correlation/loose-log-claims.js';

const trace = (traceId: string, first?: string, more: string[] = [], firstMs = 0, lastMs = 0) => ({
  traceId,
  keys: first === undefined ? {} : { circuit_id: first },
  moreKeys: more,
  firstMs,
  lastMs,
});
const ALL = { firstMs: -Infinity, lastMs: Infinity };

describe('loose log claims', () => {
  it('takes the circuits a trace names first and further, each once', () => {
    const members = [trace('a', 'C1', ['resource_id', 'R', 'circuit_id', 'C2']), trace('b', 'C2'), trace('c')];
    assert.deepEqual(circuitsNamedBy(members), ['C1', 'C2']);
    assert.deepEqual(members.map(namesACircuit), [true, true, false]);
    assert.equal(namesACircuit(trace('d', undefined, ['circuit_id', 'C3'])), true);
  });

  const claims: [title: string, traces: ReturnType<typeof trace>[], within: { firstMs: number; lastMs: number }, expected: ReturnType<typeof circuitClaims>][] = [
    ['a trace claims the window around it', [trace('a', 'C1', [], 1000, 2000)], ALL, [{ fromMs: 940, toMs: 2060, circuitIds: ['C1'] }]],
    ['cut to the range asked', [trace('a', 'C1', [], 1000, 2000)], { firstMs: 1500, lastMs: 5000 }, [{ fromMs: 1500, toMs: 2060, circuitIds: ['C1'] }]],
    ['nothing outside it', [trace('a', 'C1', [], 1000, 2000)], { firstMs: 3000, lastMs: 5000 }, []],
    ['no circuit, no claim', [trace('a', undefined, ['resource_id', 'R'], 1000, 2000)], ALL, []],
    ['overlapping windows of one circuit are one claim', [trace('b', 'C1', [], 2100, 2200), trace('a', 'C1', [], 1000, 2000)], ALL, [{ fromMs: 940, toMs: 2260, circuitIds: ['C1'] }]],
    // The review's case: a resource polled for 20 minutes, a second circuit activated on it then.
    [
      'two circuits of one episode claim each its own windows, not each other\'s',
      [trace('c2', 'C2', [], 1_200_000, 1_200_400), trace('c1', 'C1', [], 0, 400)],
      ALL,
      [
        { fromMs: -60, toMs: 460, circuitIds: ['C1'] },
        { fromMs: 1_199_940, toMs: 1_200_460, circuitIds: ['C2'] },
      ],
    ],
    [
      'a trace naming two circuits claims its window for both',
      [trace('a', 'C1', ['circuit_id', 'C2'], 1000, 2000)],
      ALL,
      [
        { fromMs: 940, toMs: 2060, circuitIds: ['C1'] },
        { fromMs: 940, toMs: 2060, circuitIds: ['C2'] },
      ],
    ],
  ];
  for (const [title, traces, within, expected] of claims)
    it(`claims: ${title}`, () => assert.deepEqual(circuitClaims(traces, 60, within), expected));

  it("spans only the batch's logs within the episode", () => {
    assert.deepEqual(spanWithin([5, 40, 12, 100], 10, 50), { firstMs: 12, lastMs: 40 });
    assert.equal(spanWithin([5, 100], 10, 50), null);
    assert.equal(spanWithin(undefined, 10, 50), null);
  });
});
