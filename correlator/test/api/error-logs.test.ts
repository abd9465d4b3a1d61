// An error log of no trace is an error of its circuit, as an error span is: a circuit known only
// from the logs of the scripts that report MDSO failures was listed as ok, and left out of
// status=error. A trace's ERROR line is its error span's, not a second error.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeverityNumber } from '@opentelemetry/api-logs';
import type { CircuitDetail, CircuitListResponse } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import { buildLogs, buildTraces, logsProtobuf, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { buildTestApp, postAccepted } from './app-fixture.js';

const T0 = Date.UTC(2026, 11, 6, 11, 0, 0);

async function circuit(app: FastifyInstance, id: string): Promise<CircuitDetail['summary']> {
  const res = await app.inject(`/api/circuits/${id}`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json<CircuitDetail>().summary;
}

async function errorCircuits(app: FastifyInstance): Promise<string[]> {
  return (await app.inject('/api/circuits?status=error')).json<CircuitListResponse>().circuits.map(c => c.circuitId).sort();
}

describe('error logs', () => {
  it('a circuit known only from the JSON batch counts its ERROR, FATAL and critical lines as errors', async t => {
    const app = await buildTestApp(t);
    const line = (i: number, severity: string) => ({ timestamp: new Date(T0 + i).toISOString(), severity, message: `line ${i}`, circuit_id: 'CKT-L1' });
    await postAccepted(app, '/api/logs', {
      resource: { service: 'error-report' },
      records: [line(0, 'ERROR'), line(1, 'FATAL'), line(2, 'critical'), line(3, 'INFO'), line(4, 'warn')],
    });
    await postAccepted(app, '/api/logs', { resource: { service: 'error-report' }, records: [{ ...line(5, 'INFO'), circuit_id: 'CKT-L2' }] });
    const c = await circuit(app, 'CKT-L1');
    assert.deepEqual([c.status, c.errorCount, c.logCount], ['error', 3, 5]);
    assert.deepEqual(await errorCircuits(app), ['CKT-L1']);
  });

  it('an OTLP log of no trace with the severity text ERROR alone is an error of the circuit it names', async t => {
    const app = await buildTestApp(t);
    // The SDK's number is left unspecified and the text given alone, as a collector's filelog
    // pipeline sends a parsed level.
    const records = await buildLogs('error-report', [
      { body: 'plan failed', atMs: T0, attributes: { circuit_id: 'CKT-O1' }, severity: SeverityNumber.UNSPECIFIED, severityText: 'ERROR' },
      { body: 'plan retried', atMs: T0 + 1, attributes: { circuit_id: 'CKT-O2' }, severity: SeverityNumber.UNSPECIFIED, severityText: 'INFO' },
    ]);
    await postAccepted(app, '/v1/logs', logsProtobuf(records));
    const c = await circuit(app, 'CKT-O1');
    assert.deepEqual([c.status, c.errorCount, c.logCount], ['error', 1, 1]);
    assert.deepEqual(await errorCircuits(app), ['CKT-O1']);
  });

  it("a trace's ERROR line is not counted beside its error span: one failure is one error, whichever came first", async t => {
    for (const order of ['spans first', 'log first'] as const) {
      const app = await buildTestApp(t);
      const [built] = await buildTraces([
        { service: 'mdso', spans: [{ name: 'activate', startMs: T0, endMs: T0 + 100, error: true, attributes: { circuit_id: 'CKT-T1' } }] },
      ]);
      const span = built!.spans[0]!.spanContext();
      const payload = logsProtobuf(
        await buildLogs('mdso', [
          { body: 'NSO timeout while activating', atMs: T0 + 50, traceId: span.traceId, spanId: span.spanId, severity: SeverityNumber.ERROR, severityText: 'ERROR' },
        ]),
      );
      const sends = [() => postAccepted(app, '/v1/traces', tracesProtobuf(built!.spans)), () => postAccepted(app, '/v1/logs', payload)];
      if (order === 'log first') sends.reverse();
      for (const send of sends) await send();
      const c = await circuit(app, 'CKT-T1');
      assert.deepEqual([c.status, c.errorCount, c.logCount, c.spanCount], ['error', 1, 1, 1], order);
      const detail = (await app.inject(`/api/traces/${span.traceId}`)).json<{ summary: { errorCount: number } }>();
      assert.equal(detail.summary.errorCount, 1, `${order}: the trace's count`);
    }
  });

  it("retention's recount keeps the error lines of no trace", async t => {
    const app = await buildTestApp(t);
    const [old] = await buildTraces([
      { service: 'beorn', spans: [{ name: 'activate', startMs: T0 - 3_600_000, endMs: T0 - 3_599_000, attributes: { circuit_id: 'CKT-R1' } }] },
    ]);
    await postAccepted(app, '/v1/traces', tracesProtobuf(old!.spans));
    await postAccepted(app, '/api/logs', {
      resource: { service: 'error-report' },
      records: [{ timestamp: new Date(T0).toISOString(), severity: 'ERROR', message: 'plan failed', circuit_id: 'CKT-R1' }],
    });
    const steps = app.correlator.store.pruneStepwise(T0 - 60_000);
    let step = steps.next();
    while (!step.done) step = steps.next();
    assert.equal(step.value.traces, 1, 'the old trace is deleted');
    const c = await circuit(app, 'CKT-R1');
    assert.deepEqual([c.status, c.errorCount, c.traceCount, c.logCount], ['error', 1, 0, 1]);
  });
});
