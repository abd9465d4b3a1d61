// End to end: real OpenTelemetry JS SDK providers in a separate process export a beorn → MDSO →
// arda circuit as three unconnected root traces (no context propagation) to the correlator
// running as its own process. Every exporter flavour the SDK has (protobuf/JSON, gzip/none) must
// give the same stitched result, and a replay of identical data must change nothing.
import type {
  Bridge,
  CircuitDetail,
  CorrelationListResponse,
  LogListResponse,
  ServiceGraph,
  Span,
  StitchedTrace,
  TraceDetail,
} from '@correlation-station/api-schema';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type ChildServer } from '../helpers/child-server.js';
import { exportCircuit, type FixtureInput, type FixtureOutput } from '../helpers/fixture-runner.js';
import { counterTotal, getJson } from '../helpers/http.js';
import { cleanupStack, tempDir } from '../helpers/cleanup.js';

const MATRIX: Array<Pick<FixtureInput, 'encoding' | 'compression' | 'pathPrefix'>> = [
  { encoding: 'protobuf', compression: 'none', pathPrefix: '' },
  { encoding: 'protobuf', compression: 'gzip', pathPrefix: '' },
  { encoding: 'json', compression: 'none', pathPrefix: '' },
  // The alternative receiver path the user's collector already points at.
  { encoding: 'json', compression: 'gzip', pathPrefix: '/api/otlp' },
];

const span = (out: FixtureOutput, key: string) => {
  const s = out.spans[key];
  assert.ok(s, `fixture did not report span ${key}`);
  return s;
};

interface Snapshot {
  stitched: StitchedTrace;
  detail: CircuitDetail;
  correlations: CorrelationListResponse;
  logs: LogListResponse;
}

async function snapshot(base: string, circuitId: string): Promise<Snapshot> {
  const id = encodeURIComponent(circuitId);
  const [stitched, detail, correlations, logs] = await Promise.all([
    getJson<StitchedTrace>(base, `/api/circuits/${id}/trace`),
    getJson<CircuitDetail>(base, `/api/circuits/${id}`),
    getJson<CorrelationListResponse>(base, `/api/correlations?circuit_id=${id}&limit=1000`),
    getJson<LogListResponse>(base, `/api/circuits/${id}/logs?limit=10000`),
  ]);
  return { stitched, detail, correlations, logs };
}

/** A replay changed nothing: the same spans, bridges, correlations and logs, none twice. */
function assertNothingAdded(first: Snapshot, second: Snapshot): void {
  const ids = (xs: { id?: string; spanId?: string }[]) => xs.map(x => x.spanId ?? x.id).sort();
  assert.deepEqual(ids(second.stitched.spans), ids(first.stitched.spans), 'no duplicate spans');
  assert.deepEqual(ids(second.stitched.bridges), ids(first.stitched.bridges), 'no duplicate bridges');
  assert.deepEqual(ids(second.correlations.correlations), ids(first.correlations.correlations), 'no duplicate correlations');
  assert.deepEqual(ids(second.logs.logs), ids(first.logs.logs), 'no duplicate logs');
}

