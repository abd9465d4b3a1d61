import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogListResponse } from '@correlation-station/api-schema';
import { completeSeverity, severityNumberOfText, severityTextOfNumber } from '../../src/otlp/severity.js';
import type { FastifyInstance } from 'fastify';
import { buildTestApp } from '../api/app-fixture.js';

/** OTLP/JSON log records of one `filelog` resource, each given its severity fields, one ms apart from `at`. */
function postRecords(app: FastifyInstance, at: number, severities: Record<string, unknown>[], body = (i: number) => `line ${i}`) {
  const logRecords = severities.map((severity, i) => ({ timeUnixNano: String(BigInt(at + i) * 1_000_000n), body: { stringValue: body(i) }, ...severity }));
  return app.inject({
    method: 'POST',
    url: '/v1/logs',
    headers: { 'content-type': 'application/json' },
    payload: {
      resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'filelog' } }] }, scopeLogs: [{ logRecords }] }],
    },
  });
}

describe('severity', () => {
  const texts: [string, number][] = [
    ['TRACE', 1],
    ['debug', 5],
    ['Info', 9],
    ['INFO3', 11],
    ['NOTICE', 10],
    ['warn', 13],
    ['WARNING', 13],
    ['ERROR', 17],
    [' error ', 17],
    ['ERROR4', 20],
    ['ERR', 17],
    ['SEVERE', 17],
    ['CRITICAL', 21],
    ['FATAL', 21],
    ['FATAL4', 24],
    ['EMERG', 23],
    ['', 0],
    ['ERROR5', 0],
    ['bogus', 0],
  ];
  for (const [text, n] of texts) it(`text ${JSON.stringify(text)} is number ${n}`, () => assert.equal(severityNumberOfText(text), n));

  const numbers: [number, string][] = [
    [0, ''],
    [1, 'TRACE'],
    [8, 'DEBUG4'],
    [9, 'INFO'],
    [13, 'WARN'],
    [17, 'ERROR'],
    [18, 'ERROR2'],
    [24, 'FATAL4'],
    [25, ''],
    [-1, ''],
  ];
  for (const [n, text] of numbers) it(`number ${n} is text ${JSON.stringify(text)}`, () => assert.equal(severityTextOfNumber(n), text));

  it('a name of each number is read back as that number', () => {
    for (let n = 1; n <= 24; n++) assert.equal(severityNumberOfText(severityTextOfNumber(n)), n, `number ${n}`);
  });

  it('keeps both fields when both are given, even when they disagree, and a number out of range', () => {
    assert.deepEqual(completeSeverity(9, 'ERROR'), { severityNumber: 9, severityText: 'ERROR' });
    assert.deepEqual(completeSeverity(-1, 'ERROR'), { severityNumber: -1, severityText: 'ERROR' });
    assert.deepEqual(completeSeverity(-1, ''), { severityNumber: -1, severityText: '' });
  });

  it('an OTLP log with only a text, or only a number, is listed with both', async t => {
    const app = await buildTestApp(t);
    const at = Date.UTC(2026, 11, 6, 11, 0, 0);
    const res = await postRecords(app, at, [
      { severityText: 'ERROR' },
      { severityNumber: 13 },
      { severityNumber: 'SEVERITY_NUMBER_FATAL', severityText: 'panic' },
      {},
    ]);
    assert.equal(res.statusCode, 200, res.body);
    const logs = (await app.inject('/api/logs')).json<LogListResponse>().logs;
    assert.deepEqual(
      logs.map(l => [l.body, l.severityNumber, l.severityText]).reverse(),
      [
        ['line 0', 17, 'ERROR'],
        ['line 1', 13, 'WARN'],
        ['line 2', 21, 'panic'],
        ['line 3', 0, ''],
      ],
    );
  });

  it('takes a number outside OTLP\'s 1-24 as unspecified, by its text, and warns', async t => {
    const app = await buildTestApp(t);
    const at = Date.now() - 60_000;
    const res = await postRecords(
      app,
      at,
      [{ severityNumber: 99, severityText: 'INFO' }, { severityNumber: -1 }, { severityNumber: 24 }],
      i => `circuit_id=SEV-RANGE line ${i}`,
    );
    assert.equal(res.statusCode, 200, res.body);
    const message = res.json<{ partialSuccess?: { errorMessage?: string } }>().partialSuccess?.errorMessage ?? '';
    assert.match(message, /severity_number 99 is outside OTLP's 1–24: taken as unspecified, its severity read from its text/);
    assert.match(message, /severity_number -1 is outside/);
    const logs = (await app.inject('/api/logs?circuit_id=SEV-RANGE')).json<LogListResponse>().logs;
    assert.deepEqual(
      logs.map(l => [l.body.slice(-6), l.severityNumber]).reverse(),
      [
        ['line 0', 9],
        ['line 1', 0],
        ['line 2', 24],
      ],
    );
  });
});
