import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MdsoResource } from '../../../src/mdso/client/mdso-client.js';
import { changedAtMs, circuitIdOf, createdAtMs, failureOccurrenceKey, pickTraceLog, toFailureInput } from '../../../src/mdso/poller/failure-input.js';

function resource(overrides: Partial<MdsoResource> = {}): MdsoResource {
  return {
    id: '601b18fa-711d-43cc-9ac3-bbda276e2a23',
    label: '80.L1XX.005054..CHTR',
    resourceTypeId: 'charter.resourceTypes.ServiceMapper',
    orchState: 'failed',
    reason: "Failed task:(1) activate: Failed remote script 'activate'(exit code: 1): Error in x, boom.  Please check file: plan-script-601b18fa-711d-43cc-9ac3-bbda276e2a23-activate-2021-02-03T21:43:22.365Z",
    properties: {},
    createdAt: '2021-02-03T21:43:22.344Z',
    updatedAt: '2021-02-03T21:48:27.248Z',
    ...overrides,
  };
}

function traceLog(id: string, startSec: number | string | undefined, updatedAt = '2021-02-03T21:48:27.000Z'): MdsoResource {
  return { id, label: 'x.orch_trace', resourceTypeId: 'tosca.resourceTypes.TraceLog', orchState: 'active', updatedAt, properties: startSec === undefined ? {} : { start_time_sec: startSec } };
}

void describe('circuitIdOf', () => {
  const cases: Array<[string, Partial<MdsoResource>, string | null]> = [
    ['the circuit_id property wins', { properties: { circuit_id: '11.KGFD.000001..TWCC' } }, '11.KGFD.000001..TWCC'],
    ['a label shaped like a circuit id', {}, '80.L1XX.005054..CHTR'],
    ['an FQDN label is not a circuit', { label: 'HOST1.DEV.CHTRSE.COM' }, null],
    ['a TID-based label is not a circuit', { label: 'AUSDTXIR2CW.cpe_activator' }, null],
    ['an empty property falls back to the label', { properties: { circuit_id: '' } }, '80.L1XX.005054..CHTR'],
  ];
  for (const [name, o, expected] of cases) void it(name, () => assert.equal(circuitIdOf(resource(o)), expected));
});

void describe('changedAtMs', () => {
  const cases: Array<[string, Partial<MdsoResource>, number | null]> = [
    ['updatedAt', {}, Date.parse('2021-02-03T21:48:27.248Z')],
    ['createdAt when updatedAt is missing', { updatedAt: undefined }, Date.parse('2021-02-03T21:43:22.344Z')],
    ['createdAt when updatedAt is garbage', { updatedAt: 'yesterday' }, Date.parse('2021-02-03T21:43:22.344Z')],
    ['null when neither parses', { updatedAt: undefined, createdAt: undefined }, null],
  ];
  for (const [name, o, expected] of cases) void it(name, () => assert.equal(changedAtMs(resource(o)), expected));
});

// Where a failure without a TraceLog starts its spans: one at or before 2000 is a start the correlator
// refuses as a clock not yet set (item-times.ts), which lost the failure's span.
void describe('createdAtMs', () => {
  const cases: Array<[string, Partial<MdsoResource>, number | null]> = [
    ['a creation years back', {}, Date.parse('2021-02-03T21:43:22.344Z')],
    ['a millisecond after 2000', { createdAt: '2000-01-01T00:00:00.001Z' }, Date.UTC(2000, 0, 1) + 1],
    ['null at 2000-01-01T00:00:00Z, a reset clock', { createdAt: '2000-01-01T00:00:00Z' }, null],
    ['null in 1999', { createdAt: '1999-06-01T00:00:00Z' }, null],
    ['null at the epoch', { createdAt: '1970-01-01T00:00:00Z' }, null],
    ['null when it does not parse', { createdAt: 'yesterday' }, null],
    ['null when missing', { createdAt: undefined }, null],
  ];
  for (const [name, o, expected] of cases) void it(name, () => assert.equal(createdAtMs(resource(o)), expected));
});

