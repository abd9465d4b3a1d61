import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StitchedTrace } from '@correlation-station/api-schema';
import { buildDemoCircuit } from '../../src/demo/demo-circuit.js';
import { buildTestApp } from './app-fixture.js';

describe('demo circuit', () => {
  it('ingests as three disconnected traces that come back stitched, with logs', async t => {
    const app = await buildTestApp(t);
    // Within retention: older data is answered with a warning (time-warnings.test.ts).
    const demo = buildDemoCircuit('80.L1XX.005054..CHTR', Date.now() - 3_600_000, true);
    for (const [url, payload] of [
      ['/v1/traces', demo.traceRequest],
      ['/v1/logs', demo.logRequest],
    ] as const) {
      const res = await app.inject({ method: 'POST', url, payload: payload as object });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), {});
    }
    const view = (await app.inject(`/api/circuits/${encodeURIComponent(demo.circuitId)}/trace`)).json<StitchedTrace>();
    assert.equal(view.traceIds.length, 3);
    assert.deepEqual(view.bridges.map(b => `${b.parentService}->${b.childService}`).sort(), ['beorn->mdso', 'mdso->arda']);
    const logs = (await app.inject(`/api/circuits/${encodeURIComponent(demo.circuitId)}/logs`)).json<{ logs: unknown[] }>().logs;
    assert.equal(logs.length, 4);
  });
});
