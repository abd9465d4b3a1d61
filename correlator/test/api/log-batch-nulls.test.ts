// The JSON log batch as Python senders write it: json.dumps turns None into null, so a record
// outside a span says `"trace_id": null`. Such fields are fields not given; a required one stays
// required. A bare list of records is told what a batch is (RV17).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp } from './app-fixture.js';

const at = () => new Date(Date.now() - 60_000).toISOString();

test('a record whose optional fields are null is stored as if they were not given', async t => {
  const app = await buildTestApp(t);
  const res = await app.inject({
    method: 'POST',
    url: '/api/logs',
    payload: {
      resource: { service: 'beorn' },
      records: [
        { timestamp: at(), message: 'activation queued circuit_id=C-NULLS', trace_id: null, span_id: null, severity: null, labels: null, circuit_id: null, resource_id: null },
        { timestamp: at(), message: 'keyed by its field', circuit_id: 'C-NULLS', request_id: null },
        { timestamp: null, message: 'no time' },
        { timestamp: at(), message: null },
      ],
    },
  });
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json<{ accepted: number; rejected: number; errors: { index: number; message: string }[] }>();
  assert.deepEqual([body.accepted, body.rejected, body.errors.map(e => e.index)], [2, 2, [2, 3]]);
  assert.equal(body.errors[0]!.message, 'timestamp is missing: give an RFC 3339 time with a zone (2026-01-01T00:00:00.000Z)');
  assert.match(body.errors[1]!.message, /^message must be a string/);
  const logs = (await app.inject('/api/circuits/C-NULLS/logs')).json<{ logs: { body: string; severityText: string; traceId: string }[] }>().logs;
  assert.deepEqual(logs.map(l => [l.body, l.severityText, l.traceId]).sort(), [
    ['activation queued circuit_id=C-NULLS', 'INFO', ''],
    ['keyed by its field', 'INFO', ''],
  ]);
});

for (const [title, payload, got] of [
  ['a bare list of records', [{ timestamp: '2026-01-01T00:00:00Z', message: 'm' }], 'a list (of records?)'],
  ['null', null, 'null'],
  ['a string', '"records"', 'a string'],
] as const) {
  test(`a batch that is ${title} is a 400 that says what a batch is`, async t => {
    const app = await buildTestApp(t);
    const res = await app.inject({ method: 'POST', url: '/api/logs', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
    assert.equal(res.statusCode, 400, res.body);
    const body = res.json<{ code: string; message: string }>();
    assert.equal(body.code, 'CORR_ERR_BAD_BATCH');
    assert.equal(body.message, `the batch is ${got}, not an object: send {"resource": {"service": ...}, "records": [...]}`);
  });
}
