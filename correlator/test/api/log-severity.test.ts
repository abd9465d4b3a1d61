// "Errors only" on the log routes: an operator looking for a circuit's failures among thousands of
// INFO lines of polling otherwise pages through them, and a limit of INFO lines hides the ERRORs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogListResponse } from '@correlation-station/api-schema';
import { SeverityNumber } from '@opentelemetry/api-logs';
import type { FastifyInstance } from 'fastify';
import { buildLogs, logsProtobuf } from '../fixtures/otel-sdk.js';
import { buildTestApp, postAccepted } from './app-fixture.js';

const T0 = Date.UTC(2026, 11, 6, 13, 0, 0);
// One line per level, newest last; the batch's default (no severity) is INFO.
const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'warning', 'WARN', 'ERROR', 'ERR', 'critical', 'FATAL', 'default'] as const;

async function withLines(t: Parameters<typeof buildTestApp>[0]): Promise<FastifyInstance> {
  const app = await buildTestApp(t);
  await postAccepted(app, '/api/logs', {
    resource: { service: 'arda' },
    records: LEVELS.map((level, i) => ({
      timestamp: new Date(T0 + i * 1000).toISOString(),
      ...(level === 'default' ? {} : { severity: level }),
      message: `line ${level}`,
      circuit_id: 'CKT-SEV',
    })),
  });
  return app;
}

const bodies = (res: { json: <T>() => T }) => res.json<LogListResponse>().logs.map(l => l.body.replace('line ', '')).reverse();

describe('log severity filter', () => {
  const cases: [string, string, string[]][] = [
    ['a name', 'ERROR', ['ERROR', 'ERR', 'critical', 'FATAL']],
    ['a name in lower case', 'error', ['ERROR', 'ERR', 'critical', 'FATAL']],
    ['a number', '17', ['ERROR', 'ERR', 'critical', 'FATAL']],
    ['a warning', 'warning', ['warning', 'WARN', 'ERROR', 'ERR', 'critical', 'FATAL']],
    ['a number within a range (ERROR3)', '19', ['critical', 'FATAL']],
    ['the least there is', '1', [...LEVELS]],
    ['INFO', 'info', ['INFO', 'warning', 'WARN', 'ERROR', 'ERR', 'critical', 'FATAL', 'default']],
    ['FATAL', 'fatal', ['critical', 'FATAL']],
  ];
  for (const [what, value, expected] of cases) {
    it(`lists the logs of ${what} (${value}) or worse, on both routes`, async t => {
      const app = await withLines(t);
      for (const url of [`/api/logs?circuit_id=CKT-SEV&min_severity=${value}`, `/api/circuits/CKT-SEV/logs?min_severity=${value}`]) {
        const res = await app.inject(url);
        assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
        assert.deepEqual(bodies(res), expected, url);
      }
    });
  }

  it('lists everything without the filter, and leaves out an OTLP log of no severity with it', async t => {
    const app = await withLines(t);
    const none = await buildLogs('arda', [
      { body: 'line none', atMs: T0 + 60_000, attributes: { circuit_id: 'CKT-SEV' }, severity: SeverityNumber.UNSPECIFIED, severityText: '' },
    ]);
    await postAccepted(app, '/v1/logs', logsProtobuf(none));
    assert.deepEqual(bodies(await app.inject('/api/logs?circuit_id=CKT-SEV')), [...LEVELS, 'none']);
    assert.deepEqual(bodies(await app.inject('/api/logs?circuit_id=CKT-SEV&min_severity=TRACE')), [...LEVELS]);
  });

  it('reads a row stored with a name and no number (before the decoder filled it) by its name', async t => {
    const app = await withLines(t);
    const db = (app as unknown as { correlator: { store: { db: { prepare: (sql: string) => { run: () => { changes: number } } } } } }).correlator.store.db;
    assert.equal(db.prepare("UPDATE logs SET severity_number = 0 WHERE body IN ('line ERROR', 'line critical', 'line INFO')").run().changes, 3, 'rows made old');
    assert.deepEqual(bodies(await app.inject('/api/logs?circuit_id=CKT-SEV&min_severity=ERROR')), ['ERROR', 'ERR', 'critical', 'FATAL']);
  });

  it('applies the limit to the matching logs, so INFO lines do not hide an ERROR', async t => {
    const app = await withLines(t);
    const res = await app.inject('/api/logs?circuit_id=CKT-SEV&min_severity=ERROR&limit=2');
    assert.deepEqual(bodies(res), ['critical', 'FATAL']);
    assert.equal(res.json<LogListResponse>().truncated, true, 'more matched');
  });

  const refused: [string, string][] = [
    ['an unknown name', 'errors'],
    ['zero, no severity', '0'],
    ['a number past FATAL4', '25'],
    ['a negative number', '-1'],
  ];
  for (const [what, value] of refused) {
    it(`refuses ${what} with a message naming it`, async t => {
      const app = await withLines(t);
      for (const url of [`/api/logs?min_severity=${value}`, `/api/circuits/CKT-SEV/logs?min_severity=${value}`]) {
        const res = await app.inject(url);
        assert.equal(res.statusCode, 400, url);
        assert.match(res.json<{ message: string }>().message, new RegExp(`^min_severity "${value}" is no severity`), url);
      }
    });
  }
});
