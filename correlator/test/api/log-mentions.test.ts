// A line written inside one circuit's request that names another circuit in prose ("port shared
// with 80.L1XX...", a mention pattern's match): it is its trace's line, no key of its own, and
// does not make its trace a member of that circuit (no bridge, no claimed lines, no errors there).
// A `circuit_id=X` the line writes is a field of it, and keys its trace, as an attribute does.
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

describe('circuits a log line names in its text', () => {
  it("keeps it its trace's line alone, and leaves the other circuit its own traces and bridges", async t => {
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
    assert.deepEqual(await logBodies(app, Q), [], 'not a line of the circuit it mentions');
    const found = (await app.inject(`/api/logs?search=${encodeURIComponent(Q)}`)).json<{ logs: { body: string }[] }>().logs;
    assert.deepEqual(found.map(l => l.body).sort(), [line.body, batchLine].sort(), 'found by its text');
  });

  const written: [title: string, body: (cid: string) => string | Record<string, string>][] = [
    ['a circuit_id=X it writes', cid => `activating circuit circuit_id=${cid}`],
    ['a JSON line', cid => `{"event": "activating", "circuit_id": "${cid}"}`],
    ['a structured body', cid => ({ event: 'activating', circuit_id: cid })],
  ];
  for (const [title, body] of written) {
    it(`joins its trace to the circuit by ${title}, when its spans carry no key (GET /api/test?circuit_id=)`, async t => {
      const app = await buildTestApp(t);
      const cid = '80.L1XX.644444..CHTR';
      const [probe] = await buildTraces([{ service: 'palantir', spans: [{ name: 'GET /api/test', kind: SpanKind.SERVER, startMs: NOW - 20_000, endMs: NOW - 19_900, attributes: { 'url.query': `circuit_id=${cid}` } }] }], 8);
      await post(app, '/v1/traces', tracesProtobuf(probe!.spans));
      await post(app, '/v1/logs', logsProtobuf(await buildLogs('palantir', [{ body: body(cid), atMs: NOW - 19_950, traceId: probe!.traceId, spanId: probe!.spanIds['GET /api/test'] }])));
      assert.deepEqual((await detail(app, cid)).traceIds, [probe!.traceId]);
    });
  }

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

  it('lists a line of no trace naming two circuits under both; a traced one under neither, its trace joining neither', async t => {
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
    for (const cid of [Q, R]) assert.deepEqual(await logBodies(app, cid), [untraced], cid);
    for (const cid of [Q, R]) assert.deepEqual((await detail(app, cid)).traceIds, [], `${cid} has no trace`);
  });
});
