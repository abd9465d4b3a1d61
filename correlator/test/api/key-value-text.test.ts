// A key value is taken without white space at either end, and not at all with an invisible
// character: " WSX1", "WSX1 ", "\u00a0WSX1" and "WSX1\u200b" were four more circuits that look
// like WSX1 everywhere they are listed, without a word to the sender. Found by a black-box review.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CircuitListResponse, LogBatchResponse } from '@correlation-station/api-schema';
import { buildLogs, buildTraces, logsProtobuf, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { buildTestApp, postAccepted } from './app-fixture.js';

/** One beorn span a trace, each naming one of `circuitIds`, a millisecond apart from `at`. */
async function postBeornSpans(app: Awaited<ReturnType<typeof buildTestApp>>, at: number, circuitIds: string[]): Promise<void> {
  const traces = await buildTraces(
    circuitIds.map((circuit_id, i) => ({
      service: 'beorn',
      spans: [{ name: `s${i}`, startMs: at + i, endMs: at + i + 1, attributes: { circuit_id } }],
    })),
  );
  await postAccepted(app, '/v1/traces', tracesProtobuf(traces.flatMap(x => x.spans)));
}

test('white space around a key value is dropped, in span attributes, batch fields and log text', async t => {
  const app = await buildTestApp(t);
  const at = Date.now() - 60_000;
  await postBeornSpans(app, at, ['WSX1', ' WSX1', 'WSX1 ', '\u00a0WSX1', 'WSX1\t']);
  const batch = await app.inject({
    method: 'POST',
    url: '/api/logs',
    payload: {
      resource: { service: 'arda' },
      records: [
        { timestamp: new Date(at).toISOString(), message: 'explicit', circuit_id: ' WSX1 ' },
        { timestamp: new Date(at).toISOString(), message: 'in the text circuit_id=WSX1\u00a0and more' },
        { timestamp: new Date(at).toISOString(), message: 'invisible', circuit_id: 'WSX1\u200b' },
      ],
    },
  });
  assert.equal(batch.statusCode, 200, batch.body);
  assert.deepEqual(batch.json<LogBatchResponse>().errors, [{ index: 2, message: 'circuit_id has an invisible character (U+200B)' }]);
  const list = (await app.inject('/api/circuits')).json<CircuitListResponse>();
  assert.deepEqual(
    list.circuits.map(c => [c.circuitId, c.traceCount, c.logCount]),
    [['WSX1', 5, 2]],
  );
});

test('"." and ".." are no key values: a URL cannot name them, so such a circuit could be listed and not opened', async t => {
  const app = await buildTestApp(t);
  const at = Date.now() - 60_000;
  await postBeornSpans(app, at, ['..', '.', '...', 'DOT.1']);
  const batch = await app.inject({
    method: 'POST',
    url: '/api/logs',
    payload: { resource: { service: 'arda' }, records: [{ timestamp: new Date(at).toISOString(), message: 'dots', circuit_id: '..' }] },
  });
  assert.equal(batch.statusCode, 200, batch.body);
  assert.deepEqual(batch.json<LogBatchResponse>().errors, [{ index: 0, message: 'circuit_id is "..", a dot segment no URL path can name' }]);
  const list = (await app.inject('/api/circuits')).json<CircuitListResponse>();
  assert.deepEqual(list.circuits.map(c => c.circuitId).sort(), ['...', 'DOT.1']);
});

test("a program's word for no value (None, null, nil, <nil>, undefined, NaN, n/a) is no key value", async t => {
  const app = await buildTestApp(t);
  const at = Date.now() - 60_000;
  await postBeornSpans(app, at, ['None', 'null', 'NIL', '<nil>', 'undefined', 'NaN', 'n/a', 'NONE-1']);
  const traces = await buildTraces(
    ['palantir', 'arda'].map((service, i) => ({ service, spans: [{ name: `op${i}`, startMs: at + 100 + i * 10, endMs: at + 105 + i * 10 }] })),
  );
  await postAccepted(app, '/v1/traces', tracesProtobuf(traces.flatMap(x => x.spans)));
  // Two unrelated requests logging a missing circuit, as Python's str(None) and a JSON line print it.
  const records = await buildLogs('palantir', [
    { body: 'validate circuit_id=None', atMs: at + 101, traceId: traces[0]!.traceId },
    { body: '{"event": "lookup", "circuit_id": null}', atMs: at + 111, traceId: traces[1]!.traceId },
  ]);
  await postAccepted(app, '/v1/logs', logsProtobuf(records));
  const batch = await app.inject({
    method: 'POST',
    url: '/api/logs',
    payload: { resource: { service: 'arda' }, records: [{ timestamp: new Date(at).toISOString(), message: 'missing', circuit_id: 'None' }] },
  });
  assert.deepEqual(batch.json<LogBatchResponse>().errors, [{ index: 0, message: 'circuit_id is "None", a program\'s word for no value' }]);
  const list = (await app.inject('/api/circuits')).json<CircuitListResponse>();
  assert.deepEqual(list.circuits.map(c => c.circuitId), ['NONE-1']);
});

test('the words code puts for a missing value, and unfilled template placeholders, are no key values (RV20)', async t => {
  // Each was a circuit that bridged unrelated activations: what a Flask app logs or tags when the
  // X-Circuit-Id header is missing. Values that only look like them are still circuits.
  const app = await buildTestApp(t);
  const at = Date.now() - 60_000;
  const none = ['unknown', 'UNKNOWN', 'Unset', 'missing', 'TBD', 'empty', '-', '--', '?', '0', '%s', '%(circuit_id)s', '{circuit_id}', '{}', '{{ circuit_id }}', '${CIRCUIT_ID}', '$CIRCUIT_ID', '<circuit_id>', '%v', '#{circuit_id}', '%{circuit_id}', '{circuit-id}', '{ circuit_id }'];
  const kept = ['UNKNOWN-7', '0.1', '-1', '00', '%2F', '{x}y', '$', 'a<b>'];
  await postBeornSpans(app, at, [...none, ...kept]);
  const batch = await app.inject({
    method: 'POST',
    url: '/api/logs',
    payload: {
      resource: { service: 'arda' },
      records: [
        { timestamp: new Date(at).toISOString(), message: 'missing', circuit_id: 'unknown' },
        { timestamp: new Date(at).toISOString(), message: 'unfilled', circuit_id: '{circuit_id}' },
      ],
    },
  });
  assert.deepEqual(batch.json<LogBatchResponse>().errors, [
    { index: 0, message: 'circuit_id is "unknown", a program\'s word for no value' },
    { index: 1, message: 'circuit_id is "{circuit_id}", a template\'s placeholder left unfilled' },
  ]);
  const list = (await app.inject('/api/circuits')).json<CircuitListResponse>();
  assert.deepEqual(list.circuits.map(c => c.circuitId).sort(), [...kept].sort());
});
