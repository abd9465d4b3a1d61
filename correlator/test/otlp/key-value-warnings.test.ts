// A circuit_id (or any business key) that cannot be a key, over 512 characters or holding control
// characters, was dropped without a word by OTLP ingest: the span was stored with no circuit, and
// only the JSON log batch said why. The item is kept (its data is good), and partial_success says,
// with nothing rejected, which attribute of which item was not taken as a key and why.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Attributes } from '@opentelemetry/api';
import { loadConfig } from '../../src/config/config.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import { normaliseTraceJson } from '../../src/otlp/json-normaliser.js';
import { decodeLogsRequest } from '../../src/otlp/logs-decoder.js';
import { decodeTraceRequest } from '../../src/otlp/trace-decoder.js';
import { buildTestApp } from '../api/app-fixture.js';
import { buildLogs, buildTraces, logsProtobuf, tracesJson, tracesProtobuf } from '../fixtures/otel-sdk.js';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const rules = keyRulesFromConfig(loadConfig({}));
const SPAN0 = 'resourceSpans[0].scopeSpans[0].spans[0]';

describe('a key value that cannot be a key is kept and warned about', () => {
  const cases: [title: string, resource: Attributes | undefined, attributes: Attributes, key: string | null, warning: string | null][] = [
    ['a circuit_id of 512 characters is the key', undefined, { circuit_id: 'c'.repeat(512) }, 'c'.repeat(512), null],
    ['a circuit_id of 513 characters', undefined, { circuit_id: 'c'.repeat(513) }, null,
      `${SPAN0}: attribute "circuit_id" value is 513 characters, over the key limit of 512: kept, but not taken as the circuit_id`],
    ['a circuit id under an alias, with a line feed inside', undefined, { 'circuit.id': 'C-1\nC-2' }, null,
      `${SPAN0}: attribute "circuit.id" value has control characters: kept, but not taken as the circuit_id`],
    // White space at either end is no part of an id: " C-1", "C-1 " and "C-1" were three circuits.
    ['a circuit id with a line feed at its end is the id without it', undefined, { 'circuit.id': 'C-1\n' }, 'C-1', null],
    ['a circuit_id with spaces around it', undefined, { circuit_id: '  C-1 ' }, 'C-1', null],
    ['a circuit_id after a no-break space', undefined, { circuit_id: '\u00a0C-1' }, 'C-1', null],
    ['a circuit_id of white space alone is none, without a warning', undefined, { circuit_id: ' \t ' }, null, null],
    ['a circuit_id with a zero-width space', undefined, { circuit_id: 'C-1\u200b' }, null,
      `${SPAN0}: attribute "circuit_id" value has an invisible character (U+200B): kept, but not taken as the circuit_id`],
    ['a circuit_id with a soft hyphen', undefined, { circuit_id: 'C\u00ad-1' }, null,
      `${SPAN0}: attribute "circuit_id" value has an invisible character (U+00AD): kept, but not taken as the circuit_id`],
    ['a circuit_id with a right-to-left override', undefined, { circuit_id: 'C-\u202e1' }, null,
      `${SPAN0}: attribute "circuit_id" value has an invisible character (U+202E): kept, but not taken as the circuit_id`],
    ['a circuit_id with an internal space is the id as sent', undefined, { circuit_id: 'C 1' }, 'C 1', null],
    // An array names each member (key-arrays.test.ts): nothing to warn of when all are key values.
    ['a circuit_id of two values', undefined, { circuit_id: ['ARRX-1', 'ARRX-2'] }, 'ARRX-1', null],
    ['a circuit_id of one value in an array', undefined, { circuit_id: ['ARRX-1'] }, 'ARRX-1', null],
    ['a resource circuit_id of three values', { circuit_id: ['R-1', 'R-2', 'R-3'] }, {}, 'R-1', null],
    ['a resource circuit_id array with a member that is no key', { circuit_id: ['R-1', 'R-\u0000'] }, {}, 'R-1',
      'resourceSpans[0].resource: attribute "circuit_id" value [1] has control characters: kept, but not taken as the circuit_id'],
    ['a circuit_id with a NUL', undefined, { circuit_id: 'C-1\u0000' }, null,
      `${SPAN0}: attribute "circuit_id" value has control characters: kept, but not taken as the circuit_id`],
    ['a resource circuit_id of 5000 characters', { circuit_id: 'r'.repeat(5000) }, {}, null,
      'resourceSpans[0].resource: attribute "circuit_id" value is 5000 characters, over the key limit of 512: kept, but not taken as the circuit_id'],
    // An emoji is two UTF-16 code units, which the limit counts: 300 of them are not "600 characters".
    ['a circuit_id of 300 emoji', undefined, { circuit_id: '\u{1F4E1}'.repeat(300) }, null,
      `${SPAN0}: attribute "circuit_id" value is 600 UTF-16 code units (300 characters), over the key limit of 512: kept, but not taken as the circuit_id`],
    ['a long value of an attribute that is no alias says nothing', undefined, { note: 'n'.repeat(600) }, null, null],
  ];
  for (const [title, resource, attributes, key, warning] of cases) {
    it(title, async () => {
      const [t] = await buildTraces([{ service: 'beorn', resource, spans: [{ name: 's', startMs: T0, endMs: T0 + 1, attributes }] }]);
      const json = normaliseTraceJson(tracesJson(t!.spans));
      for (const [form, batch] of [
        ['protobuf', decodeTraceRequest(tracesProtobuf(t!.spans), rules)],
        ['JSON', decodeTraceRequest(json.binary, rules, Date.now(), json.places)],
      ] as const) {
        assert.ok(batch.rejected === 0 && batch.spans.length === 1, `${form}: the span is kept`);
        assert.ok((batch.spans[0]!.keys?.circuit_id ?? null) === key, `${form}: circuit_id ${JSON.stringify(batch.spans[0]!.keys?.circuit_id)?.slice(0, 40)}`);
        assert.ok(JSON.stringify(batch.warnings) === JSON.stringify(warning ? [warning] : []), `${form}: warnings ${JSON.stringify(batch.warnings)}`);
      }
    });
  }

  it('a log record whose circuit_id is too long is kept and warned about', async () => {
    const records = await buildLogs('arda', [{ body: 'b', atMs: T0, attributes: { circuit_id: 'c'.repeat(600) } }]);
    const batch = decodeLogsRequest(logsProtobuf(records), rules, T0);
    assert.ok(batch.rejected === 0 && batch.logs.length === 1 && batch.logs[0]!.keys?.circuit_id === undefined, 'kept, without the key');
    assert.ok(
      batch.warnings[0] === 'resourceLogs[0].scopeLogs[0].logRecords[0]: attribute "circuit_id" value is 600 characters, over the key limit of 512: kept, but not taken as the circuit_id',
      `warned: ${JSON.stringify(batch.warnings)}`,
    );
  });

  it('partial_success carries the warning with nothing rejected, beside the rejections', async t => {
    const app = await buildTestApp(t);
    // Within retention: older spans are answered with a warning of their own (time-warnings.test.ts).
    const now = Date.now() - 60_000;
    const [kept, rejected] = await buildTraces([
      { service: 'beorn', spans: [{ name: 's', startMs: now, endMs: now + 1, attributes: { circuit_id: 'c'.repeat(513) } }] },
      { service: 'beorn', spans: [{ name: 'x'.repeat(5000), startMs: now, endMs: now + 1 }] },
    ]);
    const post = async (spans: NonNullable<typeof kept>['spans']) =>
      (await app.inject({ method: 'POST', url: '/v1/traces', payload: tracesJson(spans) as object })).json<{ partialSuccess?: { rejectedSpans: string; errorMessage: string } }>();
    const warned = await post(kept!.spans);
    assert.ok(warned.partialSuccess?.rejectedSpans === '0', `nothing rejected: ${JSON.stringify(warned)}`);
    assert.ok(
      warned.partialSuccess.errorMessage === `1 warning(s): ${SPAN0}: attribute "circuit_id" value is 513 characters, over the key limit of 512: kept, but not taken as the circuit_id`,
      `the warning: ${warned.partialSuccess.errorMessage}`,
    );
    const both = await post([...kept!.spans, ...rejected!.spans]);
    assert.ok(both.partialSuccess?.rejectedSpans === '1', `the long name rejected: ${JSON.stringify(both)}`);
    assert.ok(/^1 span\(s\) rejected: .*span name is 5000 bytes.*\. 1 warning\(s\): .*"circuit_id" value is 513 characters/.test(both.partialSuccess.errorMessage), `both told: ${both.partialSuccess.errorMessage}`);
  });

  it('the warnings of one request are one list: a key value that is no key, then the time warnings', async t => {
    const app = await buildTestApp(t);
    // Past the default retention of 7 days: stored with a warning of its own.
    const old = Date.now() - 30 * 86_400_000;
    const [kept] = await buildTraces([{ service: 'beorn', spans: [{ name: 's', startMs: old, endMs: old + 1, attributes: { circuit_id: 'C-1\nC-2' } }] }]);
    const res = await app.inject({ method: 'POST', url: '/v1/traces', payload: tracesJson(kept!.spans) as object });
    const { partialSuccess } = res.json<{ partialSuccess?: { rejectedSpans: string; errorMessage: string } }>();
    assert.ok(partialSuccess?.rejectedSpans === '0', `nothing rejected: ${res.body}`);
    assert.ok(
      partialSuccess.errorMessage.startsWith(
        `1 warning(s): ${SPAN0}: attribute "circuit_id" value has control characters: kept, but not taken as the circuit_id. 1 span(s) older than the retention of 7 days`,
      ),
      `both warnings, in order: ${partialSuccess.errorMessage}`,
    );
  });
});
