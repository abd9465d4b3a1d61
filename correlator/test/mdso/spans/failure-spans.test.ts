import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FailureInput } from '../../../src/mdso/analysis/index.js';
import { buildFailureSpans, pairSteps } from '../../../src/mdso/spans/failure-spans.js';

const START = 1_767_144_062; // epoch seconds
const TOP = 'aaaaaaaa-0000-4000-8000-000000000001';
const STEP1 = 'bbbbbbbb-0000-4000-8000-000000000002';
const STEP2 = 'cccccccc-0000-4000-8000-000000000003';

function failure(overrides: Partial<FailureInput> = {}): FailureInput {
  return {
    resourceId: TOP,
    resourceTypeId: 'charter.resourceTypes.ServiceMapper',
    product: 'ServiceMapper',
    label: '80.L1XX.005054..CHTR',
    circuitId: '80.L1XX.005054..CHTR',
    orchState: 'failed',
    reason: "Failed task:(1) activate: Failed remote script 'activate'(exit code: 1): Error in x, boom.  Please check file: plan-script-x",
    occurredAtMs: (START + 80) * 1000 + 250,
    orchTrace: {
      traceLogId: 'dddddddd-0000-4000-8000-000000000004',
      startTimeSec: START,
      entries: [
        { timestamp: '01:21:02', resource_id: TOP, process: 'serviceMapper.ServiceMapper.Activate', state: 'STARTED', elapsed_time: 0 },
        { timestamp: '01:21:03', resource_id: STEP1, process: 'circuitDetailsCollector.CircuitDetailsCollector', resource_type: 'charter.resourceTypes.CircuitDetails', state: 'STARTED', elapsed_time: 1 },
        { timestamp: '01:21:40', resource_id: STEP1, process: 'circuitDetailsCollector.CircuitDetailsCollector', state: 'COMPLETED', elapsed_time: 38, message: 'Completed successfully' },
        { timestamp: '01:21:41', resource_id: STEP2, process: 'deviceconnectivitycheck.DeviceConnectivityCheck', resource_type: 'tosca.resourceTypes.ConnectivityCheck', resource_name: 'device_connectivity_check', state: 'STARTED', elapsed_time: 39 },
        { timestamp: '01:22:21', resource_id: STEP2, process: 'deviceconnectivitycheck.DeviceConnectivityCheck', state: 'FAILED', elapsed_time: 79, categorized_error: 'MDSO | Connectivity Error - Unreachable Live Device: device: AUSDTXIR2CW', message: 'Error in ...' },
        { timestamp: '01:22:22', resource_id: TOP, process: 'serviceMapper.ServiceMapper.Activate', state: 'FAILED', elapsed_time: 80 },
      ],
    },
    ...overrides,
  };
}

const attrs = (span: { attributes: Array<{ key: string; value: { stringValue?: string } }> }) =>
  Object.fromEntries(span.attributes.map(a => [a.key, a.value.stringValue]));

void describe('MDSO failure spans', () => {
  void it('builds a parent span and one span per step, timed from start_time_sec + elapsed_time', () => {
    const req = buildFailureSpans(failure());
    const rs = req.resourceSpans[0]!;
    assert.deepEqual(rs.resource.attributes, [{ key: 'service.name', value: { stringValue: 'mdso' } }]);
    const [root, s1, s2, ...rest] = rs.scopeSpans[0]!.spans;
    assert.equal(rest.length, 0);
    assert.equal(root!.name, 'mdso.product.ServiceMapper');
    assert.equal(root!.startTimeUnixNano, `${START}000000000`);
    assert.equal(root!.endTimeUnixNano, `${START + 80}250000000`);
    assert.equal(root!.status.code, 2);
    assert.match(root!.status.message!, /Unreachable Live Device/);
    assert.deepEqual(
      { circuit: attrs(root!)['circuit_id'], resource: attrs(root!)['resource_id'], product: attrs(root!)['mdso.product_name'], state: attrs(root!)['mdso.orch_state'], type: attrs(root!)['mdso.resource_type'], process: attrs(root!)['mdso.process'] },
      { circuit: '80.L1XX.005054..CHTR', resource: TOP, product: 'ServiceMapper', state: 'failed', type: 'charter.resourceTypes.ServiceMapper', process: 'serviceMapper.ServiceMapper.Activate' },
    );
    assert.equal(s1!.name, 'circuitDetailsCollector.CircuitDetailsCollector');
    assert.equal(s1!.parentSpanId, root!.spanId);
    assert.equal(s1!.startTimeUnixNano, `${START + 1}000000000`);
    assert.equal(s1!.endTimeUnixNano, `${START + 38}000000000`);
    assert.equal(s1!.status.code, 1);
    assert.equal(attrs(s1!)['resource_id'], STEP1);
    assert.equal(attrs(s1!)['circuit_id'], '80.L1XX.005054..CHTR');
    assert.equal(s2!.status.code, 2);
    assert.equal(s2!.status.message, 'MDSO | Connectivity Error - Unreachable Live Device: device: AUSDTXIR2CW');
    assert.equal(attrs(s2!)['mdso.orch_state'], 'FAILED');
    assert.equal(attrs(s2!)['mdso.resource_name'], 'device_connectivity_check');
    assert.equal(s2!.endTimeUnixNano, `${START + 79}000000000`);
  });

  void it('uses deterministic, well-formed ids that differ per orchestration trace', () => {
    const a = buildFailureSpans(failure());
    const b = buildFailureSpans(failure());
    assert.deepEqual(a, b);
    const spans = a.resourceSpans[0]!.scopeSpans[0]!.spans;
    for (const s of spans) {
      assert.match(s.traceId, /^[0-9a-f]{32}$/);
      assert.match(s.spanId, /^[0-9a-f]{16}$/);
    }
    assert.equal(new Set(spans.map(s => s.spanId)).size, spans.length);
    const other = buildFailureSpans(failure({ orchTrace: { ...failure().orchTrace!, traceLogId: 'eeeeeeee-0000-4000-8000-000000000005' } }));
    assert.notEqual(other.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.traceId, spans[0]!.traceId);
  });

  void it('without a TraceLog: only the parent span, from creation to failure, no circuit attribute when unknown', () => {
    const createdMs = (START - 10) * 1000;
    const req = buildFailureSpans(failure({ orchTrace: null, circuitId: null }), createdMs);
    const spans = req.resourceSpans[0]!.scopeSpans[0]!.spans;
    assert.equal(spans.length, 1);
    assert.equal(spans[0]!.startTimeUnixNano, `${START - 10}000000000`);
    assert.equal(attrs(spans[0]!)['circuit_id'], undefined);
    assert.match(spans[0]!.status.message!, /^Failed task:/);
  });

  void it('pairs repeated steps in order and keeps unfinished or unmatched ones', () => {
    const steps = pairSteps(
      [
        { resource_id: 'r', process: 'p', state: 'STARTED', elapsed_time: 0 },
        { resource_id: 'r', process: 'p', state: 'COMPLETED', elapsed_time: 5 },
        { resource_id: 'r', process: 'p', state: 'STARTED', elapsed_time: 6 },
        { resource_id: 'q', process: 'x', state: 'FAILED', elapsed_time: 9 },
      ],
      'top',
      e => (e.elapsed_time ?? 0) * 1000,
    );
    assert.deepEqual(
      steps.map(s => [s.startMs, s.endMs, s.end?.state ?? null]),
      [
        [0, 5000, 'COMPLETED'],
        [6000, null, null],
        [9000, 9000, 'FAILED'],
      ],
    );
  });
});
