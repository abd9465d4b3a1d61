// A circuit lists the first 64 services of its data, as a trace and a correlation do. Where
// service.name carries a pod or instance id, a circuit's data names thousands: its summary listed
// them all (54 KB for one circuit in /api/circuits), and each datum was checked against the list.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CircuitDetail, CircuitListResponse } from '@correlation-station/api-schema';
import { buildTraces, tracesProtobuf, type TraceSpec } from '../fixtures/otel-sdk.js';
import { buildTestApp, postAccepted } from './app-fixture.js';

const CID = 'CAP.L1XX.000100..CHTR';

/** One single-span trace per service, `at` + i ms, each naming the circuit. */
function perService(names: string[], at: number): TraceSpec[] {
  return names.map((service, i) => ({ service, spans: [{ name: 'op', startMs: at + i, endMs: at + i + 1, attributes: { circuit_id: CID } }] }));
}

const names = (from: number, n: number) => Array.from({ length: n }, (_, i) => `svc-${String(from + i).padStart(3, '0')}`);

test('a circuit lists the first 64 services seen, in one request and across requests', async t => {
  const app = await buildTestApp(t);
  const at = Date.now() - 60_000;
  // 50 services, then 50 more in a second request: the first 64 are the first request's 50 and 14 of the second's.
  await postAccepted(app, '/v1/traces', tracesProtobuf((await buildTraces(perService(names(0, 50), at), 1)).flatMap(x => x.spans)));
  await postAccepted(app, '/v1/traces', tracesProtobuf((await buildTraces(perService(names(50, 50), at + 100), 2)).flatMap(x => x.spans)));
  const detail = (await app.inject(`/api/circuits/${CID}`)).json<CircuitDetail>();
  assert.equal(detail.summary.traceCount, 100, 'every trace is counted');
  assert.deepEqual(detail.summary.services, names(0, 64));
  const list = (await app.inject('/api/circuits')).json<CircuitListResponse>();
  assert.deepEqual(list.circuits.find(c => c.circuitId === CID)?.services, names(0, 64));
});

test('one request of 100 services lists the first 64 of them', async t => {
  const app = await buildTestApp(t);
  await postAccepted(app, '/v1/traces', tracesProtobuf((await buildTraces(perService(names(0, 100), Date.now() - 60_000), 3)).flatMap(x => x.spans)));
  assert.deepEqual((await app.inject(`/api/circuits/${CID}`)).json<CircuitDetail>().summary.services, names(0, 64));
});
