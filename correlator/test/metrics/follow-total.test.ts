// Counters that follow running totals kept elsewhere (engine evictions, span JSON cache lookups)
// must equal those totals after every scrape, however many scrapes see no change.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { followTotal } from '../../src/metrics/core-metrics.js';

async function valueOf(counter: Counter<'kind'>, kind: string): Promise<number> {
  return (await counter.get()).values.find(v => v.labels.kind === kind)?.value ?? 0;
}

describe('followTotal()', () => {
  it('keeps each labelled counter equal to the last total it was given', async () => {
    const counter = new Counter({
      name: 'followed_total',
      help: 'test',
      labelNames: ['kind'],
      registers: [new Registry()],
    });
    const traces = followTotal(counter, { kind: 'traces' });
    const keys = followTotal(counter, { kind: 'keys' });
    // [traces total, keys total] at successive scrapes
    const scrapes: [number, number][] = [
      [0, 0],
      [3, 0],
      [3, 0],
      [10, 1],
      [10, 1],
      [250, 7],
    ];
    for (const [t, k] of scrapes) {
      traces(t);
      keys(k);
      assert.equal(await valueOf(counter, 'traces'), t);
      assert.equal(await valueOf(counter, 'keys'), k);
    }
  });
});
