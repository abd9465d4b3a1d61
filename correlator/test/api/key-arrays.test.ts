// A bulk activation's span names its circuits in one array attribute. It belonged to the first
// alone: GET /api/circuits/ARRX-2 answered 404 for a circuit the span activated. It now belongs to
// each, as a trace whose spans name one circuit each does, and is stitched to each one's later hops.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CircuitDetail, CircuitListResponse, LogListResponse, StitchedTrace } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import { SpanKind, buildLogs, buildTraces, logsJson, tracesJson } from '../fixtures/otel-sdk.js';
import { buildTestApp } from './app-fixture.js';

const BULK = ['ARRX-1', 'ARRX-2'];

async function post(app: FastifyInstance, url: string, payload: unknown): Promise<{ partialSuccess?: { errorMessage?: string } }> {
  const res = await app.inject({ method: 'POST', url, payload: payload as object });
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
}

async function circuit(app: FastifyInstance, id: string): Promise<CircuitDetail> {
  const res = await app.inject(`/api/circuits/${id}`);
  assert.equal(res.statusCode, 200, `${id}: ${res.body}`);
  return res.json<CircuitDetail>();
}

describe('a span whose circuit_id is an array belongs to every circuit it names', () => {
  it("answers each circuit with the trace, and stitches it to each circuit's later traces", async t => {
    const app = await buildTestApp(t);
    const at = Date.now() - 60_000;
    const [bulk, mdso, arda] = await buildTraces([
      {
        service: 'beorn',
        spans: [
          { name: 'POST /bulk/activate', kind: SpanKind.SERVER, startMs: at, endMs: at + 900, attributes: { circuit_id: BULK } },
          { name: 'POST mdso/resources', kind: SpanKind.CLIENT, startMs: at + 20, endMs: at + 80, parent: 'POST /bulk/activate', attributes: { circuit_id: BULK } },
        ],
      },
      { service: 'mdso', spans: [{ name: 'activate', kind: SpanKind.SERVER, startMs: at + 100, endMs: at + 300, attributes: { 'mdso.circuit_id': 'ARRX-2' } }] },
      { service: 'arda', spans: [{ name: 'topology', kind: SpanKind.SERVER, startMs: at + 120, endMs: at + 200, attributes: { circuit_id: 'ARRX-1' } }] },
    ]);
    const answer = await post(app, '/v1/traces', tracesJson(bulk!.spans));
    assert.equal(answer.partialSuccess, undefined, `nothing to warn of, both values are taken: ${JSON.stringify(answer)}`);
    for (const id of BULK) {
      const detail = await circuit(app, id);
      assert.deepEqual(detail.traces.map(x => x.traceId), [bulk!.traceId], `${id}: the bulk trace`);
      assert.deepEqual([detail.summary.spanCount, detail.summary.keys.circuit_id], [2, id], `${id}: its spans, and its own id`);
    }

    await post(app, '/v1/traces', tracesJson([...mdso!.spans, ...arda!.spans]));
    for (const [id, later, bridge] of [
      ['ARRX-1', arda!, 'beorn_to_arda_bridge'],
      ['ARRX-2', mdso!, 'beorn_to_mdso_bridge'],
    ] as const) {
      const detail = await circuit(app, id);
      assert.deepEqual(new Set(detail.traces.map(x => x.traceId)), new Set([bulk!.traceId, later.traceId]), `${id}: the bulk trace and its own`);
      // Its correlations are those that hold its traces: the other circuit's too, as for a trace whose spans name both.
      assert.deepEqual(
        detail.correlations.map(c => [c.value, new Set(c.traceIds)]).sort(),
        [['ARRX-1', new Set([bulk!.traceId, arda!.traceId])], ['ARRX-2', new Set([bulk!.traceId, mdso!.traceId])]],
        `${id}: each circuit's correlation of the bulk trace and its own`,
      );
      const view = (await app.inject(`/api/circuits/${id}/trace`)).json<StitchedTrace>();
      assert.deepEqual(new Set(view.traceIds), new Set([bulk!.traceId, later.traceId]), `${id}: stitched of both`);
      const bridges = view.spans.filter(s => s.synthetic);
      assert.deepEqual(bridges.map(b => b.name), [bridge], `${id}: one bridge, to its own later hop`);
      assert.equal(bridges[0]!.parentSpanId, bulk!.spanIds['POST mdso/resources'], `${id}: from the bulk trace's client span`);
      assert.equal(bridges[0]!.attributes['circuit_id'], id);
    }
  });

  it('a log record of no trace whose circuit_id is an array counts for each circuit; the sender hears of a member refused', async t => {
    const app = await buildTestApp(t);
    const circuits = ['ARRX-3', 'ARRX-4', 'ARRX-\u0000'];
    const records = await buildLogs('beorn', [{ body: 'bulk activation failed', atMs: Date.now() - 60_000, severityText: 'ERROR', severity: 17, attributes: { circuit_id: circuits } }]);
    const answer = await post(app, '/v1/logs', logsJson(records));
    assert.equal(
      answer.partialSuccess?.errorMessage,
      '1 warning(s): resourceLogs[0].scopeLogs[0].logRecords[0]: attribute "circuit_id" value [2] has control characters: kept, but not taken as the circuit_id',
    );
    for (const id of ['ARRX-3', 'ARRX-4']) {
      const { summary } = await circuit(app, id);
      assert.deepEqual([summary.logCount, summary.errorCount], [1, 1], id);
    }
  });

  // The log row holds one circuit id: the others counted the log but did not list it, and a
  // range holding it alone did not list them.
  it('a log record of no trace whose circuit_id is an array is listed under each circuit, among its logs by time', async t => {
    const app = await buildTestApp(t);
    const at = Date.now() - 60_000;
    const records = await buildLogs('beorn', [
      { body: 'ARRX-4 polled', atMs: at - 2000, attributes: { circuit_id: 'ARRX-4' } },
      { body: 'bulk activation failed', atMs: at, severityText: 'ERROR', severity: 17, attributes: { circuit_id: ['ARRX-3', 'ARRX-4'] } },
      { body: 'ARRX-4 polled again', atMs: at + 2000, attributes: { circuit_id: 'ARRX-4' } },
    ]);
    await post(app, '/v1/logs', logsJson(records));
    const bodies = async (url: string) => {
      const res = await app.inject(url);
      assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
      const { logs, truncated } = res.json<LogListResponse>();
      return [logs.map(l => l.body), truncated];
    };
    const newestFirst = ['ARRX-4 polled again', 'bulk activation failed', 'ARRX-4 polled'];
    assert.deepEqual(await bodies('/api/circuits/ARRX-4/logs'), [newestFirst, false]);
    assert.deepEqual(await bodies('/api/circuits/ARRX-4/logs?limit=2'), [newestFirst.slice(0, 2), true]);
    assert.deepEqual(await bodies('/api/logs?circuit_id=ARRX-4'), [newestFirst, false]);
    assert.deepEqual(await bodies('/api/circuits/ARRX-3/logs'), [['bulk activation failed'], false]);
    assert.deepEqual(await bodies('/api/logs'), [newestFirst, false], 'once in the unfiltered list');
    for (const [id, logs] of [
      ['ARRX-3', 1],
      ['ARRX-4', 3],
    ] as const) {
      const { summary } = await circuit(app, id);
      assert.deepEqual([summary.logCount, summary.errorCount], [logs, 1], id);
    }

    // A range holding that log alone, inside ARRX-4's first..last: ARRX-4 has data there, an error.
    const listed = async (query: string) => {
      const res = await app.inject(`/api/circuits?from=${at - 500}&to=${at + 500}${query}`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json<CircuitListResponse>().circuits.map(c => `${c.circuitId}:${c.status}`).sort();
    };
    assert.deepEqual(await listed(''), ['ARRX-3:error', 'ARRX-4:error']);
    assert.deepEqual(await listed('&status=error'), ['ARRX-3:error', 'ARRX-4:error']);
    assert.deepEqual(await listed('&status=ok'), []);
    assert.deepEqual(await listed('&service=beorn'), ['ARRX-3:error', 'ARRX-4:error']);
  });
});
