// An attribute an alias names whose value is an array names every member as a value of its key: a
// bulk activation's span carrying circuit_id ["ARRX-1", "ARRX-2"] belongs to both circuits. Only
// the first was taken, the sender told the others were not. Members that are no key value are
// skipped, and the sender told which.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Attributes } from '@opentelemetry/api';
import { loadConfig } from '../../src/config/config.js';
import { MAX_MORE_KEYS } from '../../src/correlation/types.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import { normaliseLogsJson, normaliseTraceJson } from '../../src/otlp/json-normaliser.js';
import { extractLogKeys } from '../../src/otlp/log-keys.js';
import { decodeLogsRequest } from '../../src/otlp/logs-decoder.js';
import { decodeTraceRequest } from '../../src/otlp/trace-decoder.js';
import { buildLogs, buildTraces, logsJson, logsProtobuf, tracesJson, tracesProtobuf } from '../fixtures/otel-sdk.js';

const T0 = Date.now() - 60_000;
const rules = keyRulesFromConfig(loadConfig({}));
const SPAN0 = 'resourceSpans[0].scopeSpans[0].spans[0]';
const many = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('an array an alias names gives its key every member', () => {
  const cases: [title: string, resource: Attributes | undefined, attributes: Attributes, keys: Record<string, string>, more: string[] | null, warning: string | null][] = [
    ['a circuit_id of two values', undefined, { circuit_id: ['ARRX-1', 'ARRX-2'] }, { circuit_id: 'ARRX-1' }, ['circuit_id', 'ARRX-2'], null],
    ['a circuit_id of one value in an array', undefined, { circuit_id: ['ARRX-1'] }, { circuit_id: 'ARRX-1' }, null, null],
    ['an empty array names nothing, without a warning', undefined, { circuit_id: [] }, {}, null, null],
    ['members trimmed and named once', undefined, { circuit_id: ['A', ' A ', 'B', 'B\n'] }, { circuit_id: 'A' }, ['circuit_id', 'B'], null],
    ['a first member that is no key value: the next is the first value', undefined, { circuit_id: ['C-1\nC-2', 'ARRX-2'] }, { circuit_id: 'ARRX-2' }, null,
      `${SPAN0}: attribute "circuit_id" value [0] has control characters: kept, but not taken as the circuit_id`],
    ['an empty member, a long one and an invisible character', undefined, { 'circuit.id': ['X', ' ', 'c'.repeat(513), 'Y\u200b'] }, { circuit_id: 'X' }, null,
      `${SPAN0}: attribute "circuit.id" value [1] is empty, [2] is 513 characters, over the key limit of 512, [3] has an invisible character (U+200B): kept, but not taken as the circuit_id`],
    ['more than three refused members are counted', undefined, { circuit_id: ['a\u0000', 'b\u0000', 'OK', 'c\u0000', 'd\u0000', 'e\u0000'] }, { circuit_id: 'OK' }, null,
      `${SPAN0}: attribute "circuit_id" value [0] has control characters, [1] has control characters, [3] has control characters and 2 more: kept, but not taken as the circuit_id`],
    ['int members, as an int value is', undefined, { request_id: [4711, 4712] }, { request_id: '4711' }, ['request_id', '4712'], null],
    ['bool members are no key values', undefined, { circuit_id: [true, false] }, {}, null,
      `${SPAN0}: attribute "circuit_id" value [0] is not a string or a number, [1] is not a string or a number: kept, but not taken as the circuit_id`],
    ['arrays of two keys', undefined, { circuit_id: ['A', 'B'], resource_id: ['R1', 'R2', 'R3'] }, { circuit_id: 'A', resource_id: 'R1' },
      ['circuit_id', 'B', 'resource_id', 'R2', 'resource_id', 'R3'], null],
    ['a resource array', { circuit_id: ['R-1', 'R-2', 'R-3'] }, {}, { circuit_id: 'R-1' }, ['circuit_id', 'R-2', 'circuit_id', 'R-3'], null],
    ['a resource array under a span value: the span wins, as over a single value', { circuit_id: ['R-1', 'R-2'] }, { circuit_id: 'S' }, { circuit_id: 'S' }, null, null],
    ['a resource array beside a span array of another key', { product_id: ['P1', 'P2'] }, { circuit_id: ['A', 'B'] }, { product_id: 'P1', circuit_id: 'A' },
      ['product_id', 'P2', 'circuit_id', 'B'], null],
    ['a resource array under a span array of its key', { circuit_id: ['R-1', 'R-2'] }, { circuit_id: ['A', 'B'] }, { circuit_id: 'A' }, ['circuit_id', 'B'], null],
    [`members beyond the ${MAX_MORE_KEYS} further values an item names`, undefined, { circuit_id: many(MAX_MORE_KEYS + 44, 'C') }, { circuit_id: 'C-0' },
      many(MAX_MORE_KEYS + 1, 'C').slice(1).flatMap(v => ['circuit_id', v]),
      `${SPAN0}: attribute "circuit_id" value has 43 more values than the ${MAX_MORE_KEYS} further key values an item names: kept, but not taken as the circuit_id`],
  ];
  for (const [title, resource, attributes, keys, more, warning] of cases) {
    it(title, async () => {
      const [t] = await buildTraces([{ service: 'beorn', resource, spans: [{ name: 's', startMs: T0, endMs: T0 + 1, attributes }] }]);
      const json = normaliseTraceJson(tracesJson(t!.spans));
      for (const [form, batch] of [
        ['protobuf', decodeTraceRequest(tracesProtobuf(t!.spans), rules)],
        ['JSON', decodeTraceRequest(json.binary, rules, Date.now(), json.places)],
      ] as const) {
        assert.ok(batch.rejected === 0 && batch.spans.length === 1, `${form}: the span is kept`);
        const span = batch.spans[0]!;
        assert.deepEqual(span.keys ?? {}, keys, `${form}: keys`);
        assert.deepEqual(span.moreKeys ?? null, more, `${form}: further values`);
        assert.deepEqual(batch.warnings, warning ? [warning] : [], `${form}: warnings`);
      }
    });
  }

  it('a span without arrays has no further values', async () => {
    const [t] = await buildTraces([{ service: 'beorn', spans: [{ name: 's', startMs: T0, endMs: T0 + 1, attributes: { circuit_id: 'C' } }] }]);
    const [span] = decodeTraceRequest(tracesProtobuf(t!.spans), rules).spans;
    assert.equal(span!.moreKeys, null);
  });

  it('spans of one request each have their own values', async () => {
    const [t] = await buildTraces([
      {
        service: 'beorn',
        spans: [
          { name: 'bulk', startMs: T0, endMs: T0 + 1, attributes: { circuit_id: ['A', 'B'] } },
          { name: 'one', startMs: T0, endMs: T0 + 1, attributes: { circuit_id: 'C' } },
        ],
      },
    ]);
    const spans = decodeTraceRequest(tracesProtobuf(t!.spans), rules).spans;
    assert.deepEqual(
      spans.map(s => [s.name, s.keys, s.moreKeys]).sort(),
      [['bulk', { circuit_id: 'A' }, ['circuit_id', 'B']], ['one', { circuit_id: 'C' }, null]],
    );
  });

  it('a log record of an array names every member, and warns of the refused ones', async () => {
    const records = await buildLogs('arda', [{ body: 'b', atMs: T0, attributes: { circuit_id: ['ARRX-1', 'ARRX-2', 'x\u0000'] } }]);
    const json = normaliseLogsJson(logsJson(records));
    for (const [form, batch] of [
      ['protobuf', decodeLogsRequest(logsProtobuf(records), rules, T0)],
      ['JSON', decodeLogsRequest(json.binary, rules, T0, json.places)],
    ] as const) {
      assert.ok(batch.rejected === 0 && batch.logs.length === 1, `${form}: kept`);
      assert.deepEqual([batch.logs[0]!.keys, batch.logs[0]!.moreKeys], [{ circuit_id: 'ARRX-1' }, ['circuit_id', 'ARRX-2']], form);
      assert.deepEqual(
        batch.warnings,
        ['resourceLogs[0].scopeLogs[0].logRecords[0]: attribute "circuit_id" value [2] has control characters: kept, but not taken as the circuit_id'],
        form,
      );
    }
  });

  const logCases: [title: string, resource: { keys: Record<string, string>; moreKeys: string[] | null } | null, body: Record<string, string[]> | null, attributes: Record<string, string | string[]>, keys: Record<string, string>, more: string[] | null][] = [
    ['a resource array', { keys: { circuit_id: 'R-1' }, moreKeys: ['circuit_id', 'R-2'] }, null, {}, { circuit_id: 'R-1' }, ['circuit_id', 'R-2']],
    ['a record value over a resource array', { keys: { circuit_id: 'R-1' }, moreKeys: ['circuit_id', 'R-2'] }, null, { circuit_id: 'A' }, { circuit_id: 'A' }, null],
    ['a record array over a body array', null, { circuit_id: ['B-1', 'B-2'] }, { circuit_id: ['A-1', 'A-2'] }, { circuit_id: 'A-1' }, ['circuit_id', 'A-2']],
    ['a body array beside a record value of another key', null, { resource_id: ['R1', 'R2'] }, { circuit_id: 'A' }, { resource_id: 'R1', circuit_id: 'A' }, ['resource_id', 'R2']],
  ];
  for (const [title, resource, body, attributes, keys, more] of logCases) {
    it(`log keys: ${title}`, () => {
      const found = extractLogKeys('', attributes, resource, rules, body);
      assert.deepEqual([found.keys ?? {}, found.more], [keys, more]);
    });
  }

  it("extractLogKeys leaves the resource's values as they were", () => {
    const resource = { keys: { circuit_id: 'R-1' }, moreKeys: ['circuit_id', 'R-2'] };
    extractLogKeys('', { circuit_id: ['A', 'B'] }, resource, rules);
    assert.deepEqual(resource, { keys: { circuit_id: 'R-1' }, moreKeys: ['circuit_id', 'R-2'] });
  });
});
