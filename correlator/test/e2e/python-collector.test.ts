// End to end with the real parts: Python apps instrumented with the OpenTelemetry Python SDK stand
// in for SENSE on the frameworks the user's design names (beorn and palantir on Flask, arda on
// FastAPI under uvicorn) and for MDSO, each in its own process; they export OTLP/HTTP to a real
// OpenTelemetry Collector (built from scripts/tools/otelcol-builder.yaml), which forwards to the
// correlator running as its own process. Each activation is the user's acceptance scenario: POST
// /beorn/api/v1/service/create with X-Circuit-Id and a JSON order. beorn's call to palantir carries
// W3C trace context, so palantir's span joins beorn's trace; MDSO passes none on, and accepts the
// request to run its plan script later, so one activation is three traces that only the circuit id
// ties together. The collector and the Python venv are installed by
// scripts/tools/install-collector.sh and install-sense-python.sh, which `npm test` runs first.
import type { Bridge, LogListResponse, Span, StitchedTrace } from '@correlation-station/api-schema';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type ChildServer } from '../helpers/child-server.js';
import { cleanupStack, tempDir } from '../helpers/cleanup.js';
import { collectorConfig } from '../helpers/collector-config.js';
import { COLLECTOR_BINARY, freePort, missingInstalls, SENSE_APPS, SENSE_PYTHON } from '../helpers/e2e-tools.js';
import { counterTotal, getJson } from '../helpers/http.js';
import { startTool, type ToolProcess } from '../helpers/tool-process.js';
import { until } from '../helpers/until.js';

const ACTIVATED = '80.L1XX.005401..CHTR';
/** Its order names a topology arda does not know: arda fails it. */
const FAILED = '80.L1XX.005402..CHTR';
const TOPOLOGIES: Record<string, string> = { [ACTIVATED]: '001461', [FAILED]: '009999' };
/**
 * Per activation: beorn's server span and its calls to palantir and MDSO, palantir's server span,
 * MDSO's plan script and its call, arda's server span and the get_topology span within it.
 */
const SPANS_PER_ACTIVATION = 8;
/** The X-Circuit-Id header as the HTTP server instrumentation captures it (an array of values). */
const CAPTURED_HEADER = 'http.request.header.x_circuit_id';
/** beorn, palantir and MDSO 1 each time; on the failed one MDSO's error and arda's error besides. */
const LOG_RECORDS = 2 * 3 + 2;
/** What MDSO's GET /resources/{id} tells of the resource a plan script works on. */
interface MdsoResource {
  id: string;
  orchState: string;
  reason: string;
}

/** The circuit's stitched view, or null while the correlator has nothing of it (404). */
async function stitchedTrace(base: string, circuitId: string): Promise<StitchedTrace | null> {
  const path = `/api/circuits/${encodeURIComponent(circuitId)}/trace`;
  const res = await fetch(base + path);
  if (res.status === 404) return null;
  const text = await res.text();
  assert.equal(res.status, 200, `GET ${path} → ${res.status}: ${text}`);
  return JSON.parse(text) as StitchedTrace;
}

