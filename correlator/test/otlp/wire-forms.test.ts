// Valid protobuf encodings no OpenTelemetry SDK writes (fields out of order, unknown groups, odd
// keys), which other encoders may: our decoder must read them as protobufjs does. The SDK cannot
// make these bytes, so protobufjs's writer does, and its decoder is the reference.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { loadConfig } from '../../src/config/config.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import { decodeLogsRequest } from '../../src/otlp/logs-decoder.js';
import { otlpTypes } from '../../src/otlp/schema.js';
import { decodeTraceRequest } from '../../src/otlp/trace-decoder.js';

const rules = keyRulesFromConfig(loadConfig({ MAX_ATTRIBUTE_VALUE_BYTES: '100' }));
const LEN = 2;
const VARINT = 0;
const FIXED64 = 1;
const tag = (field: number, wire: number) => (field << 3) | wire;
const TRACE = Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex');
const SPAN = Buffer.from('1112131415161718', 'hex');

const anyString = (v: string) => protobuf.Writer.create().uint32(tag(1, LEN)).string(v).finish();
/** A KeyValue with its value written before its key. */
const valueThenKey = (key: string, value: string) =>
  protobuf.Writer.create()
    .uint32(tag(2, LEN))
    .bytes(anyString(value))
    .uint32(tag(1, LEN))
    .string(key)
    .finish();
const keyThenValue = (key: string, value: string) =>
  protobuf.Writer.create()
    .uint32(tag(1, LEN))
    .string(key)
    .uint32(tag(2, LEN))
    .bytes(anyString(value))
    .finish();
/** An unknown field 20 as a group holding a varint and a nested group. */
const group = protobuf.Writer.create()
  .uint32(tag(20, 3))
  .uint32(tag(1, VARINT))
  .uint32(7)
  .uint32(tag(21, 3))
  .uint32(tag(21, 4))
  .uint32(tag(20, 4))
  .finish();

function span(...fields: Uint8Array[]): Uint8Array {
  const w = protobuf.Writer.create()
    .uint32(tag(1, LEN))
    .bytes(TRACE)
    .uint32(tag(2, LEN))
    .bytes(SPAN)
    .uint32(tag(5, LEN))
    .string('op')
    .uint32(tag(7, FIXED64))
    .fixed64('1768478400000000000');
  for (const f of fields) w.uint32(tag(9, LEN)).bytes(f);
  return w.finish();
}

function request(
  spanBytes: Uint8Array,
  resource?: Uint8Array,
  after: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const scope = protobuf.Writer.create().uint32(tag(2, LEN)).bytes(spanBytes).finish();
  const rs = protobuf.Writer.create();
  if (resource) rs.uint32(tag(1, LEN)).bytes(resource);
  rs.uint32(tag(2, LEN)).bytes(scope);
  return Buffer.concat([
    protobuf.Writer.create().uint32(tag(1, LEN)).bytes(rs.finish()).finish(),
    after,
  ]);
}

/** What protobufjs reads: trace id and the span's attributes. */
function reference(body: Uint8Array): { traceId: string; attributes: Record<string, string> } {
  const req = otlpTypes().ExportTraceServiceRequest.toObject(
    otlpTypes().ExportTraceServiceRequest.decode(body),
    { bytes: String },
  ) as {
    resourceSpans: {
      scopeSpans: {
        spans: {
          traceId: string;
          attributes?: { key: string; value: { stringValue: string } }[];
        }[];
      }[];
    }[];
  };
  const s = req.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
  return {
    traceId: Buffer.from(s.traceId, 'base64').toString('hex'),
    attributes: Object.fromEntries((s.attributes ?? []).map(a => [a.key, a.value.stringValue])),
  };
}

