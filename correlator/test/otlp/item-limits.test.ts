import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import { convertLogBatch } from '../../src/ingest/log-batch.js';
import { utf8BytesOver } from '../../src/otlp/item-limits.js';
import { normaliseLogsJson, normaliseTraceJson } from '../../src/otlp/json-normaliser.js';
import { decodeLogsRequest } from '../../src/otlp/logs-decoder.js';
import { decodeTraceRequest } from '../../src/otlp/trace-decoder.js';
import { buildLogs, buildTraces, logsJson, logsProtobuf, tracesJson, tracesProtobuf } from '../fixtures/otel-sdk.js';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const LIMIT = 100;
const rules = keyRulesFromConfig(loadConfig({ MAX_ATTRIBUTE_VALUE_BYTES: String(LIMIT) }));

/** A text of exactly `bytes` UTF-8 bytes, of two-byte characters where it can be. */
function textOf(bytes: number, wide: boolean): string {
  return wide ? 'é'.repeat(Math.floor(bytes / 2)) + 'x'.repeat(bytes % 2) : 'x'.repeat(bytes);
}

describe('utf8BytesOver', () => {
  const cases: [string, string, number, number | null][] = [
    ['empty', '', 0, null],
    ['ASCII at the limit', 'abc', 3, null],
    ['ASCII one over', 'abcd', 3, 4],
    ['short in units, over in bytes', 'ééé', 5, 6],
    ['three-byte characters at the limit', '€€', 6, null],
    ['a surrogate pair is four bytes', '😀', 3, 4],
  ];
  for (const [title, text, limit, expected] of cases) {
    it(title, () => assert.equal(utf8BytesOver(text, limit), expected));
  }
});

describe('attribute and body limits, counted alike in UTF-8 bytes of the text', () => {
  const sizes: [bytes: number, wide: boolean, rejected: boolean][] = [
    [LIMIT - 1, false, false],
    [LIMIT, false, false],
    [LIMIT + 1, false, true],
    [LIMIT, true, false],
    [LIMIT + 2, true, true],
  ];
  for (const [bytes, wide, rejected] of sizes) {
    const what = `${bytes} bytes${wide ? ' of two-byte characters' : ''}`;

    it(`a span attribute of ${what} is ${rejected ? 'rejected, its size told' : 'accepted'}`, async () => {
      const [t] = await buildTraces([{ service: 'beorn', spans: [{ name: 's', startMs: T0, endMs: T0 + 1, attributes: { note: textOf(bytes, wide) } }] }]);
      for (const [form, batch] of [
        ['protobuf', decodeTraceRequest(tracesProtobuf(t!.spans), rules)],
        ['JSON', decodeTraceRequest(normaliseTraceJson(tracesJson(t!.spans)).binary, rules)],
      ] as const) {
        assert.equal(batch.rejected, rejected ? 1 : 0, `${form}: ${JSON.stringify(batch.rejectionMessages)}`);
        if (rejected) assert.equal(batch.rejectionMessages[0], `resourceSpans[0].scopeSpans[0].spans[0]: attribute "note" value is ${bytes} bytes, over the limit of ${LIMIT} (MAX_ATTRIBUTE_VALUE_BYTES)`, form);
      }
    });

    it(`a log attribute of ${what} is ${rejected ? 'rejected, its size told' : 'accepted'}`, async () => {
      const records = await buildLogs('arda', [{ body: 'b', atMs: T0, attributes: { note: textOf(bytes, wide) } }]);
      const batch = decodeLogsRequest(logsProtobuf(records), rules, T0);
      assert.equal(batch.rejected, rejected ? 1 : 0, JSON.stringify(batch.rejectionMessages));
      if (rejected) assert.equal(batch.rejectionMessages[0], `resourceLogs[0].scopeLogs[0].logRecords[0]: log attribute "note" value is ${bytes} bytes, over the limit of ${LIMIT} (MAX_ATTRIBUTE_VALUE_BYTES)`);
    });

    it(`a JSON batch label of ${what} is ${rejected ? 'rejected, its size told' : 'accepted'}`, () => {
      const out = convertLogBatch({ resource: { service: 'bpocore' }, records: [{ timestamp: new Date(T0).toISOString(), message: 'm', labels: { note: textOf(bytes, wide) } }] }, rules, T0);
      assert.deepEqual(out.errors, rejected ? [{ index: 0, message: `labels.note value is ${bytes} bytes, over the limit of ${LIMIT} (MAX_ATTRIBUTE_VALUE_BYTES)` }] : []);
    });

    const bodyBytes = bytes - LIMIT + 4 * LIMIT;
    const body = `${wide ? 'two-byte ' : ''}${bodyBytes} bytes`;
    it(`a log body of ${body} is ${rejected ? 'rejected, its size told' : 'accepted'}, in OTLP and in the JSON batch`, async () => {
      const records = await buildLogs('arda', [{ body: textOf(bodyBytes, wide), atMs: T0 }]);
      for (const [form, batch] of [
        ['protobuf', decodeLogsRequest(logsProtobuf(records), rules, T0)],
        ['JSON', decodeLogsRequest(normaliseLogsJson(logsJson(records)).binary, rules, T0)],
      ] as const) {
        assert.equal(batch.rejected, rejected ? 1 : 0, `${form}: ${JSON.stringify(batch.rejectionMessages)}`);
        if (rejected) assert.equal(batch.rejectionMessages[0], `resourceLogs[0].scopeLogs[0].logRecords[0]: log body is ${bodyBytes} bytes, over the limit of ${4 * LIMIT} (4 × MAX_ATTRIBUTE_VALUE_BYTES)`, form);
      }
      const out = convertLogBatch({ resource: { service: 'bpocore' }, records: [{ timestamp: new Date(T0).toISOString(), message: textOf(bodyBytes, wide) }] }, rules, T0);
      assert.deepEqual(out.errors, rejected ? [{ index: 0, message: `message is ${bodyBytes} bytes, over the limit of ${4 * LIMIT} (4 × MAX_ATTRIBUTE_VALUE_BYTES)` }] : []);
    });
  }
});

