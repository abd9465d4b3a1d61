// Which logs of no trace a batch claims for which circuits (loose-log-claims.ts, engine.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { circuitsNamedBy, namesACircuit, spanWithin, splitCircuits } from '../../src/correlation/loose-log-claims.js';

const trace = (traceId: string, first?: string, more: string[] = []) => ({ traceId, keys: first === undefined ? {} : { circuit_id: first }, moreKeys: more });

describe('loose log claims', () => {
  it('takes the circuits a trace names first and further, each once', () => {
    const members = [trace('a', 'C1', ['resource_id', 'R', 'circuit_id', 'C2']), trace('b', 'C2'), trace('c')];
    assert.deepEqual(circuitsNamedBy(members), ['C1', 'C2']);
    assert.deepEqual(members.map(namesACircuit), [true, true, false]);
    assert.equal(namesACircuit(trace('d', undefined, ['circuit_id', 'C3'])), true);
  });

  it("splits the circuits only the batch's new or re-keyed traces name from those other members named", () => {
    const members = [trace('old', 'C1'), trace('new', 'C1', ['circuit_id', 'C2']), trace('bare')];
    assert.deepEqual(splitCircuits(members, new Set(['new'])), { known: ['C1'], added: ['C2'] });
    assert.deepEqual(splitCircuits(members, undefined), { known: ['C1', 'C2'], added: [] });
    assert.deepEqual(splitCircuits(members, new Set(['old', 'new'])), { known: [], added: ['C1', 'C2'] });
  });

  it("spans only the batch's logs within the episode", () => {
    assert.deepEqual(spanWithin([5, 40, 12, 100], 10, 50), { firstMs: 12, lastMs: 40 });
    assert.equal(spanWithin([5, 100], 10, 50), null);
    assert.equal(spanWithin(undefined, 10, 50), null);
  });
});
