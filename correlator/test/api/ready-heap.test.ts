// /ready while the heap is nearly full: every ingest request is refused then (runtime/heap-pressure.ts),
// so readiness says so and a balancer sends ingest elsewhere; queries are still answered.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import type { ReadyResponse } from '@correlation-station/api-schema';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { collectGarbage } from '../../src/runtime/full-collection.js';
import { testCleanup, tempDir } from '../helpers/cleanup.js';

const MiB = 2 ** 20;

async function appWithHeap(t: TestContext, heapLimitBytes: number) {
  const cleanup = testCleanup(t);
  const app = await buildApp({
    config: loadConfig({ DATA_DIR: await tempDir(cleanup, 'corr-ready-heap-'), LOG_LEVEL: 'silent' }),
    heapLimitBytes,
  });
  cleanup(() => app.close());
  return app;
}

test('/ready is 503 and names the heap while a nearly full heap refuses ingest; queries are answered', async t => {
  // The app alone holds far more than 85% of 8 MiB: the first full collection is pressure.
  const app = await appWithHeap(t, 8 * MiB);
  let ready = await app.inject({ method: 'GET', url: '/ready' });
  // V8 reports a full collection to the observer a little after it ran.
  for (let i = 0; i < 50 && ready.statusCode === 200; i++) {
    collectGarbage();
    await sleep(20);
    ready = await app.inject({ method: 'GET', url: '/ready' });
  }
  assert.equal(ready.statusCode, 503, ready.body);
  const body = ready.json<ReadyResponse>();
  assert.equal(body.status, 'not_ready');
  assert.deepEqual(body.checks.store, { ok: true });
  assert.equal(body.checks.heap?.ok, false);
  assert.match(body.checks.heap?.detail ?? '', /heap is nearly full \(\d+ of the 8 MiB .* ingest is taken again below 75%\)$/);

  const ingest = await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/json' }, payload: '{}' });
  assert.equal(ingest.statusCode, 503, 'ingest is refused meanwhile');
  assert.equal((await app.inject({ method: 'GET', url: '/api/circuits' })).statusCode, 200, 'queries are answered');
});

test('/ready is 200 with the heap check passed on a heap with room', async t => {
  const app = await appWithHeap(t, 4096 * MiB);
  collectGarbage();
  await sleep(20);
  const ready = await app.inject({ method: 'GET', url: '/ready' });
  assert.equal(ready.statusCode, 200, ready.body);
  assert.deepEqual(ready.json<ReadyResponse>(), { status: 'ready', checks: { store: { ok: true }, heap: { ok: true } } });
});
