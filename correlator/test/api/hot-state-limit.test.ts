// /metrics shows hot state's effective bound: MAX_TRACKED_TRACES and MAX_TRACKED_KEYS, or less when
// the heap cannot hold them (correlation/hot-state-budget.ts).
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { testCleanup, tempDir } from '../helpers/cleanup.js';

const MiB = 2 ** 20;

async function hotStateLimits(
  t: TestContext,
  heapLimitBytes: number,
): Promise<{ traces: number; keys: number }> {
  const cleanup = testCleanup(t);
  const app = await buildApp({
    config: loadConfig({
      DATA_DIR: await tempDir(cleanup, 'corr-hot-limit-'),
      LOG_LEVEL: 'silent',
    }),
    heapLimitBytes,
  });
  cleanup(() => app.close());
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const value = (kind: string) =>
    Number(new RegExp(`^hot_state_limit\\{kind="${kind}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
  return { traces: value('traces'), keys: value('keys') };
}

test('hot_state_limit is the configured bound on a heap with room for it', async t => {
  assert.deepEqual(await hotStateLimits(t, 4096 * MiB), { traces: 500_000, keys: 500_000 });
});

test('hot_state_limit is lowered on a 128 MiB heap, traces and keys alike', async t => {
  const { traces, keys } = await hotStateLimits(t, 128 * MiB);
  assert.ok(traces > 100 && traces < 250_000, String(traces));
  assert.equal(keys, traces);
});
