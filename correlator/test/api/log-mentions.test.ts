// A line written inside one circuit's request that names another circuit, or another circuit's
// resource, in its text: it is listed under what it names, but it does not make its trace a member
// of that circuit (no bridge, no claimed lines, no errors there). Its fields still key its trace.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CircuitDetail } from '@correlation-station/api-schema';
import { SeverityNumber } from '@opentelemetry/api-logs';
import type { FastifyInstance } from 'fastify';
import { SpanKind, buildLogs, buildTraces, logsProtobuf, tracesProtobuf, type BuiltTrace, type LogSpec } from '../fixtures/otel-sdk.js';
import { buildTestApp } from './app-fixture.js';

const NOW = Date.now();
const P = '80.L1XX.611111..CHTR';
const Q = '80.L1XX.622222..CHTR';
const RESOURCE_Q = 'bbbb2222-0000-4000-8000-000000000001';

async function post(app: FastifyInstance, url: string, payload: Buffer): Promise<void> {
  const res = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-protobuf' }, payload });
  assert.equal(res.statusCode, 200, res.body);
}

/** beorn → MDSO → arda of one circuit, without trace context, from `at`. */
async function circuit(app: FastifyInstance, cid: string, at: number, seed: number, resourceId?: string): Promise<BuiltTrace[]> {
  const traces = await buildTraces(
    [
      {
        service: 'beorn',
        spans: [
          { name: 'create', kind: SpanKind.SERVER, startMs: at, endMs: at + 900, attributes: { circuit_id: cid } },
          { name: 'POST mdso', kind: SpanKind.CLIENT, startMs: at + 50, endMs: at + 600, parent: 'create', attributes: { 'peer.service': 'mdso' } },
        ],
      },
      {
        service: 'mdso',
        spans: [
          { name: 'plan', kind: SpanKind.SERVER, startMs: at + 120, endMs: at + 620, attributes: { 'mdso.circuit_id': cid, ...(resourceId ? { 'mdso.resource_id': resourceId } : {}) } },
          { name: 'GET arda', kind: SpanKind.CLIENT, startMs: at + 220, endMs: at + 420, parent: 'plan', attributes: { 'server.address': 'arda' } },
        ],
      },
      { service: 'arda', spans: [{ name: 'get_topology', kind: SpanKind.SERVER, startMs: at + 250, endMs: at + 350, attributes: { circuit_id: cid } }] },
    ],
    seed,
  );
  for (const t of traces) await post(app, '/v1/traces', tracesProtobuf(t.spans));
  return traces;
}

async function detail(app: FastifyInstance, cid: string) {
  const d = (await app.inject(`/api/circuits/${encodeURIComponent(cid)}`)).json<CircuitDetail>();
  return {
    traceIds: d.traces.map(t => t.traceId).sort(),
    bridges: d.bridges.map(b => `${b.traceId}>${b.childTraceId}`).sort(),
    status: d.summary.status,
    errorCount: d.summary.errorCount,
  };
}

