// A trace's summary says how many log records carry its trace id, and how many of them are errors:
// its errorCount can be its error logs' (when none of its spans failed), and a trace known only from
// a log has no spans to show why it failed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CircuitDetail, TraceDetail } from '@correlation-station/api-schema';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { SpanKind, buildLogs, buildTraces, logsProtobuf, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { buildTestApp } from './app-fixture.js';

const NOW = Date.now();
const CID = 'TRACE-LOGS-1';

describe('log counts of a trace', () => {
  it('are in the trace detail and in the circuit detail, for a trace with spans and one known only from a log', async t => {
    const app = await buildTestApp(t);
    const [traced] = await buildTraces([{ service: 'arda', spans: [{ name: 'get_topology', kind: SpanKind.SERVER, startMs: NOW - 5000, endMs: NOW - 4900, attributes: { circuit_id: CID } }] }], 7);
    const post = async (url: string, payload: Buffer) =>
      assert.equal((await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-protobuf' }, payload })).statusCode, 200);
    await post('/v1/traces', tracesProtobuf(traced!.spans));
    const logOnly = 'ab'.repeat(16);
    await post(
      '/v1/logs',
      logsProtobuf(
        await buildLogs('arda', [
          { body: 'looking up topology', atMs: NOW - 4990, traceId: traced!.traceId },
          { body: 'no topology', atMs: NOW - 4950, traceId: traced!.traceId, severity: SeverityNumber.ERROR, severityText: 'ERROR' },
          { body: 'bpocore gave up', atMs: NOW - 4000, traceId: logOnly, severity: SeverityNumber.ERROR, severityText: 'ERROR', attributes: { circuit_id: CID } },
        ]),
      ),
    );
    const summary = async (traceId: string) => {
      const res = await app.inject(`/api/traces/${traceId}`);
      assert.equal(res.statusCode, 200, res.body);
      const s = res.json<TraceDetail>().summary;
      return [s.spanCount, s.errorCount, s.logCount, s.errorLogCount];
    };
    assert.deepEqual(await summary(traced!.traceId), [1, 1, 2, 1]);
    assert.deepEqual(await summary(logOnly), [0, 1, 1, 1]);
    const traces = (await app.inject(`/api/circuits/${CID}`)).json<CircuitDetail>().traces;
    assert.deepEqual(
      traces.map(s => [s.traceId, s.logCount, s.errorLogCount]).sort(),
      [
        [traced!.traceId, 2, 1],
        [logOnly, 1, 1],
      ].sort(),
    );
  });
});
