// The span JSON cache and the heap: held to an eighth of it, and let go when a nearly full heap
// asks for room. At its 64 MiB default on a 64 MiB heap it filled the heap after a flood, and a
// client reading its traces back waited through ~1,600 full collections (a review).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { buildApp, type AppOptions } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { collectGarbage } from '../../src/runtime/full-collection.js';
import { testCleanup, tempDir } from '../helpers/cleanup.js';
import { serviceTelemetry } from '../helpers/sdk-bodies.js';

const MiB = 2 ** 20;

async function appWith(t: TestContext, env: Record<string, string>, opts: Omit<AppOptions, 'config'>) {
  const cleanup = testCleanup(t);
  const app = await buildApp({
    config: loadConfig({ DATA_DIR: await tempDir(cleanup, 'corr-json-cache-heap-'), LOG_LEVEL: 'silent', ...env }),
    ...opts,
  });
  cleanup(() => app.close());
  const gauge = async (name: string) => {
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
  };
  return { app, gauge };
}

for (const [heapMiB, env, expectedMiB] of [
  [64, {}, 8],
  [4096, {}, 64],
  [4096, { SPAN_JSON_CACHE_BYTES: String(16 * MiB) }, 16],
  [64, { SPAN_JSON_CACHE_BYTES: '0' }, 0],
] as const) {
  test(`span_json_cache_limit_bytes on a ${heapMiB} MiB heap with ${JSON.stringify(env)} is ${expectedMiB} MiB`, async t => {
    const { gauge } = await appWith(t, env, { heapLimitBytes: heapMiB * MiB });
    assert.equal(await gauge('span_json_cache_limit_bytes'), expectedMiB * MiB);
  });
}

test('a nearly full heap lets the span JSON cache go', async t => {
  let usedBytes = 8 * MiB;
  const { app, gauge } = await appWith(t, {}, { heapLimitBytes: 64 * MiB, heapUsedBytes: () => usedBytes });
  const sent = await serviceTelemetry('arda', Date.now() - 20_000, [
    { name: 'GET /topology', startMs: 0, endMs: 9, kind: SpanKind.SERVER, attributes: { circuit_id: 'CACHE-1' } },
    { name: 'SELECT', startMs: 1, endMs: 5, kind: SpanKind.CLIENT, parent: 0 },
  ]);
  const posted = await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: Buffer.from(sent.traces.protobuf) });
  assert.equal(posted.statusCode, 200, posted.body);
  const viewed = await app.inject({ method: 'GET', url: '/api/circuits/CACHE-1/trace' });
  assert.equal(viewed.statusCode, 200, viewed.body);
  assert.equal(await gauge('span_json_cache_entries'), 2, 'the view held its spans');

  usedBytes = 60 * MiB;
  // V8 reports a full collection to the observer a little after it ran.
  for (let i = 0; i < 50 && (await app.inject({ method: 'GET', url: '/ready' })).statusCode === 200; i++) {
    collectGarbage();
    await sleep(20);
  }
  assert.equal((await app.inject({ method: 'GET', url: '/ready' })).statusCode, 503, 'the heap is under pressure');
  assert.equal(await gauge('span_json_cache_entries'), 0);
  assert.equal(await gauge('span_json_cache_bytes'), 0);
  const again = await app.inject({ method: 'GET', url: '/api/circuits/CACHE-1/trace' });
  assert.equal(again.body, viewed.body, 'the view is rendered again from the store, the same');
});
