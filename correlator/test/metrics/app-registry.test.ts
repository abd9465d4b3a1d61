// An app closed lets go of its metrics: prom-client's default GC metric keeps its registry for the
// life of the process, and a registry still holding the app's metrics kept what their collect
// callbacks close over (the store, the MDSO catalogue) for every app a process built and closed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp } from '../api/app-fixture.js';

test('a closed app leaves its metrics registry empty', async t => {
  const app = await buildTestApp(t);
  const registry = app.correlator.metrics.registry;
  assert.match((await app.inject('/metrics')).body, /\nexport_queue_depth 0\n/);
  assert.ok(registry.getMetricsAsArray().some(m => m.name.startsWith('mdso_')), 'MDSO metrics are registered too');
  await app.close();
  assert.deepEqual(registry.getMetricsAsArray(), []);
});
