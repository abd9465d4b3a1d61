// Failure and refusal counters have their series from start-up: an alert on increase(x[…]) > 0
// has no earlier sample to compare with for a series born at its first increment, so the first
// outage after a restart went unseen.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp } from '../api/app-fixture.js';

const SERIES_AT_ZERO = [
  'export_failures_total{reason="retryable"}',
  'export_failures_total{reason="permanent"}',
  'export_failures_total{reason="network"}',
  'export_failures_total{reason="store"}',
  'export_dropped_total{reason="queue_full"}',
  'export_dropped_total{reason="refused"}',
  'overload_refusals_total{reason="CORR_ERR_BUSY"}',
  'overload_refusals_total{reason="CORR_ERR_UNAVAILABLE"}',
  'otlp_ingest_items_total{signal="traces",outcome="rejected"}',
  'otlp_ingest_items_total{signal="logs",outcome="rejected"}',
  'otlp_ingest_items_total{signal="api_logs",outcome="rejected"}',
];

test('failure and refusal counters are exposed at 0 before anything happened', async t => {
  const app = await buildTestApp(t);
  const lines = new Set((await app.inject('/metrics')).body.split('\n'));
  for (const series of SERIES_AT_ZERO) assert.ok(lines.has(`${series} 0`), `${series} 0 is exposed`);
});
