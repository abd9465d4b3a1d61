// Items the store will not keep as the sender expects are stored and answered with a warning: an
// 8-day-old circuit acknowledged with an empty 200 and gone after the next sweep was a mystery, and
// one dated a year ahead stayed first in every "most recent" list.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogBatchResponse } from '@correlation-station/api-schema';
import { buildLogs, buildTraces, logsProtobuf, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { otlpTypes } from '../../src/otlp/schema.js';
import { timeWarnings } from '../../src/ingest/time-warnings.js';
import { buildTestApp } from './app-fixture.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);

describe('time warnings', () => {
  const cases: [string, [number, number][], string[]][] = [
    ['items within retention and the hour ahead', [[NOW - 6 * DAY, NOW - 6 * DAY], [NOW + 50 * 60_000, NOW + 50 * 60_000]], []],
    ['an item older than retention', [[NOW - 8 * DAY, NOW - 8 * DAY]], ['old']],
    ['an item ending inside retention, started before it', [[NOW - 8 * DAY, NOW - 6 * DAY]], []],
    ['an item over an hour ahead', [[NOW + 2 * 3_600_000, NOW + 2 * 3_600_000]], ['ahead']],
    ['both, counted', [[NOW - 9 * DAY, NOW - 9 * DAY], [NOW - 8 * DAY, NOW - 8 * DAY], [NOW + 366 * DAY, NOW + 366 * DAY]], ['2 old', '1 ahead']],
  ];
  for (const [what, items, expected] of cases) {
    it(`warns of ${what}: ${expected.join(', ') || 'nothing'}`, () => {
      const warnings = timeWarnings(items, i => i[0], i => i[1], 'span(s)', NOW, { retentionDays: 7 });
      assert.equal(warnings.length, expected.length, warnings.join(' | '));
      for (const [i, e] of expected.entries()) {
        const [count, kind] = e.includes(' ') ? e.split(' ') : [undefined, e];
        assert.match(warnings[i]!, kind === 'old' ? /older than the retention of 7 days \(RETENTION_DAYS\)/ : /over an hour ahead of this server's clock/, warnings[i]);
        if (count) assert.ok(warnings[i]!.startsWith(`${count} span(s)`), warnings[i]);
      }
    });
  }

  it('answers an old and a future span in partial_success, with nothing rejected, and stores both', async t => {
    const app = await buildTestApp(t);
    const now = Date.now();
    const traces = await buildTraces([
      { service: 'beorn', spans: [{ name: 'old', startMs: now - 8 * DAY, endMs: now - 8 * DAY + 5, attributes: { circuit_id: 'CKT-OLD' } }] },
      { service: 'beorn', spans: [{ name: 'ahead', startMs: now + 2 * HOUR, endMs: now + 2 * HOUR + 5, attributes: { circuit_id: 'CKT-AHEAD' } }] },
    ]);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/traces',
      headers: { 'content-type': 'application/x-protobuf' },
      payload: tracesProtobuf(traces.flatMap(tr => tr.spans)),
    });
    assert.equal(res.statusCode, 200, res.body);
    const { partialSuccess } = otlpTypes().ExportTraceServiceResponse.decode(res.rawPayload).toJSON() as {
      partialSuccess?: { rejectedSpans?: string; errorMessage: string };
    };
    assert.ok(partialSuccess, 'a partial_success carries the warnings');
    assert.equal(partialSuccess.rejectedSpans ?? '0', '0', 'nothing rejected');
    assert.match(partialSuccess.errorMessage, /^1 span\(s\) older than the retention of 7 days \(RETENTION_DAYS\) stored: .*\. 1 span\(s\) dated over an hour ahead/);
    for (const id of ['CKT-OLD', 'CKT-AHEAD']) assert.equal((await app.inject(`/api/circuits/${id}`)).statusCode, 200, `${id} stored`);
  });

  it('answers old logs with a warning on OTLP and on the JSON batch', async t => {
    const app = await buildTestApp(t, { RETENTION_DAYS: '2' });
    const old = Date.now() - 3 * DAY;
    const otlp = await app.inject({
      method: 'POST',
      url: '/v1/logs',
      headers: { 'content-type': 'application/x-protobuf' },
      payload: logsProtobuf(await buildLogs('arda', [{ body: 'circuit_id=CKT-L old', atMs: old }])),
    });
    const { partialSuccess } = otlpTypes().ExportLogsServiceResponse.decode(otlp.rawPayload).toJSON() as { partialSuccess?: { errorMessage: string } };
    assert.match(partialSuccess?.errorMessage ?? '', /^1 log record\(s\) older than the retention of 2 days/, otlp.body);
    const batch = await app.inject({
      method: 'POST',
      url: '/api/logs',
      payload: { resource: { service: 'arda' }, records: [{ timestamp: new Date(old).toISOString(), message: 'x', circuit_id: 'CKT-B' }, { timestamp: new Date().toISOString(), message: 'y', circuit_id: 'CKT-B' }] },
    });
    assert.equal(batch.statusCode, 200, batch.body);
    const body = batch.json<LogBatchResponse>();
    assert.deepEqual([body.accepted, body.rejected], [2, 0]);
    assert.equal(body.warnings.length, 1, JSON.stringify(body.warnings));
    assert.match(body.warnings[0]!, /^1 log record\(s\) older than the retention of 2 days/);
  });
});
