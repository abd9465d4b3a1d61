// An ingest batch is planned on the main thread and committed later by the writer thread. One
// planned before a retention slice, from hot state that still held a trace the slice deletes, wrote
// that trace back into its correlation after the slice had recounted it: the correlation then named
// a trace that is gone, and no later slice would mend it (the trace's rows, which lead a slice to its
// correlations, were gone). A slice waits for the batches in flight first.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CircuitDetail, CorrelationListResponse } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import type { RowSink } from '../../src/store/sqlite/writer-thread.js';
import { buildTraces, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { buildTestApp, postAccepted } from '../api/app-fixture.js';

/**
 * The store's batches are held before the writer gets them, as a busy writer thread holds them,
 * until something drains the sink (as a read that must see them does) or the test lets them go.
 */
function holdWrites(app: FastifyInstance): { release: () => void } {
  const store = app.correlator.store as unknown as { sink: RowSink };
  const real = store.sink;
  const held: (() => void)[] = [];
  const let_go = () => {
    for (const write of held.splice(0)) write();
  };
  store.sink = {
    write: (seq, batch) => new Promise((resolve, reject) => held.push(() => void real.write(seq, batch).then(resolve, reject))),
    settled: () => real.settled(),
    commits: () => real.commits(),
    drain: () => {
      let_go();
      real.drain();
    },
    close: async () => {
      let_go();
      await real.close();
    },
  };
  return {
    release: () => {
      let_go();
      store.sink = real;
    },
  };
}

describe('retention and ingest in flight', () => {
  it('deletes a trace that a batch planned before the slice writes into a correlation, from that correlation too', async t => {
    const app = await buildTestApp(t);
    const at = Date.now() - 3_600_000;
    // One episode of circuit RACE: the first trace, and a second 30 s later in another service.
    const [first, second] = await buildTraces(
      [
        { service: 'beorn', spans: [{ name: 'x', startMs: at, endMs: at + 5, attributes: { circuit_id: 'RACE' } }] },
        { service: 'arda', spans: [{ name: 'y', startMs: at + 30_000, endMs: at + 30_005, attributes: { circuit_id: 'RACE' } }] },
      ],
      13,
    );
    await postAccepted(app, '/v1/traces', tracesProtobuf(first!.spans));

    // The second trace's batch is planned (its correlation lists both traces) and waits for the writer.
    const held = holdWrites(app);
    const posted = app.inject({
      method: 'POST',
      url: '/v1/traces',
      headers: { 'content-type': 'application/x-protobuf' },
      payload: tracesProtobuf(second!.spans),
    });
    for (let i = 0; app.correlator.store.writeStats().inFlight === 0; i++) {
      assert.ok(i < 1000, 'the batch was never planned');
      await new Promise(resolve => setImmediate(resolve));
    }
    // A sweep whose cutoff falls between the two: the first trace goes.
    const steps = app.correlator.store.pruneStepwise(at + 10);
    for (let step = steps.next(); !step.done; step = steps.next()) app.correlator.engine.forget(step.value);
    held.release();
    assert.equal((await posted).statusCode, 200);

    const correlations = (await app.inject('/api/correlations?limit=100')).json<CorrelationListResponse>().correlations;
    for (const c of correlations) assert.ok(!c.traceIds.includes(first!.traceId), `${c.id} lists ${c.traceIds.join(', ')}: the first trace is gone`);
    const d = (await app.inject('/api/circuits/RACE')).json<CircuitDetail>();
    assert.deepEqual([d.summary.traceCount, d.traces.map(x => x.traceId)], [1, [second!.traceId]]);
  });
});
