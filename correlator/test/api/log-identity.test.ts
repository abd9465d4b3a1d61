// A replay or a client's retry of a log record is stored once; two records that differ in anything
// their sender set are two records, however alike their time and text (log-identity.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogBatchResponse } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { buildLogs, logsJson, logsProtobuf, setLogTimes, type LogSpec } from '../fixtures/otel-sdk.js';
import { buildTestApp } from './app-fixture.js';

const T0 = Date.now() - 60_000;
const at = new Date(T0).toISOString();

async function postBatch(app: FastifyInstance, resource: Record<string, string>, records: Record<string, unknown>[]) {
  const res = await app.inject({ method: 'POST', url: '/api/logs', payload: { resource, records } });
  assert.equal(res.statusCode, 200, res.body);
  const { accepted, duplicates } = res.json<LogBatchResponse>();
  return { accepted, duplicates };
}

async function postOtlp(app: FastifyInstance, service: string, specs: LogSpec[], resource: Record<string, string> = {}) {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/logs',
    headers: { 'content-type': 'application/x-protobuf' },
    payload: logsProtobuf(await buildLogs(service, specs, resource)),
  });
  assert.equal(res.statusCode, 200, res.body);
}

async function logsOf(app: FastifyInstance, query: string): Promise<{ body: string }[]> {
  const res = await app.inject(`/api/logs?limit=100&${query}`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json<{ logs: { body: string }[] }>().logs;
}

describe('which log records are the same record', () => {
  const line = { timestamp: at, severity: 'ERROR', message: 'activation started' };
  const batchCases: [string, Record<string, string>, Record<string, unknown>, Record<string, string>, Record<string, unknown>][] = [
    ['another circuit_id', { service: 'beorn' }, { ...line, circuit_id: 'C-A' }, { service: 'beorn' }, { ...line, circuit_id: 'C-B' }],
    ['another request_id', { service: 'beorn' }, { ...line, request_id: 'R-1' }, { service: 'beorn' }, { ...line, request_id: 'R-2' }],
    ['another product_id', { service: 'beorn' }, { ...line, product_id: 'P-1' }, { service: 'beorn' }, { ...line, product_id: 'P-2' }],
    ['another resource_id', { service: 'beorn' }, { ...line, resource_id: 'R-A' }, { service: 'beorn' }, { ...line, resource_id: 'R-B' }],
    ['another host', { service: 'beorn', host: 'node-1' }, line, { service: 'beorn', host: 'node-2' }, line],
    ['another environment', { service: 'beorn', env: 'prod' }, line, { service: 'beorn', env: 'lab' }, line],
  ];
  for (const [title, resA, a, resB, b] of batchCases) {
    it(`keeps two batch API records that differ only in ${title}, and a retry of each adds none`, async t => {
      const app = await buildTestApp(t);
      assert.deepEqual(await postBatch(app, resA, [a]), { accepted: 1, duplicates: 0 });
      assert.deepEqual(await postBatch(app, resB, [b]), { accepted: 1, duplicates: 0 });
      assert.deepEqual(await postBatch(app, resB, [b]), { accepted: 1, duplicates: 1 });
      assert.deepEqual(await postBatch(app, resA, [a]), { accepted: 1, duplicates: 1 });
      assert.equal((await logsOf(app, 'service=beorn')).length, 2);
    });
  }

  it('keeps the same OTLP line from two hosts, each on the circuit its resource names', async t => {
    const app = await buildTestApp(t);
    const spec = { body: 'PeServiceProvisioner failed', atMs: T0, severity: SeverityNumber.ERROR, severityText: 'ERROR' };
    for (let i = 0; i < 2; i++) {
      await postOtlp(app, 'mdso', [spec], { 'host.name': 'mdso-node-1', 'mdso.circuit_id': 'C-NODE-1' });
      await postOtlp(app, 'mdso', [spec], { 'host.name': 'mdso-node-2', 'mdso.circuit_id': 'C-NODE-2' });
    }
    assert.equal((await logsOf(app, 'circuit_id=C-NODE-1')).length, 1);
    assert.equal((await logsOf(app, 'circuit_id=C-NODE-2')).length, 1);
    assert.equal((await app.inject('/api/circuits/C-NODE-2')).statusCode, 200);
  });

  it('keeps two OTLP records that differ only in severity number', async t => {
    const app = await buildTestApp(t);
    const spec = { body: 'circuit_id=C-SEV port flap', atMs: T0, severityText: 'WARN' };
    for (let i = 0; i < 2; i++) {
      await postOtlp(app, 'arda', [{ ...spec, severity: SeverityNumber.WARN }]);
      await postOtlp(app, 'arda', [{ ...spec, severity: SeverityNumber.ERROR }]);
    }
    assert.equal((await logsOf(app, 'circuit_id=C-SEV')).length, 2);
  });

  it('stores a record with neither time once when its request is retried later, and again in another request', async t => {
    const app = await buildTestApp(t);
    // Dated by its arrival (log-times.test.ts), which differs between the two tries.
    const timeless = async (body: string) => {
      const records = await buildLogs('arda', [{ body, atMs: T0 }]);
      for (const r of records) setLogTimes(r, 0n, 0n);
      return records;
    };
    const up = await timeless('circuit_id=C-TIMELESS port up');
    const down = await timeless('circuit_id=C-TIMELESS port down');
    const post = async (payload: Buffer | object) => {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/logs',
        payload,
        ...(Buffer.isBuffer(payload) ? { headers: { 'content-type': 'application/x-protobuf' } } : {}),
      });
      assert.equal(res.statusCode, 200, res.body);
    };
    const waitAMillisecond = () => new Promise(resolve => setTimeout(resolve, 3));
    const bodies = async () => (await logsOf(app, 'circuit_id=C-TIMELESS')).map(l => l.body).sort();
    for (const payload of [logsProtobuf(up), logsJson(down) as object]) {
      await post(payload);
      await waitAMillisecond();
      await post(payload);
      await waitAMillisecond();
    }
    assert.deepEqual(await bodies(), ['circuit_id=C-TIMELESS port down', 'circuit_id=C-TIMELESS port up']);
    // The same line beside another is another request: a sender wrote it again.
    const again = logsProtobuf([...(await timeless('circuit_id=C-TIMELESS port flap')), ...up]);
    await post(again);
    await waitAMillisecond();
    await post(again);
    assert.deepEqual(await bodies(), [
      'circuit_id=C-TIMELESS port down',
      'circuit_id=C-TIMELESS port flap',
      'circuit_id=C-TIMELESS port up',
      'circuit_id=C-TIMELESS port up',
    ]);
  });
});