describe('Python OpenTelemetry SDK apps → OpenTelemetry Collector → correlator', () => {
  // A failed test, not a failed hook: node:test counts the tests under a failed before() as
  // cancelled, and the closing "N passed, N failed" line would show no failure.
  const missing = missingInstalls();
  if (missing.length > 0) {
    it('finds the collector and the Python venv installed', () => assert.fail(missing.join('\n')));
    return;
  }
  const cleanup = cleanupStack(after);
  let server: ChildServer;
  let collector: ToolProcess;
  const appExits: Record<string, number | null> = {};
  const views: Record<string, StitchedTrace> = {};
  /** MDSO's answer to beorn's request, and what MDSO later reports of that resource. */
  const accepted: Record<string, MdsoResource> = {};
  const outcomes: Record<string, MdsoResource> = {};

  before(async () => {
    const dir = await tempDir(cleanup, 'corr-collector-e2e-');
    server = await startServer(cleanup, { DATA_DIR: join(dir, 'data') });

    const receiverPort = await freePort();
    const config = join(dir, 'collector.yaml');
    await writeFile(config, collectorConfig({ receiverPort, correlatorUrl: server.url }));
    collector = await startTool(cleanup, {
      name: 'collector',
      command: COLLECTOR_BINARY,
      args: [`--config=file:${config}`],
      env: {},
      ready: /Everything is ready/,
    });

    const app = async (name: string, env: Record<string, string> = {}) => {
      const tool = await startTool(cleanup, {
        name,
        command: SENSE_PYTHON,
        args: [join(SENSE_APPS, `${name}.py`)],
        cwd: SENSE_APPS,
        env: {
          PYTHONDONTWRITEBYTECODE: '1',
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiverPort}`,
          OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
          // Nothing leaves on a timer: what reaches the correlator was flushed by a clean shutdown.
          OTEL_BSP_SCHEDULE_DELAY: '600000',
          OTEL_BLRP_SCHEDULE_DELAY: '600000',
          ...env,
        },
        ready: /listening on (http:\/\/127\.0\.0\.1:\d+)/,
      });
      return { tool, url: tool.announced[1]! };
    };
    // Called before callers start, so each knows the URL of the one it calls.
    const arda = await app('arda');
    const mdso = await app('mdso', { ARDA_URL: arda.url });
    const palantir = await app('palantir');
    const beorn = await app('beorn', {
      PALANTIR_URL: palantir.url,
      MDSO_URL: mdso.url,
      // As a user configures it: beorn's spans carry the circuit only through this capture.
      OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST: 'X-Circuit-Id',
    });

    for (const circuitId of [ACTIVATED, FAILED]) {
      const res = await fetch(`${beorn.url}/beorn/api/v1/service/create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-circuit-id': circuitId },
        body: JSON.stringify({ circuit_id: circuitId, service_type: 'FIA', topology_id: TOPOLOGIES[circuitId] }),
      });
      const text = await res.text();
      assert.equal(res.status, 201, `activation of ${circuitId}: ${text}\n${beorn.tool.output()}`);
      accepted[circuitId] = (JSON.parse(text) as { mdso: MdsoResource }).mdso;
    }
    // MDSO runs its plan scripts after it answered: the apps are stopped (which flushes their
    // exporters) once MDSO reports both done.
    for (const circuitId of [ACTIVATED, FAILED]) {
      const path = `/bpocore/market/api/v1/resources/${accepted[circuitId]!.id}`;
      outcomes[circuitId] = await until(async () => {
        const resource = await getJson<MdsoResource>(mdso.url, path);
        return resource.orchState === 'active' || resource.orchState === 'failed' ? resource : null;
      }, `the plan script of ${circuitId}`).catch((e: Error) => {
        throw new Error(`${e.message}\nmdso:\n${mdso.tool.output()}`);
      });
    }
    for (const { tool } of [beorn, palantir, mdso, arda]) appExits[tool.name] = await tool.stop();

    // The collector forwards within its batch timeout; the correlator has it when both circuits
    // show every span and both hops bridged. A third bridge would be a wrong one: the test on the
    // view, not this wait, says so.
    for (const circuitId of [ACTIVATED, FAILED]) {
      views[circuitId] = await until(async () => {
        const view = await stitchedTrace(server.url, circuitId);
        const real = view?.spans.filter(s => !s.synthetic).length;
        return view && view.bridges.length >= 2 && real === SPANS_PER_ACTIVATION ? view : null;
      }, `two bridges and ${SPANS_PER_ACTIVATION} spans of ${circuitId}`).catch((e: Error) => {
        throw new Error(`${e.message}\ncollector:\n${collector.output()}\ncorrelator:\n${server.output()}`);
      });
    }
  });

  it('stops each app cleanly on SIGTERM (its exporters flushed on the way out)', () => {
    assert.deepEqual(appExits, { beorn: 0, palantir: 0, mdso: 0, arda: 0 });
  });

  it('has MDSO accept each request at once and report the outcome of its plan script later', () => {
    for (const circuitId of [ACTIVATED, FAILED]) assert.equal(accepted[circuitId]!.orchState, 'requested', circuitId);
    assert.equal(outcomes[ACTIVATED]!.orchState, 'active');
    assert.equal(outcomes[ACTIVATED]!.reason, '');
    assert.equal(outcomes[FAILED]!.orchState, 'failed');
    assert.match(
      outcomes[FAILED]!.reason,
      /^Failed task:.*arda topology lookup failed\.  Please check file: plan-script-[0-9a-f-]{36}-activate-/,
    );
  });

  for (const circuitId of [ACTIVATED, FAILED]) {
    it(`stitches beorn → palantir, mdso → arda of ${circuitId}: three traces, bridges where no context`, () => {
      const view = views[circuitId]!;
      const real = view.spans.filter(s => !s.synthetic);
      // Trace context already joins palantir to beorn: a bridge between them would be a guess on top.
      const bridgeNames = view.spans.filter(s => s.synthetic).map(s => s.name);
      const noPalantir = 'no bridge to or from palantir';
      assert.deepEqual(bridgeNames.sort(), ['beorn_to_mdso_bridge', 'mdso_to_arda_bridge'], noPalantir);
      assert.equal(view.bridges.length, 2);
      const one = (service: string, kind: Span['kind']): Span => {
        const found = real.filter(s => s.serviceName === service && s.kind === kind);
        assert.equal(found.length, 1, `one ${kind} span of ${service}: ${JSON.stringify(real.map(s => [s.serviceName, s.kind, s.name]))}`);
        return found[0]!;
      };
      const beornServer = one('beorn', 'server');
      const palantir = one('palantir', 'server');
      const beornCalls = real.filter(s => s.serviceName === 'beorn' && s.kind === 'client');
      const palantirCall = beornCalls.find(s => s.spanId === palantir.parentSpanId);
      assert.ok(palantirCall, "palantir's span is within beorn's call to it: the traceparent was read");
      const [beornCall, ...more] = beornCalls.filter(s => s !== palantirCall);
      assert.ok(beornCall && more.length === 0, 'one other call of beorn: to MDSO');
      const plan = one('mdso', 'internal');
      const mdsoCall = one('mdso', 'client');
      const arda = one('arda', 'server');
      const lookup = one('arda', 'internal');
      assert.equal(real.length, SPANS_PER_ACTIVATION);
      assert.deepEqual([...new Set(real.map(s => s.serviceName))].sort(), ['arda', 'beorn', 'mdso', 'palantir']);

      for (const call of [palantirCall, beornCall])
        assert.equal(call.parentSpanId, beornServer.spanId, "requests' span is within Flask's");
      const startNs = (s: Span) => BigInt(s.startTimeUnixNano);
      assert.ok(startNs(palantirCall) < startNs(beornCall), 'beorn validates before it calls MDSO');
      assert.equal(beornServer.name, 'POST /beorn/api/v1/service/create');
      // beorn sets no key attribute: its spans name the circuit only in the captured header, under
      // a name the correlator's default key aliases read.
      assert.deepEqual(beornServer.attributes[CAPTURED_HEADER], [circuitId]);
      for (const s of [beornServer, ...beornCalls])
        assert.equal(s.attributes['circuit_id'], undefined, `${s.name}: no circuit_id attribute`);
      assert.equal(palantir.traceId, beornServer.traceId, "palantir's span is in beorn's trace");
      assert.equal(palantir.name, 'GET /api/v1/circuit/validate');
      assert.equal(palantir.attributes['circuit_id'], circuitId);
      assert.ok(
        startNs(plan) > BigInt(beornServer.endTimeUnixNano),
        'MDSO ran the plan script after beorn had its answer',
      );
      assert.equal(plan.name, 'mdso.product.CircuitDetailsCollector');
      assert.equal(plan.parentSpanId, '', 'MDSO took no context from the traceparent beorn sent');
      assert.equal(plan.attributes['mdso.circuit_id'], circuitId);
      assert.match(String(plan.attributes['mdso.resource_id']), /^[0-9a-f-]{36}$/);
      assert.equal(mdsoCall.parentSpanId, plan.spanId);
      assert.equal(arda.parentSpanId, '', 'arda got no traceparent from MDSO');
      assert.equal(arda.attributes['circuit_id'], circuitId);
      assert.equal(arda.name, 'GET /get_topology');
      assert.equal(lookup.name, 'get_topology', "named as the user's design names arda's span");
      assert.equal(lookup.parentSpanId, arda.spanId);
      assert.equal(lookup.attributes['topology_id'], TOPOLOGIES[circuitId]);
      const traces = [beornServer.traceId, plan.traceId, arda.traceId];
      assert.equal(new Set(traces).size, 3, 'three separate traces');
      assert.deepEqual([...view.traceIds].sort(), [...traces].sort());

      const bridge = (name: string) => {
        const found = view.spans.filter(s => s.synthetic && s.name === name);
        assert.equal(found.length, 1, `exactly one ${name}`);
        return found[0]!;
      };
      const hop = (name: string, parentService: string, childService: string, caller: Span, callee: Span) => {
        const b = bridge(name);
        assert.equal(b.serviceName, 'correlation-station');
        assert.equal(b.traceId, caller.traceId, `${name} lives in the calling trace`);
        assert.equal(b.parentSpanId, caller.spanId, `${name} is parented to the CLIENT span that made the call`);
        assert.deepEqual(
          b.links.map(l => [l.traceId, l.spanId]),
          [[callee.traceId, callee.spanId]],
          `${name} links to the entry span of the called trace`,
        );
        assert.equal(b.attributes['bridge.type'], 'synthetic');
        assert.equal(b.attributes['bridge.parent_service'], parentService);
        assert.equal(b.attributes['bridge.child_service'], childService);
        assert.equal(b.attributes['circuit_id'], circuitId);
        assert.equal(b.attributes['correlation.method'], 'circuit_id_match');
        const listed = view.bridges.filter((x: Bridge) => x.spanId === b.spanId);
        assert.equal(listed.length, 1);
        assert.equal(listed[0]!.childTraceId, callee.traceId);
        assert.equal(listed[0]!.childSpanId, callee.spanId);
      };
      hop('beorn_to_mdso_bridge', 'beorn', 'mdso', beornCall, plan);
      hop('mdso_to_arda_bridge', 'mdso', 'arda', mdsoCall, arda);
    });
  }

  it('keeps the error status and message of the failed arda span and of the plan script it failed', () => {
    const spans = views[FAILED]!.spans;
    const arda = spans.find(s => s.serviceName === 'arda' && s.kind === 'server')!;
    assert.deepEqual(arda.status, { code: 'error', message: 'no topology for circuit' });
    const plan = spans.find(s => s.name === 'mdso.product.CircuitDetailsCollector')!;
    assert.deepEqual(plan.status, { code: 'error', message: 'arda topology lookup failed' });
    for (const s of views[ACTIVATED]!.spans) assert.notEqual(s.status.code, 'error', `${s.serviceName} ${s.name}`);
  });

  it("joins each app's log records to the circuit, under the span they were written in", async () => {
    const { logs } = await until(async () => {
      const list = await getJson<LogListResponse>(server.url, `/api/circuits/${encodeURIComponent(FAILED)}/logs?limit=100`);
      return list.logs.length >= 5 ? list : null;
    }, `the log records of ${FAILED}`);
    const rows = logs.map(l => [l.serviceName, l.severityText, l.body] as const).sort();
    const expected: Array<[string, string, RegExp]> = [
      ['arda', 'ERROR', /^no topology for circuit circuit_id=/],
      ['beorn', 'INFO', /^activating circuit circuit_id=/],
      ['mdso', 'ERROR', /^plan script failed resource_id=[0-9a-f-]{36} circuit_id=/],
      ['mdso', 'INFO', /^plan script started resource_id=[0-9a-f-]{36} circuit_id=/],
      ['palantir', 'INFO', /^validated circuit circuit_id=/],
    ];
    assert.deepEqual(rows.map(r => [r[0], r[1]]), expected.map(e => [e[0], e[1]]), JSON.stringify(rows));
    for (const [i, [, , body]] of expected.entries()) assert.match(rows[i]![2], body);
    const spans = views[FAILED]!.spans;
    for (const l of logs) {
      assert.equal(l.keys.circuit_id, FAILED, `"${l.body}" is keyed by the circuit`);
      const within = spans.find(s => s.spanId === l.spanId);
      assert.ok(within, `"${l.body}" keeps the id of the span it was logged in`);
      assert.equal(l.traceId, within.traceId);
      assert.equal(within.serviceName, l.serviceName);
      assert.equal(within.kind, l.serviceName === 'mdso' ? 'internal' : 'server');
    }
  });

  it('counts on /metrics what came through the collector: every span and log record, none twice', async () => {
    const items = (signal: string, outcome: string) =>
      counterTotal(server.url, 'otlp_ingest_items_total', new RegExp(`signal="${signal}".*outcome="${outcome}"|outcome="${outcome}".*signal="${signal}"`));
    assert.equal(await items('traces', 'accepted'), 2 * SPANS_PER_ACTIVATION);
    assert.equal(await items('logs', 'accepted'), LOG_RECORDS);
    for (const signal of ['traces', 'logs']) {
      assert.equal(await items(signal, 'duplicate'), 0, `${signal}: nothing re-sent`);
      assert.equal(await items(signal, 'rejected'), 0, `${signal}: nothing rejected`);
    }
    assert.ok((await counterTotal(server.url, 'otlp_ingest_requests_total', /outcome="ok"/)) >= 2);
    assert.equal(await counterTotal(server.url, 'otlp_ingest_requests_total', /outcome="(?!ok)/), 0);
    assert.ok((await counterTotal(server.url, 'bridges_created_total')) >= 4);
    assert.ok((await counterTotal(server.url, 'correlation_events_total')) > 0);
  });

  it('stops the collector cleanly', async () => {
    assert.equal(await collector.stop(), 0, collector.output());
  });
});
