// A review (RV9) ran the demo twice, 10 s apart: the second activation's beorn trace hung from
// arda's database call of the first, a bridged arda → beorn edge that never happened. Each
// activation keeps its own bridges; the repeat hangs from nothing of the run before it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CircuitDetail, ServiceGraph } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import { buildTraces, SpanKind, tracesProtobuf, type BuiltTrace, type TraceSpec } from '../fixtures/otel-sdk.js';
import { buildTestApp, postAccepted } from './app-fixture.js';

const CIRCUIT = '81.L1XX.000731..TWCC';
const T0 = Date.now() - 5 * 60_000;

/**
 * One activation at `at`, as the SENSE apps' SDKs send it: beorn calls MDSO by URL, MDSO's plan
 * script calls arda by URL, and arda queries its database (a client span naming no service).
 */
function activation(at: number): TraceSpec[] {
  const keyed = { circuit_id: CIRCUIT };
  return [
    {
      service: 'beorn',
      spans: [
        { name: 'POST /beorn/api/v1/service/create', kind: SpanKind.SERVER, startMs: at, endMs: at + 1800, attributes: keyed },
        {
          name: 'POST',
          kind: SpanKind.CLIENT,
          startMs: at + 40,
          endMs: at + 160,
          parent: 'POST /beorn/api/v1/service/create',
          attributes: { 'http.request.method': 'POST', 'url.full': 'https://mdso.example.net/bpocore/market/api/v1/resources' },
        },
      ],
    },
    {
      service: 'mdso',
      spans: [
        { name: 'mdso.product.CircuitDetailsCollector', kind: SpanKind.SERVER, startMs: at + 220, endMs: at + 1500, attributes: keyed },
        {
          name: 'GET',
          kind: SpanKind.CLIENT,
          startMs: at + 300,
          endMs: at + 900,
          parent: 'mdso.product.CircuitDetailsCollector',
          attributes: { 'http.request.method': 'GET', 'url.full': 'http://arda:5003/arda/v1/topology' },
        },
      ],
    },
    {
      service: 'arda',
      spans: [
        { name: 'get_topology', kind: SpanKind.SERVER, startMs: at + 340, endMs: at + 860, attributes: keyed },
        { name: 'SELECT granite.topology', kind: SpanKind.CLIENT, startMs: at + 400, endMs: at + 700, parent: 'get_topology' },
      ],
    },
  ];
}

const ingest = (app: FastifyInstance, traces: BuiltTrace[]) => postAccepted(app, '/v1/traces', tracesProtobuf(traces.flatMap(t => t.spans)));

describe('a repeat activation within the window (RV9)', () => {
  for (const together of [false, true])
    it(`keeps each run's beorn → mdso → arda and hangs the repeat from neither run's arda (${together ? 'one batch' : 'a batch per run'})`, async t => {
      const app = await buildTestApp(t, { CORR_WINDOW_SECONDS: '60' });
      const first = await buildTraces(activation(T0), 1);
      const second = await buildTraces(activation(T0 + 10_000), 2);
      if (together) await ingest(app, [...second, ...first]);
      else {
        await ingest(app, first);
        await ingest(app, second);
      }
      const service = new Map([...first, ...second].map(b => [b.traceId, `${b.service}${first.includes(b) ? 1 : 2}`]));
      const detail = (await app.inject(`/api/circuits/${encodeURIComponent(CIRCUIT)}`)).json<CircuitDetail>();
      const bridges = detail.bridges.map(b => `${service.get(b.traceId)}->${service.get(b.childTraceId)}`).sort();
      assert.deepEqual(bridges, ['beorn1->mdso1', 'beorn2->mdso2', 'mdso1->arda1', 'mdso2->arda2']);

      const graph = (await app.inject(`/api/service-graph?from=${T0 - 60_000}&to=${T0 + 120_000}`)).json<ServiceGraph>();
      const edges = graph.edges.map(e => `${e.source}->${e.target}:${e.callCount}${e.bridged ? ' bridged' : ''}`).sort();
      assert.deepEqual(edges, ['beorn->mdso:2 bridged', 'mdso->arda:2 bridged']);
    });
});
