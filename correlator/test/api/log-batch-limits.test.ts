// POST /api/logs holds its resource and records to the limits OTLP has: a 20 MiB service, a
// 10 MiB env, a 10,000-byte label key or severity were taken, and every answer listing services
// or logs then carried them (GET /api/services answered 20.9 MB). A resource over a limit refuses
// the batch (every record would carry it); a record's field over one refuses that record.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import { decodeLogsRequest } from '../../src/otlp/logs-decoder.js';
import { build } from '../helpers/app.js';
import { logRecord, logRequest, stringValue, text } from '../fixtures/hand-made-otlp.js';

const NAME = 64;
const VALUE = 128;
const LIMITS = { MAX_NAME_BYTES: String(NAME), MAX_ATTRIBUTE_VALUE_BYTES: String(VALUE) };
const x = (n: number) => 'x'.repeat(n);

async function postBatch(t: TestContext, batch: unknown) {
  const app = await build(t, LIMITS);
  const res = await app.inject({ method: 'POST', url: '/api/logs', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(batch) });
  const stored = (await app.inject({ method: 'GET', url: '/api/logs?limit=10' })).json<{ logs: unknown[] }>().logs.length;
  return { res, stored };
}

const record = (extra: Record<string, unknown> = {}) => ({ timestamp: new Date().toISOString(), message: 'ok', ...extra });

describe('POST /api/logs holds a batch to the limits OTLP has', () => {
  const refusals: [title: string, resource: Record<string, string>, message: string][] = [
    ['a service over the name limit', { service: x(NAME + 1) }, `resource.service is ${NAME + 1} bytes, over the name limit of ${NAME} (MAX_NAME_BYTES)`],
    ['a service over it in two-byte characters', { service: 'é'.repeat(NAME / 2 + 1) }, `resource.service is ${NAME + 2} bytes, over the name limit of ${NAME} (MAX_NAME_BYTES)`],
    ['a service over both limits, named by the name limit', { service: x(VALUE + 1) }, `resource.service is ${VALUE + 1} bytes, over the name limit of ${NAME} (MAX_NAME_BYTES)`],
    ['an env over the value limit', { service: 's', env: x(VALUE + 1) }, `resource.env is ${VALUE + 1} bytes, over the limit of ${VALUE} (MAX_ATTRIBUTE_VALUE_BYTES)`],
    ['a host over the value limit', { service: 's', host: x(VALUE + 1) }, `resource.host is ${VALUE + 1} bytes, over the limit of ${VALUE} (MAX_ATTRIBUTE_VALUE_BYTES)`],
  ];
  for (const [title, resource, message] of refusals) {
    it(`refuses the whole batch for ${title} with 400 naming it, storing nothing`, async t => {
      const { res, stored } = await postBatch(t, { resource, records: [record(), record({ message: 'two' })] });
      assert.equal(res.statusCode, 400, res.body);
      const body = res.json<{ code: string; message: string }>();
      assert.deepEqual([body.code, body.message], ['CORR_ERR_BATCH_RESOURCE_OVER_LIMIT', `${message}: the batch is refused, no record of it stored`]);
      assert.equal(stored, 0);
    });
  }

  it('takes a resource at the limits', async t => {
    const { res, stored } = await postBatch(t, { resource: { service: x(NAME), host: x(VALUE), env: x(VALUE) }, records: [record()] });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual([res.json<{ accepted: number }>().accepted, stored], [1, 1]);
  });

  it("refuses a record whose label key or severity is over the name limit, keeping the others", async t => {
    const { res, stored } = await postBatch(t, {
      resource: { service: 's' },
      records: [
        record({ labels: { [x(NAME + 1)]: 'v' } }),
        record({ severity: x(NAME + 1) }),
        record({ labels: { note: x(VALUE + 1) } }),
        record({ message: x(4 * VALUE + 1) }),
        record({ severity: x(NAME), labels: { [x(NAME)]: x(VALUE) }, message: x(4 * VALUE) }),
      ],
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<{ accepted: number; rejected: number; errors: { index: number; message: string }[] }>();
    assert.deepEqual(body.errors, [
      { index: 0, message: `labels key "${x(NAME + 1)}…" is ${NAME + 1} bytes, over the name limit of ${NAME} (MAX_NAME_BYTES)` },
      { index: 1, message: `severity is ${NAME + 1} bytes, over the name limit of ${NAME} (MAX_NAME_BYTES)` },
      { index: 2, message: `labels.note value is ${VALUE + 1} bytes, over the limit of ${VALUE} (MAX_ATTRIBUTE_VALUE_BYTES)` },
      { index: 3, message: `message is ${4 * VALUE + 1} bytes, over the limit of ${4 * VALUE} (4 × MAX_ATTRIBUTE_VALUE_BYTES)` },
    ]);
    assert.deepEqual([body.accepted, body.rejected, stored], [1, 4, 1]);
  });

  it('an OTLP log severity_text is held to the name limit too', () => {
    const rules = keyRulesFromConfig(loadConfig(LIMITS));
    const now = Date.now();
    const withSeverity = (s: string) => Buffer.concat([logRecord(now, { body: stringValue('b') }), text(3, s)]);
    const batch = decodeLogsRequest(logRequest([withSeverity(x(NAME + 1)), withSeverity(x(NAME))]), rules, now);
    assert.deepEqual(batch.rejectionMessages, [`resourceLogs[0].scopeLogs[0].logRecords[0]: log severity_text is ${NAME + 1} bytes, over the name limit of ${NAME} (MAX_NAME_BYTES)`]);
    assert.equal(batch.logs.length, 1);
  });
});
