// What makes two log records one record (log-identity.ts): alike in everything the sender set but
// the observed time, however its attributes are ordered and whatever the configured patterns read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import { convertLogBatch } from '../../src/ingest/log-batch.js';
import { decodeLogsRequest } from '../../src/otlp/logs-decoder.js';
import { logContentHash } from '../../src/store/log-identity.js';
import { SeverityNumber, type AnyValueMap } from '@opentelemetry/api-logs';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { buildLogs, logsProtobuf, setLogTimes, type LogSpec } from '../fixtures/otel-sdk.js';

const NOW = Date.now();
const rules = keyRulesFromConfig(loadConfig({}));

async function otlpHash(attributes: Record<string, string>, observedNs?: bigint): Promise<string> {
  const records = await buildLogs('arda', [{ body: 'link down', atMs: NOW - 1000, attributes }]);
  if (observedNs !== undefined) setLogTimes(records[0]!, BigInt(NOW - 1000) * 1_000_000n, observedNs);
  return logContentHash(decodeLogsRequest(logsProtobuf(records), rules).logs[0]!);
}

async function bodyHash(body: string | AnyValueMap): Promise<string> {
  const records = await buildLogs('arda', [{ body, atMs: NOW - 1000 }]);
  return logContentHash(decodeLogsRequest(logsProtobuf(records), rules).logs[0]!);
}

/** An INFO "link down" record, or one the given spec or change makes differ from it in one thing. */
async function recordHash(spec: Partial<LogSpec> = {}, change?: (r: ReadableLogRecord) => void): Promise<string> {
  const records = await buildLogs('arda', [{ body: 'link down', atMs: NOW - 1000, ...spec }]);
  change?.(records[0]!);
  return logContentHash(decodeLogsRequest(logsProtobuf(records), rules).logs[0]!);
}

/** The record as if its logger had been made with another scope (the SDK sets it at getLogger). */
const inScope = (name: string, version?: string) => (r: ReadableLogRecord) =>
  Object.defineProperty(r, 'instrumentationScope', { value: { name, ...(version === undefined ? {} : { version }) } });

function batchHash(record: Record<string, unknown>, patterns?: string): string {
  const r = patterns === undefined ? rules : keyRulesFromConfig(loadConfig({ LOG_KEY_PATTERNS: patterns }));
  const out = convertLogBatch({ resource: { service: 'bpocore' }, records: [{ timestamp: new Date(NOW - 1000).toISOString(), message: 'failed ckt CID-9', ...record }] } as never, r, NOW);
  assert.deepEqual(out.errors, []);
  return logContentHash(out.logs[0]!);
}

describe('log record identity', () => {
  it('is the same for OTLP attributes in another order', async () => {
    assert.equal(await otlpHash({ a: '1', b: '2', c: '3' }), await otlpHash({ c: '3', a: '1', b: '2' }));
  });

  it('differs for another attribute value', async () => {
    assert.notEqual(await otlpHash({ a: '1', b: '2' }), await otlpHash({ a: '1', b: '3' }));
  });

  it("is the same for a structured body's entries in another order, maps within it too", async () => {
    const a = { event: 'activate', circuit: { id: 'CID-1', hop: 'arda' }, steps: [{ n: 1, ok: true }] };
    const b = { steps: [{ ok: true, n: 1 }], circuit: { hop: 'arda', id: 'CID-1' }, event: 'activate' };
    assert.equal(await bodyHash(b), await bodyHash(a));
  });

  it('differs for a structured body with another value, or its entries in another list order', async () => {
    const a = await bodyHash({ event: 'activate', circuit: { id: 'CID-1' }, steps: [1, 2] });
    assert.notEqual(await bodyHash({ event: 'activate', circuit: { id: 'CID-2' }, steps: [1, 2] }), a);
    assert.notEqual(await bodyHash({ event: 'activate', circuit: { id: 'CID-1' }, steps: [2, 1] }), a);
  });

  it('differs for text bodies that differ only in the order of what they write', async () => {
    assert.notEqual(await bodyHash('{"a":"1","b":"2"}'), await bodyHash('{"b":"2","a":"1"}'));
  });

  const alone: [string, Partial<LogSpec>, ((r: ReadableLogRecord) => void)?][] = [
    ['its severity text (the number the same)', { severityText: 'NOTICE' }],
    ['its severity number (the text the same)', { severity: SeverityNumber.INFO2 }],
    ['its scope version', {}, inScope('correlator-tests', '2.0.0')],
    ['its scope name', {}, inScope('correlator-tests.worker')],
  ];
  for (const [what, spec, change] of alone) {
    it(`differs for a record that differs only in ${what}`, async () => {
      const base = await recordHash();
      assert.equal(await recordHash(), base, 'the same record is the same');
      assert.notEqual(await recordHash(spec, change), base);
    });
  }

  it('is the same for a replay with a new observed time', async () => {
    assert.equal(await otlpHash({ a: '1' }, 1n), await otlpHash({ a: '1' }, BigInt(NOW) * 1_000_000n));
  });

  it("is the same for a batch record read with other LOG_KEY_PATTERNS, and its labels in another order", () => {
    const before = batchHash({ labels: { x: '1', y: '2' } });
    assert.equal(batchHash({ labels: { y: '2', x: '1' } }, '[{"key":"circuit_id","pattern":"ckt (\\\\S+)"}]'), before);
  });

  it("differs for a batch record's other key field", () => {
    assert.notEqual(batchHash({ circuit_id: 'A' }), batchHash({ circuit_id: 'B' }));
    assert.notEqual(batchHash({ circuit_id: 'A' }), batchHash({}));
  });
});