async function logBodies(app: FastifyInstance, cid: string): Promise<string[]> {
  const res = await app.inject(`/api/circuits/${encodeURIComponent(cid)}/logs`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json<{ logs: { body: string }[] }>().logs.map(l => l.body).sort();
}

describe('a traced line that names another circuit in its text', () => {
  it('lists the line under both, and leaves the other circuit its own traces and bridges', async t => {
    const app = await buildTestApp(t);
    const p = await circuit(app, P, NOW - 60_000, 1);
    await circuit(app, Q, NOW - 50_000, 2);
    const [pBefore, qBefore] = [await detail(app, P), await detail(app, Q)];
    assert.equal(qBefore.bridges.length, 2);
    const arda = p[2]!;
    const line: LogSpec = { body: `port shared with ${Q}, skipping reservation`, atMs: NOW - 59_700, severity: SeverityNumber.WARN, severityText: 'WARN', traceId: arda.traceId, spanId: arda.spanIds.get_topology };
    await post(app, '/v1/logs', logsProtobuf(await buildLogs('arda', [line])));
    // The same through the batch API, as SENSE's scripts send it.
    const batchLine = `reservation of ${Q} port checked`;
    const res = await app.inject({
      method: 'POST',
      url: '/api/logs',
      payload: { resource: { service: 'arda' }, records: [{ timestamp: new Date(NOW - 59_650).toISOString(), message: batchLine, trace_id: arda.traceId }] },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(await detail(app, Q), qBefore, "Q's traces and bridges");
    assert.deepEqual(await detail(app, P), pBefore, "P's traces and bridges");
    assert.deepEqual(await logBodies(app, P), [line.body, batchLine].sort());
    assert.deepEqual(await logBodies(app, Q), [line.body, batchLine].sort(), 'listed under the circuit it names');
  });

  it("does not claim the other circuit's untraced failure, nor take its error", async t => {
    const app = await buildTestApp(t);
    const p = await circuit(app, P, NOW - 60_000, 3);
    await circuit(app, Q, NOW - 50_000, 4, RESOURCE_Q);
    const failure = `PeServiceProvisioner failed resource_id=${RESOURCE_Q}`;
    await post(app, '/v1/logs', logsProtobuf(await buildLogs('scriptplan', [{ body: failure, atMs: NOW - 49_800, severity: SeverityNumber.ERROR, severityText: 'ERROR' }])));
    const pBefore = await detail(app, P);
    assert.equal(pBefore.status, 'ok');
    const arda = p[2]!;
    const mention = `neighbour port on resource_id=${RESOURCE_Q} checked`;
    await post(app, '/v1/logs', logsProtobuf(await buildLogs('arda', [{ body: mention, atMs: NOW - 59_700, traceId: arda.traceId, spanId: arda.spanIds.get_topology }])));
    assert.deepEqual(await detail(app, P), pBefore, 'P keeps its traces, bridges and status');
    assert.deepEqual(await logBodies(app, P), [mention]);
    assert.ok((await logBodies(app, Q)).includes(failure), "Q keeps its own failure line");
  });

  it('still keys its trace by a field of the line, and by text in a line of no trace', async t => {
    const app = await buildTestApp(t);
    const [only] = await buildTraces([{ service: 'scriptplan', spans: [{ name: 'run', startMs: NOW - 30_000, endMs: NOW - 29_000 }] }], 5);
    await post(app, '/v1/traces', tracesProtobuf(only!.spans));
    await post(
      app,
      '/v1/logs',
      logsProtobuf(
        await buildLogs('scriptplan', [
          { body: 'run started', atMs: NOW - 29_900, traceId: only!.traceId, attributes: { circuit_id: P } },
          { body: `run failed circuit_id=${Q}`, atMs: NOW - 29_800, severity: SeverityNumber.ERROR, severityText: 'ERROR' },
        ]),
      ),
    );
    assert.deepEqual((await detail(app, P)).traceIds, [only!.traceId]);
    assert.deepEqual(await logBodies(app, Q), [`run failed circuit_id=${Q}`]);
  });

  it('lists a line naming two circuits under both; traced, it joins its trace to neither', async t => {
    const app = await buildTestApp(t);
    const p = await circuit(app, P, NOW - 60_000, 6);
    const R = '80.L1XX.633333..CHTR';
    const arda = p[2]!;
    const untraced = `ring ${Q} and ${R} degraded`;
    const traced = `cross-connect ${Q} to ${R} checked`;
    await post(
      app,
      '/v1/logs',
      logsProtobuf(
        await buildLogs('arda', [
          { body: untraced, atMs: NOW - 59_800, severity: SeverityNumber.WARN, severityText: 'WARN' },
          { body: traced, atMs: NOW - 59_700, traceId: arda.traceId, spanId: arda.spanIds.get_topology },
        ]),
      ),
    );
    for (const cid of [Q, R]) assert.deepEqual(await logBodies(app, cid), [traced, untraced].sort(), cid);
    for (const cid of [Q, R]) assert.deepEqual((await detail(app, cid)).traceIds, [], `${cid} has no trace`);
  });
});
