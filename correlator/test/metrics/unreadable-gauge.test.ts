// A gauge whose source cannot be read (the span segments' directory unreadable) must not take every
// metric with it: /metrics is how an operator sees such an outage.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp } from '../api/app-fixture.js';

test('/metrics serves the other metrics, and the failing gauge its last value, logging the failure once', async t => {
  const app = await buildTestApp(t);
  assert.match((await app.inject('/metrics')).body, /^store_span_segments \d+$/m);
  const store = app.correlator.store;
  const failing = t.mock.method(store, 'spanSegmentStats', () => {
    throw Object.assign(new Error("EACCES: permission denied, scandir 'data/spans'"), { code: 'EACCES' });
  });
  const logged = t.mock.method(app.log, 'error');
  for (let scrape = 0; scrape < 2; scrape++) {
    const res = await app.inject('/metrics');
    assert.equal(res.statusCode, 200, res.body);
    assert.match(res.body, /^export_queue_depth 0$/m);
    assert.match(res.body, /^store_span_segments \d+$/m);
  }
  assert.equal(failing.mock.callCount(), 2);
  assert.equal(logged.mock.calls.filter(c => /a \/metrics gauge could not be refreshed/.test(String(c.arguments[1]))).length, 1);
});
