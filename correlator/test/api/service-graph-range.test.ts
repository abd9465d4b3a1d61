// The service graph of a time range draws the bridges the detail and the stitched view show for
// it: those from the range's traces. It also drew the bridges into them from traces before the
// range (RV12: 201 bridged calls against the detail's 200 over one range), each with a caller node
// of no trace in the range.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CircuitDetail, ServiceGraph, StitchedTrace } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import { buildTraces, SpanKind, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { buildTestApp, postAccepted } from './app-fixture.js';

const T0 = Date.now() - 10 * 60_000;
const CIRCUIT = 'CKT-RANGE-1';
// beorn → MDSO → arda, 20 s apart, no trace context between them: two guessed bridges.
const HOPS = [
  { service: 'beorn', atMs: T0 },
  { service: 'mdso', atMs: T0 + 20_000 },
  { service: 'arda', atMs: T0 + 40_000 },
];

async function activation(t: Parameters<typeof buildTestApp>[0]): Promise<FastifyInstance> {
  const app = await buildTestApp(t);
  const traces = await buildTraces(
    HOPS.map(h => ({
      service: h.service,
      spans: [{ name: `${h.service}-activate`, kind: SpanKind.SERVER, startMs: h.atMs, endMs: h.atMs + 20, attributes: { circuit_id: CIRCUIT } }],
    })),
    7,
  );
  await postAccepted(app, '/v1/traces', tracesProtobuf(traces.flatMap(tr => tr.spans)));
  return app;
}

async function json<T>(app: FastifyInstance, url: string): Promise<T> {
  const res = await app.inject(url);
  assert.equal(res.statusCode, 200, res.body);
  return res.json<T>();
}

describe('the service graph of a time range', () => {
  const ranges: [string, number, number, string[], [string, number][]][] = [
    // What the range holds, its bounds, the bridged edges and the nodes with their trace counts.
    ['the whole activation', T0 - 1000, T0 + 41_000, ['beorn->mdso', 'mdso->arda'], [['arda', 1], ['beorn', 1], ['mdso', 1]]],
    // The bridge into MDSO's trace is beorn's, before the range: neither the detail nor the view has it.
    ['MDSO and arda', T0 + 19_000, T0 + 41_000, ['mdso->arda'], [['arda', 1], ['mdso', 1]]],
    // MDSO's bridge into arda's trace, after the range, is MDSO's: the detail and the view have it.
    ['beorn and MDSO', T0 - 1000, T0 + 21_000, ['beorn->mdso', 'mdso->arda'], [['arda', 0], ['beorn', 1], ['mdso', 1]]],
    ['arda alone', T0 + 39_000, T0 + 41_000, [], [['arda', 1]]],
  ];
  for (const [what, from, to, bridged, nodes] of ranges) {
    it(`draws the bridges from the range's traces, as the detail and the view: ${what}`, async t => {
      const app = await activation(t);
      const range = `from=${from}&to=${to}`;
      const detail = await json<CircuitDetail>(app, `/api/circuits/${CIRCUIT}?${range}`);
      const view = await json<StitchedTrace>(app, `/api/circuits/${CIRCUIT}/trace?${range}`);
      assert.equal(detail.bridges.length, bridged.length, 'the detail, as the case says');
      assert.equal(view.bridgeSpanCount, bridged.length, 'the view, as the case says');
      for (const query of [`circuit_id=${CIRCUIT}&${range}`, range]) {
        const graph = await json<ServiceGraph>(app, `/api/service-graph?${query}`);
        const edges = graph.edges.filter(e => e.bridged);
        assert.deepEqual(edges.map(e => e.id.replace(/:bridge$/, '')), bridged, `${query}: bridged edges`);
        assert.deepEqual(edges.map(e => e.callCount), bridged.map(() => 1), `${query}: one call each`);
        assert.deepEqual(graph.nodes.map(n => [n.id, n.traceCount]), nodes, `${query}: nodes`);
      }
    });
  }
});