void describe('pickTraceLog', () => {
  const failedAt = Date.parse('2021-02-03T21:48:27.248Z');
  const startOf = (iso: string) => Date.parse(iso) / 1000;
  void it('takes the newest TraceLog that started before the failure', () => {
    const older = traceLog('older', startOf('2021-02-01T10:00:00Z'));
    const current = traceLog('current', startOf('2021-02-03T21:43:22Z'));
    const later = traceLog('later', startOf('2021-02-04T08:00:00Z'));
    assert.equal(pickTraceLog([older, later, current], failedAt)?.id, 'current');
  });
  void it('reads start_time_sec given as a string, and falls back to updatedAt', () => {
    assert.equal(pickTraceLog([traceLog('a', '1612388602'), traceLog('b', undefined, '2021-02-03T21:40:00Z')], failedAt)?.id, 'a');
  });
  void it('falls back to the first one when all started later, and to null without any', () => {
    assert.equal(pickTraceLog([traceLog('only', startOf('2021-02-05T00:00:00Z'))], failedAt)?.id, 'only');
    assert.equal(pickTraceLog([], failedAt), null);
  });
});

void describe('failureOccurrenceKey', () => {
  void it('is stable when only updatedAt moves, and changes with a new run (new log file time)', () => {
    const a = resource();
    const touched = resource({ updatedAt: '2021-02-03T22:00:00.000Z' });
    const rerun = resource({ reason: a.reason!.replace('21:43:22.365Z', '23:10:00.000Z') });
    assert.equal(failureOccurrenceKey(a, 1), failureOccurrenceKey(touched, 2));
    assert.notEqual(failureOccurrenceKey(a, 1), failureOccurrenceKey(rerun, 1));
  });
  void it('uses updatedAt when there is no reason', () => {
    assert.equal(failureOccurrenceKey(resource({ reason: '' }), 42), 'u:42');
  });
});

void describe('toFailureInput', () => {
  void it('maps the resource, its error properties and the TraceLog entries', () => {
    const trace: MdsoResource = {
      ...traceLog('t1', 1612388602),
      properties: {
        start_time_sec: 1612388602,
        orchestration_trace: [
          { timestamp: '21:43:22', resource_id: 'r', process: 'p', state: 'STARTED', elapsed_time: 0 },
          { timestamp: '21:43:40', resource_id: 'r', process: 'p', state: 'FAILED', elapsed_time: '18', categorized_error: 'MDSO | X - Y: z', extra: 1 },
          'not an entry',
        ],
      },
    };
    const input = toFailureInput(resource({ properties: { network_service_error: 'MDSO | X - Y: z', circuit_id: '80.L1XX.005054..CHTR', unrelated: 1 } }), trace);
    assert.equal(input.product, 'ServiceMapper');
    assert.equal(input.circuitId, '80.L1XX.005054..CHTR');
    assert.equal(input.occurredAtMs, Date.parse('2021-02-03T21:48:27.248Z'));
    assert.deepEqual(input.properties, { network_service_error: 'MDSO | X - Y: z' });
    assert.equal(input.orchTrace?.traceLogId, 't1');
    assert.equal(input.orchTrace?.startTimeSec, 1612388602);
    assert.deepEqual(input.orchTrace?.entries, [
      { timestamp: '21:43:22', resource_id: 'r', process: 'p', state: 'STARTED', elapsed_time: 0 },
      { timestamp: '21:43:40', resource_id: 'r', process: 'p', state: 'FAILED', elapsed_time: 18, categorized_error: 'MDSO | X - Y: z' },
    ]);
  });
  void it('without a TraceLog or error properties', () => {
    const input = toFailureInput(resource({ reason: undefined }), null);
    assert.equal(input.orchTrace, null);
    assert.equal(input.reason, '');
    assert.equal(input.properties, undefined);
  });
});