describe('SDK exporters in a separate process → correlator process', () => {
  let server: ChildServer;
  const baseMs = Date.now() - 60_000;

  const cleanup = cleanupStack(after);

  before(async () => {
    server = await startServer(cleanup, { DATA_DIR: await tempDir(cleanup) });
  });

  for (const [i, flavour] of MATRIX.entries()) {
    const label = `${flavour.encoding}, compression ${flavour.compression}${flavour.pathPrefix ? `, ${flavour.pathPrefix}` : ''}`;
    it(`stitches beorn → mdso → arda (${label}) and ignores a replay`, async () => {
      const circuitId = `80.L1XX.00505${i}..CHTR`;
      const input: FixtureInput = { baseUrl: server.url, ...flavour, circuitId, baseMs: baseMs + i * 5_000, seed: `e2e-${i}` };
      const eventsBefore = await counterTotal(server.url, 'correlation_events_total');

      const out = await exportCircuit(input);
      assert.deepEqual(out.exports.failed, []);
      assert.ok(out.exports.ok >= 6, `expected 3 trace and 3 log exports, got ${out.exports.ok}`);

      const beornServer = span(out, 'beorn:POST /beorn/api/v1/service/create');
      const beornClient = span(out, 'beorn:POST mdso /bpocore/market/api/v1/resources');
      const mdsoPlan = span(out, 'mdso:mdso.product.CircuitDetailsCollector');
      const arda = span(out, 'arda:get_topology');
      assert.equal(beornClient.parentSpanId, beornServer.spanId);
      assert.equal(new Set([beornServer.traceId, mdsoPlan.traceId, arda.traceId]).size, 3, 'three separate traces');

      const first = await snapshot(server.url, circuitId);
      const { stitched } = first;

      // All three services and every exported span, plus exactly two synthetic spans.
      assert.deepEqual([...stitched.traceIds].sort(), [beornServer.traceId, mdsoPlan.traceId, arda.traceId].sort());
      const real = stitched.spans.filter(s => !s.synthetic);
      assert.deepEqual(
        new Set(real.map(s => s.serviceName)),
        new Set(['beorn', 'mdso', 'arda']),
      );
      assert.deepEqual(
        real.map(s => s.spanId).sort(),
        Object.values(out.spans)
          .map(s => s.spanId)
          .sort(),
      );
      const synthetic = stitched.spans.filter(s => s.synthetic);
      assert.equal(synthetic.length, 2, `bridge spans: ${synthetic.map(s => s.name).join(', ')}`);
      assert.equal(stitched.bridges.length, 2);

      const hop = (name: string): Span => {
        const found = synthetic.filter(s => s.name === name);
        assert.equal(found.length, 1, `exactly one ${name}, got ${found.length}`);
        return found[0]!;
      };
      const checkBridge = (
        b: Span,
        parentService: string,
        childService: string,
        parent: { traceId: string; spanId: string },
        child: { traceId: string; spanId: string },
      ) => {
        assert.equal(b.serviceName, 'correlation-station');
        assert.equal(b.traceId, parent.traceId, `${b.name} lives in the earlier trace`);
        assert.equal(b.parentSpanId, parent.spanId, `${b.name} is parented to the calling span`);
        assert.equal(b.attributes['bridge.type'], 'synthetic');
        assert.equal(b.attributes['bridge.parent_service'], parentService);
        assert.equal(b.attributes['bridge.child_service'], childService);
        assert.equal(b.attributes['circuit_id'], circuitId);
        assert.equal(b.attributes['correlation.method'], 'circuit_id_match');
        const confidence = b.attributes['correlation.confidence'];
        assert.ok(typeof confidence === 'number' && confidence > 0 && confidence <= 1, `confidence ${String(confidence)}`);
        assert.equal(b.links.length, 1);
        assert.equal(b.links[0]!.traceId, child.traceId, `${b.name} links to the later trace`);
        assert.equal(b.links[0]!.spanId, child.spanId, `${b.name} links to the later trace's entry span`);
        const listed = stitched.bridges.filter((x: Bridge) => x.spanId === b.spanId);
        assert.equal(listed.length, 1);
        assert.equal(listed[0]!.childTraceId, child.traceId);
        assert.equal(listed[0]!.childSpanId, child.spanId);
        assert.equal(listed[0]!.parentSpanId, parent.spanId);
        // Hung from a span of the parent that points at the child, not a guess on time alone.
        assert.ok(['named_call', 'call', 'running_span'].includes(listed[0]!.basis), `${b.name}: basis ${listed[0]!.basis}`);
        assert.equal(b.attributes['bridge.basis'], listed[0]!.basis);
      };
      const beornToMdso = hop('beorn_to_mdso_bridge');
      const mdsoToArda = hop('mdso_to_arda_bridge');
      checkBridge(beornToMdso, 'beorn', 'mdso', beornClient, mdsoPlan);
      checkBridge(mdsoToArda, 'mdso', 'arda', mdsoPlan, arda);

      // The later trace knows who bridged into it.
      const ardaTrace = await getJson<TraceDetail>(server.url, `/api/traces/${arda.traceId}`);
      assert.ok(
        ardaTrace.linksIn.some(
          l => l.sourceTraceId === mdsoPlan.traceId && l.sourceSpanId === mdsoToArda.spanId && l.targetSpanId === arda.spanId,
        ),
        `linksIn of arda: ${JSON.stringify(ardaTrace.linksIn)}`,
      );

      // Correlations, circuit summary and logs for the circuit.
      assert.ok(first.correlations.correlations.length > 0, 'correlations for the circuit');
      const byCircuit = first.correlations.correlations.filter(c => c.key === 'circuit_id' && c.value === circuitId);
      assert.equal(byCircuit.length, 1, JSON.stringify(first.correlations.correlations.map(c => [c.key, c.value])));
      assert.deepEqual(new Set(byCircuit[0]!.traceIds), new Set([beornServer.traceId, mdsoPlan.traceId, arda.traceId]));
      assert.deepEqual(new Set(first.detail.summary.services), new Set(['beorn', 'mdso', 'arda']));
      assert.equal(first.detail.summary.bridgeCount, 2);
      assert.equal(first.detail.summary.bridged, true);
      const logTotal = out.logCount.beorn + out.logCount.mdso + out.logCount.arda;
      assert.equal(first.logs.logs.length, logTotal);
      assert.deepEqual(new Set(first.logs.logs.map(l => l.serviceName)), new Set(['beorn', 'mdso', 'arda']));
      for (const l of first.logs.logs) {
        const own = Object.values(out.spans).find(s => s.spanId === l.spanId);
        assert.ok(own, `log "${l.body}" keeps the span id it was emitted under`);
        assert.equal(l.traceId, own.traceId, `log "${l.body}" keeps its trace id`);
        assert.equal(l.keys.circuit_id, circuitId);
      }

      // The service graph shows both hops, marked as existing only through bridges.
      const graph = await getJson<ServiceGraph>(server.url, `/api/service-graph?circuit_id=${encodeURIComponent(circuitId)}`);
      assert.deepEqual(new Set(graph.nodes.map(n => n.id)), new Set(['beorn', 'mdso', 'arda']), 'no node for the synthetic spans');
      assert.deepEqual(
        graph.edges.map(e => [e.source, e.target, e.bridged]).sort(),
        [
          ['beorn', 'mdso', true],
          ['mdso', 'arda', true],
        ],
      );

      const eventsAfter = await counterTotal(server.url, 'correlation_events_total');
      assert.ok(eventsAfter > eventsBefore, `correlation_events_total ${eventsBefore} → ${eventsAfter}`);

      // Replay: the same process run again sends byte-identical data.
      const duplicatesBefore = await counterTotal(server.url, 'otlp_ingest_items_total', /outcome="duplicate"/);
      const replay = await exportCircuit(input);
      assert.deepEqual(replay.exports.failed, []);
      assert.deepEqual(replay.spans, out.spans, 'the replay re-sent the same ids');
      const duplicatesAfter = await counterTotal(server.url, 'otlp_ingest_items_total', /outcome="duplicate"/);
      // Proves the replay reached the correlator, so "nothing changed" below means something.
      assert.equal(duplicatesAfter - duplicatesBefore, Object.keys(out.spans).length + logTotal);

      const second = await snapshot(server.url, circuitId);
      assertNothingAdded(first, second);
      assert.equal(second.detail.summary.bridgeCount, 2);
    });
  }
  it('treats a replay in the other encoding, through the other path, as duplicates', async () => {
    const circuitId = '80.L1XX.005059..CHTR';
    const input: FixtureInput = {
      baseUrl: server.url,
      pathPrefix: '',
      encoding: 'protobuf',
      compression: 'none',
      circuitId,
      baseMs: baseMs + 60_000,
      seed: 'e2e-cross',
    };
    const out = await exportCircuit(input);
    assert.deepEqual(out.exports.failed, []);
    const first = await snapshot(server.url, circuitId);
    assert.equal(first.stitched.bridges.length, 2);

    const duplicatesBefore = await counterTotal(server.url, 'otlp_ingest_items_total', /outcome="duplicate"/);
    const replay = await exportCircuit({ ...input, encoding: 'json', compression: 'gzip', pathPrefix: '/api/otlp' });
    assert.deepEqual(replay.exports.failed, []);
    const duplicatesAfter = await counterTotal(server.url, 'otlp_ingest_items_total', /outcome="duplicate"/);
    const logTotal = out.logCount.beorn + out.logCount.mdso + out.logCount.arda;
    assert.equal(duplicatesAfter - duplicatesBefore, Object.keys(out.spans).length + logTotal, 'every item recognised as a duplicate');

    assertNothingAdded(first, await snapshot(server.url, circuitId));
  });
  describe('when MDSO honours traceparent (beorn → MDSO propagated)', () => {
    const circuitId = '80.L1XX.005060..CHTR';
    let out: FixtureOutput;
    let stitched: StitchedTrace;

    before(async () => {
      out = await exportCircuit({
        baseUrl: server.url,
        pathPrefix: '',
        encoding: 'protobuf',
        compression: 'gzip',
        circuitId,
        baseMs: baseMs + 90_000,
        seed: 'e2e-propagated',
        propagateToMdso: true,
      });
      assert.deepEqual(out.exports.failed, []);
      stitched = await getJson<StitchedTrace>(server.url, `/api/circuits/${encodeURIComponent(circuitId)}/trace`);
    });

    it('bridges only the unpropagated hop, never on top of trace context', () => {
      const beornClient = span(out, 'beorn:POST mdso /bpocore/market/api/v1/resources');
      const mdsoPlan = span(out, 'mdso:mdso.product.CircuitDetailsCollector');
      const arda = span(out, 'arda:get_topology');
      assert.equal(mdsoPlan.traceId, beornClient.traceId, 'the fixture propagated context');
      assert.deepEqual([...stitched.traceIds].sort(), [beornClient.traceId, arda.traceId].sort());
      const bridges = stitched.spans.filter(s => s.synthetic);
      assert.equal(bridges.length, 1, bridges.map(b => b.name).join(', '));
      assert.equal(stitched.bridges.length, 1);
      const b = bridges[0]!;
      assert.equal(b.traceId, beornClient.traceId);
      assert.deepEqual(
        b.links.map(l => [l.traceId, l.spanId]),
        [[arda.traceId, arda.spanId]],
      );
    });

    it('shows the propagated hop as a real call and the other as bridged in the service graph', async () => {
      const graph = await getJson<ServiceGraph>(server.url, `/api/service-graph?circuit_id=${encodeURIComponent(circuitId)}`);
      assert.deepEqual(
        graph.edges.map(e => [e.source, e.target, e.bridged, e.meanConfidence === 1]).sort(),
        [
          ['beorn', 'mdso', false, true],
          ['mdso', 'arda', true, false],
        ],
      );
    });

    it('parents that bridge to the MDSO span that was running when arda was called', () => {
      const mdsoPlan = span(out, 'mdso:mdso.product.CircuitDetailsCollector');
      const b = stitched.spans.find(s => s.synthetic)!;
      assert.equal(b.name, 'mdso_to_arda_bridge');
      assert.equal(b.parentSpanId, mdsoPlan.spanId);
    });
  });
});