describe('where a rejected item was', () => {
  const big = { note: 'x'.repeat(LIMIT + 1) };

  it('names the resource, scope and place of a protobuf span', async () => {
    const traces = await buildTraces([
      { service: 'beorn', spans: [{ name: 'a', startMs: T0, endMs: T0 + 1 }] },
      {
        service: 'arda',
        spans: [
          { name: 'b', startMs: T0, endMs: T0 + 1 },
          { name: 'c', startMs: T0 + 1, endMs: T0 + 2, attributes: big },
        ],
      },
    ]);
    const spans = traces.flatMap(t => t.spans);
    // Where the SDK's serializer put span c, read from its JSON form, which it lays out the same way.
    const json = tracesJson(spans) as { resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[] };
    const r = json.resourceSpans.findIndex(rs => rs.scopeSpans[0]!.spans.some(s => s.name === 'c'));
    const i = json.resourceSpans[r]!.scopeSpans[0]!.spans.findIndex(s => s.name === 'c');
    assert.deepEqual([r, json.resourceSpans.length, json.resourceSpans[r]!.scopeSpans[0]!.spans.length], [r, 2, 2], 'two resources, c with b');
    const batch = decodeTraceRequest(tracesProtobuf(spans), rules);
    assert.deepEqual(batch.spans.map(s => s.name).sort(), ['a', 'b']);
    assert.deepEqual(batch.rejectionMessages, [`resourceSpans[${r}].scopeSpans[0].spans[${i}]: attribute "note" value is ${LIMIT + 1} bytes, over the limit of ${LIMIT} (MAX_ATTRIBUTE_VALUE_BYTES)`]);
  });

  // Hand-written bodies: each item says where it is, so a message naming another place shows.
  const NS = String(BigInt(T0) * 1_000_000n);
  const hexId = (bytes: number, n: number) => n.toString(16).padStart(bytes * 2, '0');
  const span = (n: number, o: Record<string, unknown> = {}) => ({
    traceId: hexId(16, n + 1),
    spanId: hexId(8, n + 1),
    name: `s${n}`,
    startTimeUnixNano: NS,
    endTimeUnixNano: NS,
    ...o,
  });
  const rec = (n: number, o: Record<string, unknown> = {}) => ({ timeUnixNano: NS, body: { stringValue: `r${n}` }, ...o });
  const resource = (attrs: { key: string; value: unknown }[] = []) => ({ attributes: [{ key: 'service.name', value: { stringValue: 'beorn' } }, ...attrs] });
  const badResource = resource([{ key: 'n', value: { intValue: '1.5' } }]);
  const oversized = { attributes: [{ key: 'note', value: { stringValue: 'x'.repeat(LIMIT + 1) } }] };
  const tooBig = `attribute "note" value is ${LIMIT + 1} bytes, over the limit of ${LIMIT} (MAX_ATTRIBUTE_VALUE_BYTES)`;
  const cases: { title: string; signal: 'traces' | 'logs'; body: unknown; expected: string[] }[] = [
    {
      title: 'a span after one with a bad id',
      signal: 'traces',
      body: { resourceSpans: [{ resource: resource(), scopeSpans: [{ spans: [span(0, { spanId: 'bad' }), span(1, oversized)] }] }] },
      expected: ['resourceSpans[0].scopeSpans[0].spans[0]: spanId "bad" is not 16 hex characters', `resourceSpans[0].scopeSpans[0].spans[1]: ${tooBig}`],
    },
    {
      title: 'a span in the second scope, after bad ones in both scopes',
      signal: 'traces',
      body: {
        resourceSpans: [
          {
            resource: resource(),
            scopeSpans: [{ spans: [span(0, { traceId: 'x' }), span(1)] }, { spans: [span(2), span(3, { spanId: '' }), span(4, { kind: 'SPAN_KIND_NONE' }), span(5, oversized)] }],
          },
        ],
      },
      expected: [
        'resourceSpans[0].scopeSpans[0].spans[0]: traceId "x" is not 32 hex characters',
        'resourceSpans[0].scopeSpans[1].spans[1]: spanId is missing',
        'resourceSpans[0].scopeSpans[1].spans[2]: kind "SPAN_KIND_NONE" is not a SpanKind',
        `resourceSpans[0].scopeSpans[1].spans[3]: ${tooBig}`,
      ],
    },
    {
      title: 'a span of a resource after one whose header was rejected',
      signal: 'traces',
      body: {
        resourceSpans: [
          { resource: badResource, scopeSpans: [{ spans: [span(0)] }] },
          { resource: resource(), scopeSpans: [{ spans: [span(1, { startTimeUnixNano: 'soon' }), span(2, oversized)] }] },
        ],
      },
      expected: [
        'resourceSpans[0].resource.attributes[1].value: attribute "n" intValue "1.5" is not a 64-bit integer (rejects its 1 spans)',
        'resourceSpans[1].scopeSpans[0].spans[0]: startTimeUnixNano "soon" is not an unsigned 64-bit integer',
        `resourceSpans[1].scopeSpans[0].spans[1]: ${tooBig}`,
      ],
    },
    {
      title: 'a span where nothing else was rejected',
      signal: 'traces',
      body: { resourceSpans: [{ resource: resource(), scopeSpans: [{ spans: [span(0), span(1, oversized)] }] }] },
      expected: [`resourceSpans[0].scopeSpans[0].spans[1]: ${tooBig}`],
    },
    {
      title: 'log records after ones with bad ids',
      signal: 'logs',
      body: {
        resourceLogs: [
          {
            resource: resource(),
            scopeLogs: [{ logRecords: [rec(0), rec(1, { traceId: 'xyz' }), rec(2, { spanId: '0011' }), rec(3, { body: { stringValue: 'x'.repeat(4 * LIMIT + 1) } }), rec(4, oversized)] }],
          },
        ],
      },
      expected: [
        'resourceLogs[0].scopeLogs[0].logRecords[1]: traceId "xyz" is not 32 hex characters',
        'resourceLogs[0].scopeLogs[0].logRecords[2]: spanId "0011" is not 16 hex characters',
        `resourceLogs[0].scopeLogs[0].logRecords[3]: log body is ${4 * LIMIT + 1} bytes, over the limit of ${4 * LIMIT} (4 × MAX_ATTRIBUTE_VALUE_BYTES)`,
        `resourceLogs[0].scopeLogs[0].logRecords[4]: log ${tooBig}`,
      ],
    },
    {
      title: 'a log record of a resource after one whose header was rejected',
      signal: 'logs',
      body: {
        resourceLogs: [
          { resource: badResource, scopeLogs: [{ logRecords: [rec(0), rec(1)] }] },
          { resource: resource(), scopeLogs: [{ logRecords: [rec(2)] }, { logRecords: [rec(3, { severityNumber: 'LOUD' }), rec(4, oversized)] }] },
        ],
      },
      expected: [
        'resourceLogs[0].resource.attributes[1].value: attribute "n" intValue "1.5" is not a 64-bit integer (rejects its 2 logRecords)',
        'resourceLogs[1].scopeLogs[1].logRecords[0]: severityNumber "LOUD" is not a SeverityNumber',
        `resourceLogs[1].scopeLogs[1].logRecords[1]: log ${tooBig}`,
      ],
    },
    {
      title: 'a span with an attribute whose bytesValue is not base64, naming the attribute',
      signal: 'traces',
      body: {
        resourceSpans: [
          { resource: resource(), scopeSpans: [{ spans: [span(0), span(1, { attributes: [{ key: 'ok', value: { bytesValue: 'AQID' } }, { key: 'blob', value: { bytesValue: '%%%' } }] })] }] },
        ],
      },
      expected: ['resourceSpans[0].scopeSpans[0].spans[1].attributes[1].value: attribute "blob" bytesValue "%%%" is not base64'],
    },
    {
      title: 'the spans of a scope whose attributes are bad, and a span of the next scope',
      signal: 'traces',
      body: {
        resourceSpans: [
          {
            resource: resource(),
            scopeSpans: [
              { scope: { name: 's', attributes: [{ key: 'v', value: { intValue: 'x' } }] }, spans: [span(0), span(1)] },
              { scope: { name: 't' }, spans: [span(2, oversized)] },
            ],
          },
        ],
      },
      expected: ['resourceSpans[0].scopeSpans[0].scope.attributes[0].value: attribute "v" intValue "x" is not a 64-bit integer (rejects its 2 spans)', `resourceSpans[0].scopeSpans[1].spans[0]: ${tooBig}`],
    },
    {
      title: 'the spans of a resource with a bad bytesValue',
      signal: 'traces',
      body: { resourceSpans: [{ resource: resource([{ key: 'raw', value: { bytesValue: 'A' } }]), scopeSpans: [{ spans: [span(0)] }] }] },
      expected: ['resourceSpans[0].resource.attributes[1].value: attribute "raw" bytesValue "A" is not base64 (rejects its 1 spans)'],
    },
    {
      title: 'a log record whose bytes body is not base64, and one with a bad bytes attribute in a list',
      signal: 'logs',
      body: {
        resourceLogs: [
          {
            resource: resource(),
            scopeLogs: [
              {
                logRecords: [
                  rec(0, { body: { bytesValue: 'no!' } }),
                  rec(1, { attributes: [{ key: 'list', value: { arrayValue: { values: [{ stringValue: 'a' }, { bytesValue: '*' }] } } }] }),
                ],
              },
            ],
          },
        ],
      },
      expected: [
        'resourceLogs[0].scopeLogs[0].logRecords[0].body: bytesValue "no!" is not base64',
        'resourceLogs[0].scopeLogs[0].logRecords[1].attributes[0].value.arrayValue.values[1]: attribute "list" bytesValue "*" is not base64',
      ],
    },
  ];
  for (const c of cases) {
    it(`names the place in the JSON body as sent of ${c.title}`, () => {
      // As the pipeline composes them: the normaliser's rejections, then the decoder's.
      const n = c.signal === 'traces' ? normaliseTraceJson(c.body) : normaliseLogsJson(c.body);
      const decoded = c.signal === 'traces' ? decodeTraceRequest(n.binary, rules, Date.now(), n.places) : decodeLogsRequest(n.binary, rules, T0, n.places);
      assert.deepEqual([...n.rejectionMessages, ...decoded.rejectionMessages], c.expected, 'every rejection names its place in the body as sent');
    });
  }
});
