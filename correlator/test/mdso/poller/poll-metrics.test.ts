// The intake answers `accepted` with the duplicates among them; the metric splits them, so a poll
// that only re-sends what is stored shows as duplicates, not as new failures on a dashboard.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createPollMetrics } from '../../../src/mdso/status/metrics.js';

async function spanCounts(registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('mdso_spans_ingested_total')!.get();
  return Object.fromEntries(metric.values.map(v => [String(v.labels.outcome), v.value]));
}

describe('mdso_spans_ingested_total', () => {
  const cases: [string, { accepted: number; duplicates: number; rejected: number }[], Record<string, number>][] = [
    ['a first poll of new spans', [{ accepted: 6, duplicates: 0, rejected: 0 }], { accepted: 6 }],
    ['a poll re-sending only stored spans', [{ accepted: 6, duplicates: 6, rejected: 0 }], { duplicate: 6 }],
    ['a mixed poll', [{ accepted: 6, duplicates: 2, rejected: 1 }], { accepted: 4, duplicate: 2, rejected: 1 }],
    [
      'two polls, the second a replay of the first',
      [
        { accepted: 4, duplicates: 0, rejected: 0 },
        { accepted: 4, duplicates: 4, rejected: 0 },
      ],
      { accepted: 4, duplicate: 4 },
    ],
    ['a poll whose spans were all refused', [{ accepted: 0, duplicates: 0, rejected: 3 }], { rejected: 3 }],
  ];
  for (const [what, outcomes, expected] of cases) {
    it(`counts ${what}`, async () => {
      const registry = new Registry();
      const metrics = createPollMetrics(registry, () => null);
      for (const o of outcomes) metrics.spansIngested(o);
      const counts = await spanCounts(registry);
      // An outcome never incremented may be absent or 0 depending on the counter's start.
      const nonZero = Object.fromEntries(Object.entries(counts).filter(([, v]) => v !== 0));
      assert.deepEqual(nonZero, expected, JSON.stringify(counts));
    });
  }
});