describe('protobuf encodings the SDK does not write', () => {
  const cases: { title: string; body: Uint8Array; keys: Record<string, string> }[] = [
    {
      title: 'a business key whose value comes before its key',
      body: request(span(valueThenKey('circuit_id', 'C-1'))),
      keys: { circuit_id: 'C-1' },
    },
    {
      title: 'a long alias whose value comes before it, then more attributes',
      body: request(
        span(valueThenKey('mdso.resource_id', 'R-1'), keyThenValue('circuit_id', 'C-2')),
      ),
      keys: { resource_id: 'R-1', circuit_id: 'C-2' },
    },
    {
      title: 'an unknown field after the value of a business key',
      body: request(
        span(
          Buffer.concat([
            keyThenValue('circuit_id', 'C-3'),
            protobuf.Writer.create().uint32(tag(7, VARINT)).uint32(5).finish(),
          ]),
        ),
      ),
      keys: { circuit_id: 'C-3' },
    },
    {
      title: 'an unknown group inside a span',
      body: request(Buffer.concat([span(keyThenValue('circuit_id', 'C-4')), group])),
      keys: { circuit_id: 'C-4' },
    },
    {
      title: 'an unknown group after the request',
      body: request(span(keyThenValue('circuit_id', 'C-5')), undefined, group),
      keys: { circuit_id: 'C-5' },
    },
    {
      title: 'a byte-order mark before an alias: another key',
      body: request(span(keyThenValue('\uFEFFcircuit_id', 'C-6'))),
      keys: {},
    },
    {
      title: 'a resource attribute named __proto__ holding key-like entries',
      body: request(
        span(),
        otlpTypes()
          .Resource.encode(
            otlpTypes().Resource.fromObject({
              attributes: [
                { key: 'service.name', value: { stringValue: 'beorn' } },
                {
                  key: '__proto__',
                  value: {
                    kvlistValue: {
                      values: [{ key: 'circuit_id', value: { stringValue: 'PHANTOM' } }],
                    },
                  },
                },
              ],
            }),
          )
          .finish(),
      ),
      keys: {},
    },
  ];
  for (const c of cases) {
    it(`reads ${c.title} as protobufjs does`, () => {
      const ref = reference(c.body);
      const batch = decodeTraceRequest(c.body, rules);
      assert.deepEqual(batch.rejectionMessages, []);
      assert.equal(batch.spans.length, 1);
      const s = batch.spans[0]!;
      assert.equal(s.traceId, ref.traceId);
      assert.equal(s.traceId, TRACE.toString('hex'));
      assert.equal(s.spanId, SPAN.toString('hex'));
      assert.equal(s.name, 'op');
      assert.deepEqual(s.keys ?? {}, c.keys);
      assert.equal(
        s.resource.serviceName,
        c.title.includes('__proto__') ? 'beorn' : 'unknown_service',
      );
    });
  }

  it('rejects a span whose link ids have a wrong length, and ignores a link without ids', () => {
    const link = (traceId: Uint8Array, spanId: Uint8Array) =>
      protobuf.Writer.create()
        .uint32(tag(1, LEN))
        .bytes(traceId)
        .uint32(tag(2, LEN))
        .bytes(spanId)
        .finish();
    const withLink = (l: Uint8Array) =>
      Buffer.concat([span(), protobuf.Writer.create().uint32(tag(13, LEN)).bytes(l).finish()]);
    const bad = decodeTraceRequest(request(withLink(link(Buffer.alloc(5, 1), SPAN))), rules);
    assert.equal(bad.spans.length, 0);
    assert.deepEqual(bad.rejectionMessages, ['resourceSpans[0].scopeSpans[0].spans[0]: link trace_id must be 16 bytes, got 5']);
    const empty = decodeTraceRequest(
      request(withLink(link(new Uint8Array(0), new Uint8Array(0)))),
      rules,
    );
    assert.equal(empty.spans.length, 1);
    assert.equal(empty.spans[0]!.links, null);
  });

  it('refuses an end-group tag without its start, naming it', () => {
    assert.throws(
      () =>
        decodeTraceRequest(
          request(span(), undefined, protobuf.Writer.create().uint32(tag(20, 4)).finish()),
          rules,
        ),
      /end-group tag without its start/,
    );
  });
});

describe('log records the SDK does not write', () => {
  const { ExportLogsServiceRequest } = otlpTypes();
  const logs = (records: object[]) =>
    ExportLogsServiceRequest.encode(
      ExportLogsServiceRequest.fromObject({
        resourceLogs: [{ scopeLogs: [{ logRecords: records }] }],
      }),
    ).finish();
  const big = 'x'.repeat(150);

  for (const [title, attributes] of [
    [
      'repeated under the same key',
      [
        { key: 'a', value: { stringValue: 'small' } },
        { key: 'a', value: { stringValue: big } },
      ],
    ],
    [
      'under an index-like key, after another',
      [
        { key: 'b', value: { stringValue: 'small' } },
        { key: '7', value: { stringValue: big } },
      ],
    ],
  ] as const) {
    it(`rejects an attribute value over the limit ${title}`, () => {
      const batch = decodeLogsRequest(logs([{ body: { stringValue: 'm' }, attributes }]), rules);
      assert.equal(batch.logs.length, 0);
      assert.match(batch.rejectionMessages[0] ?? '', /value is 150 bytes, over the limit of 100/);
    });
  }

  it('reads a negative severity number as protobufjs does, and takes it as unspecified, naming it', () => {
    const body = logs([{ body: { stringValue: 'm' }, severityNumber: -1 }]);
    const ref = ExportLogsServiceRequest.decode(body).toJSON() as {
      resourceLogs: { scopeLogs: { logRecords: { severityNumber: number }[] }[] }[];
    };
    assert.equal(ref.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.severityNumber, -1);
    // Outside OTLP's 1-24 since 2026-12-07 (severity.test.ts); the warning shows it was read as -1.
    const batch = decodeLogsRequest(body, rules);
    assert.equal(batch.logs[0]!.severityNumber, 0);
    assert.match(batch.warnings[0] ?? '', /: severity_number -1 is outside OTLP's 1–24/);
  });

  it('keeps an attribute named __proto__ as an attribute', () => {
    const batch = decodeLogsRequest(
      logs([
        {
          body: { stringValue: 'm' },
          attributes: [
            {
              key: '__proto__',
              value: {
                kvlistValue: { values: [{ key: 'request_id', value: { stringValue: 'PHANTOM' } }] },
              },
            },
          ],
        },
      ]),
      rules,
    );
    const log = batch.logs[0]!;
    assert.equal(log.keys, null);
    assert.deepEqual(Object.keys(log.attributes), ['__proto__']);
    assert.equal(Object.getPrototypeOf(log.attributes), Object.prototype);
  });
});
