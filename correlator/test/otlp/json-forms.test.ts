// OTLP/JSON as the SDK writes it, then changed the ways other clients differ: proto field names,
// enums as names or strings, out-of-range integers, bad resources, links without a context. Each
// change must read as the SDK's form does, or reject just the items it spoils, naming the problem.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import { decodeLogsRequest } from '../../src/otlp/logs-decoder.js';
import {
  camelCaseFieldNames,
  normaliseLogsJson,
  normaliseTraceJson,
} from '../../src/otlp/json-normaliser.js';
import { otlpTypes } from '../../src/otlp/schema.js';
import { readFullSpan } from '../../src/otlp/span-reader.js';
import { decodeTraceRequest } from '../../src/otlp/trace-decoder.js';
import {
  SpanKind,
  buildLogs,
  buildTraces,
  logsJson,
  logsProtobuf,
  tracesJson,
} from '../fixtures/otel-sdk.js';

const rules = keyRulesFromConfig(loadConfig({}));
const T0 = 1_790_000_000_000;

type Json = Record<string, unknown>;
/** The request's first span (or log record), to change in place. */
const firstSpan = (req: Json) =>
  (((req.resourceSpans as Json[])[0]!.scopeSpans as Json[])[0]!.spans as Json[])[0]!;
const firstResource = (req: Json) => (req.resourceSpans as Json[])[0]!;

async function sdkRequest(): Promise<Json> {
  const traces = await buildTraces([
    {
      service: 'beorn',
      spans: [
        {
          name: 'create',
          kind: SpanKind.SERVER,
          startMs: T0,
          endMs: T0 + 10,
          attributes: { circuit_id: 'C1' },
          error: true,
        },
      ],
    },
    {
      service: 'mdso',
      spans: [
        {
          name: 'plan',
          kind: SpanKind.CLIENT,
          startMs: T0 + 20,
          endMs: T0 + 30,
          attributes: { circuit_id: 'C1' },
        },
      ],
    },
  ]);
  // Through JSON text, as it arrives: the SDK's object holds Long-like values.
  return JSON.parse(JSON.stringify(tracesJson(traces.flatMap(t => t.spans)))) as Json;
}

function decodeJson(req: unknown) {
  const n = normaliseTraceJson(req);
  const batch = decodeTraceRequest(n.binary, rules);
  return {
    spans: batch.spans.map(s => ({
      traceId: s.traceId,
      spanId: s.spanId,
      kind: s.kind,
      statusCode: s.statusCode,
      startMs: s.startMs,
      keys: s.keys,
      service: s.resource.serviceName,
      links: s.links,
    })),
    rejected: n.rejected + batch.rejected,
    messages: [...n.rejectionMessages, ...batch.rejectionMessages],
  };
}

const snakeCase = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(snakeCase)
    : v !== null && typeof v === 'object'
      ? Object.fromEntries(
          Object.entries(v).map(([k, x]) => [
            k.replace(/[A-Z]/g, c => `_${c.toLowerCase()}`),
            snakeCase(x),
          ]),
        )
      : v;

describe('OTLP/JSON forms other clients send', () => {
  it('reads the proto field names (resource_spans, trace_id, ...) as the camelCase ones', async () => {
    const req = await sdkRequest();
    const snake = snakeCase(req) as Json;
    assert.match(
      JSON.stringify(snake),
      /"resource_spans".*"scope_spans".*"trace_id".*"start_time_unix_nano"/,
      'the fixture uses proto names',
    );
    const expected = decodeJson(req);
    assert.equal(expected.spans.length, 2);
    assert.deepEqual(decodeJson(snake), expected);
  });

  it('keeps the camelCase field of one named both ways, in either order', async () => {
    const expected = decodeJson(await sdkRequest());
    const other = String(BigInt(T0 + 5) * 1_000_000n);
    for (const snakeFirst of [false, true]) {
      const req = await sdkRequest();
      const span = firstSpan(req);
      const { startTimeUnixNano, ...rest } = span;
      for (const k of Object.keys(span)) delete span[k];
      // Rebuilt so that the two names come in the order tested: a later key once overwrote.
      const both = snakeFirst ? { start_time_unix_nano: other, startTimeUnixNano } : { startTimeUnixNano, start_time_unix_nano: other };
      Object.assign(span, both, rest);
      assert.deepEqual(decodeJson(req), expected, snakeFirst ? 'start_time_unix_nano first' : 'startTimeUnixNano first');
    }
  });

  it('leaves a request without proto field names as it is', async () => {
    const req = await sdkRequest();
    assert.equal(camelCaseFieldNames(req), req);
  });

  const enumCases: [string, (s: Json) => void, { kind: number; statusCode: number }][] = [
    [
      'kind and status code as integers in strings',
      s => ((s.kind = '3'), (s.status = { code: '1' })),
      { kind: 3, statusCode: 1 },
    ],
    [
      'kind and status code as proto3 names',
      s => ((s.kind = 'SPAN_KIND_PRODUCER'), (s.status = { code: 'STATUS_CODE_OK' })),
      { kind: 4, statusCode: 1 },
    ],
  ];
  for (const [title, change, expected] of enumCases) {
    it(`reads ${title}`, async () => {
      const req = await sdkRequest();
      change(firstSpan(req));
      const { spans, rejected } = decodeJson(req);
      assert.equal(rejected, 0);
      assert.deepEqual({ kind: spans[0]!.kind, statusCode: spans[0]!.statusCode }, expected);
    });
  }

  const rejections: [string, (req: Json) => void, number, RegExp][] = [
    [
      'an unknown kind name',
      req => (firstSpan(req).kind = 'SERVER'),
      1,
      /kind "SERVER" is not a SpanKind/,
    ],
    [
      'an unknown status code name',
      req => (firstSpan(req).status = { code: 'FAILED' }),
      1,
      /status: code "FAILED" is not a StatusCode/,
    ],
    [
      'a start time past 2^64 - 1',
      req => (firstSpan(req).startTimeUnixNano = '18446744073709551616'),
      1,
      /startTimeUnixNano "18446744073709551616" is not an unsigned 64-bit integer/,
    ],
    [
      'an event time past 2^64 - 1',
      req =>
        (firstSpan(req).events = [
          { name: 'retry', timeUnixNano: String(BigInt(T0) * 1_000_000n) },
          { name: 'late', timeUnixNano: '18446744073709551616' },
        ]),
      1,
      /spans\[0\]\.events\[1\]: timeUnixNano "18446744073709551616" is not an unsigned 64-bit integer/,
    ],
    [
      'an int attribute past 2^63 - 1',
      req =>
        (firstSpan(req).attributes = [{ key: 'n', value: { intValue: '9223372036854775808' } }]),
      1,
      /intValue "9223372036854775808" is not a 64-bit integer/,
    ],
    // RV17: protobufjs converted each of these without a word (`"false"` to true, `{}` to the
    // text "[object Object]", a circuit of that name), answered 200.
    ...(
      [
        ['a boolValue in a string', { boolValue: 'false' }, /attribute "flag" boolValue "false" is not true or false/],
        ['a doubleValue that is no number', { doubleValue: 'abc' }, /attribute "flag" doubleValue "abc" is not a number/],
        ['a doubleValue that is a boolean', { doubleValue: true }, /attribute "flag" doubleValue true is not a number/],
        ['a stringValue that is an object', { stringValue: { id: 'X' } }, /attribute "flag" stringValue \{"id":"X"\} is not a string/],
        ['a stringValue that is a list', { stringValue: ['a', 'b'] }, /attribute "flag" stringValue \["a","b"\] is not a string/],
        ['a bytesValue that is a number', { bytesValue: 5 }, /attribute "flag" bytesValue 5 is not base64/],
        ['an arrayValue whose values are no list', { arrayValue: { values: {} } }, /attribute "flag" arrayValue \{"values":\{\}\} is not an object whose values are a list/],
        ['a value inside an array of the wrong type', { arrayValue: { values: [{ stringValue: 'a' }, { boolValue: 1 }] } }, /arrayValue\.values\[1\]: attribute "flag" boolValue 1 is not true or false/],
        ['two values in one', { stringValue: 'a', intValue: '5' }, /attribute "flag" value has both stringValue and intValue/],
      ] as const
    ).map(([title, value, message]): [string, (req: Json) => void, number, RegExp] => [
      title,
      req => (firstSpan(req).attributes = [{ key: 'flag', value }]),
      1,
      message,
    ]),
    [
      'a circuit_id that is an object',
      req => (firstSpan(req).attributes = [{ key: 'circuit_id', value: { stringValue: { id: 'X' } } }]),
      1,
      /attribute "circuit_id" stringValue \{"id":"X"\} is not a string/,
    ],
    [
      'an attribute key that is not a string',
      req => (firstSpan(req).attributes = [{ key: 5, value: { stringValue: 'a' } }]),
      1,
      /attributes\[0\]: key 5 is not a string/,
    ],
    ['a name that is a number', req => (firstSpan(req).name = 42), 1, /spans\[0\]: name 42 is not a string/],
    [
      'a link attribute of the wrong type',
      req => (firstSpan(req).links = [{ traceId: '0102030405060708090a0b0c0d0e0f10', spanId: '1112131415161718', attributes: [{ key: 'sampled', value: { boolValue: 'false' } }] }]),
      1,
      /spans\[0\]\.links\[0\]\.attributes\[0\]\.value: attribute "sampled" boolValue "false" is not true or false/,
    ],
    [
      'a scope whose name is a number (its spans rejected)',
      req => (((firstResource(req).scopeSpans as Json[])[0]!.scope as Json).name = 5),
      1,
      /resourceSpans\[0\]\.scopeSpans\[0\]\.scope: name 5 is not a string/,
    ],
    ['attributes that are not a list', req => (firstSpan(req).attributes = { circuit_id: 'C1' }), 1, /spans\[0\]\.attributes must be an array/],
    [
      'an attribute value that is not an object',
      req => (firstSpan(req).attributes = [{ key: 'circuit_id', value: 'C1' }]),
      1,
      /attributes\[0\]: attribute "circuit_id" value "C1" is not an object \(an AnyValue\)/,
    ],
    ['a status message that is an object', req => (firstSpan(req).status = { code: 2, message: {} }), 1, /status: message \{\} is not a string/],
    ['a kind that is a fraction', req => (firstSpan(req).kind = 2.5), 1, /kind 2\.5 is not a SpanKind/],
    [
      'an event name that is a number',
      req => (firstSpan(req).events = [{ name: 7, timeUnixNano: String(BigInt(T0) * 1_000_000n) }]),
      1,
      /events\[0\]: name 7 is not a string/,
    ],
    [
      'events that are not an array',
      req => (firstSpan(req).events = {}),
      1,
      /events must be an array/,
    ],
    [
      'a link with a malformed trace id',
      req => (firstSpan(req).links = [{ traceId: 'xyz', spanId: '0102030405060708' }]),
      1,
      /links\[0\]: traceId "xyz" is not 32 hex characters/,
    ],
    [
      'a resource attribute that is not an integer (its spans rejected, the other resource kept)',
      req =>
        ((firstResource(req).resource as Json).attributes = [
          { key: 'circuit_id', value: { intValue: 'abc' } },
        ]),
      1,
      /resourceSpans\[0\]\.resource\.attributes\[0\]\.value: attribute "circuit_id" intValue "abc" is not a 64-bit integer/,
    ],
  ];
  for (const [title, change, rejected, message] of rejections) {
    it(`rejects only the span with ${title}, naming it`, async () => {
      const req = await sdkRequest();
      change(req);
      const r = decodeJson(req);
      assert.equal(r.rejected, rejected, JSON.stringify(r.messages));
      assert.equal(r.spans.length, 2 - rejected);
      assert.match(r.messages[0] ?? '', message);
    });
  }

  it('drops a link without a context (missing or zero ids) and keeps its span', async () => {
    const req = await sdkRequest();
    firstSpan(req).links = [
      {
        traceId: '00000000000000000000000000000000',
        spanId: '0000000000000000',
        attributes: [{ key: 'why', value: { stringValue: 'invalid context' } }],
      },
      { spanId: '0102030405060708' },
      { traceId: '0102030405060708090a0b0c0d0e0f10', spanId: '1112131415161718' },
      // A real trace but no span in it: no context either.
      { traceId: '0102030405060708090a0b0c0d0e0f10', spanId: '0000000000000000' },
      { traceId: '0102030405060708090a0b0c0d0e0f10' },
    ];
    const r = decodeJson(req);
    assert.equal(r.rejected, 0, JSON.stringify(r.messages));
    assert.deepEqual(r.spans[0]!.links, [
      { traceId: '0102030405060708090a0b0c0d0e0f10', spanId: '1112131415161718' },
    ]);
    // Nor is it kept in the span as stored, which the span views read.
    const [stored] = decodeTraceRequest(normaliseTraceJson(req).binary, rules).spans;
    assert.deepEqual(
      readFullSpan(stored!.bytes).links.map(l => `${l.traceId}/${l.spanId}`),
      ['0102030405060708090a0b0c0d0e0f10/1112131415161718'],
    );
  });

  it('reads the values proto3 JSON allows beside the SDK\'s: doubles in strings and by name, nulls as unset', async () => {
    const req = await sdkRequest();
    firstSpan(req).attributes = [
      { key: 'nan', value: { doubleValue: 'NaN' } },
      { key: 'inf', value: { doubleValue: '-Infinity' } },
      { key: 'text', value: { doubleValue: '1.5e3' } },
      { key: 'unset', value: { stringValue: null, boolValue: true } },
      { key: 'circuit_id', value: { stringValue: 'C1' } },
    ];
    const r = decodeJson(req);
    assert.equal(r.rejected, 0, JSON.stringify(r.messages));
    const [stored] = decodeTraceRequest(normaliseTraceJson(req).binary, rules).spans;
    const attrs = readFullSpan(stored!.bytes).attributes;
    // The reader gives the doubles JSON cannot hold by their proto3 JSON names.
    assert.deepEqual({ nan: attrs.nan, inf: attrs.inf, text: attrs.text, unset: attrs.unset }, { nan: 'NaN', inf: '-Infinity', text: 1500, unset: true });
  });

  for (const [title, change, message] of [
    ['a body whose stringValue is a list', (r: Json) => (r.body = { stringValue: ['a', 'b'] }), /logRecords\[0\]\.body: stringValue \["a","b"\] is not a string/],
    ['a severity text that is a number', (r: Json) => (r.severityText = 17), /logRecords\[0\]: severityText 17 is not a string/],
    ['a severity number that is a fraction', (r: Json) => (r.severityNumber = 9.7), /severityNumber 9\.7 is not a SeverityNumber/],
  ] as const) {
    it(`rejects a log record with ${title}, naming it`, async () => {
      const req = JSON.parse(JSON.stringify(logsJson(await buildLogs('arda', [{ body: 'm', atMs: T0 }, { body: 'n', atMs: T0 }])))) as Json;
      change((((req.resourceLogs as Json[])[0]!.scopeLogs as Json[])[0]!.logRecords as Json[])[0]!);
      const n = normaliseLogsJson(req);
      assert.equal(n.rejected, 1, JSON.stringify(n.rejectionMessages));
      assert.match(n.rejectionMessages[0] ?? '', message);
      assert.deepEqual(decodeLogsRequest(n.binary, rules).logs.map(l => l.body), ['n']);
    });
  }

  for (const [form, value] of [
    ['a proto3 name', 'SEVERITY_NUMBER_ERROR'],
    ['an integer in a string', '17'],
  ] as const) {
    it(`reads a log severity number given as ${form}`, async () => {
      const req = JSON.parse(
        JSON.stringify(logsJson(await buildLogs('arda', [{ body: 'm', atMs: T0 }]))),
      ) as Json;
      const record = (
        ((req.resourceLogs as Json[])[0]!.scopeLogs as Json[])[0]!.logRecords as Json[]
      )[0]!;
      record.severityNumber = value;
      const n = normaliseLogsJson(req);
      assert.equal(n.rejected, 0, JSON.stringify(n.rejectionMessages));
      assert.equal(decodeLogsRequest(n.binary, rules).logs[0]!.severityNumber, 17);
    });
  }
});

describe('structured log bodies', () => {
  const cases: [string, Parameters<typeof buildLogs>[1][number], Record<string, string> | null][] =
    [
      [
        'takes keys from the entries of a key-value list body',
        { body: { circuit_id: 'C-KV', message: 'queued' }, atMs: T0 },
        { circuit_id: 'C-KV' },
      ],
      [
        'lets record attributes win over body entries',
        {
          body: { circuit_id: 'C-BODY', request_id: 'R-1' },
          atMs: T0,
          attributes: { circuit_id: 'C-ATTR' },
        },
        { circuit_id: 'C-ATTR', request_id: 'R-1' },
      ],
      [
        'lets body entries win over patterns in the text',
        { body: { circuit_id: 'C-ENTRY', note: 'circuit_id=C-TEXT' }, atMs: T0 },
        { circuit_id: 'C-ENTRY' },
      ],
      [
        'still reads text bodies through the patterns',
        { body: 'activation failed circuit_id=C-TEXT', atMs: T0 },
        { circuit_id: 'C-TEXT' },
      ],
    ];
  for (const [title, spec, keys] of cases) {
    it(`${title}, in protobuf and in JSON`, async () => {
      const records = await buildLogs('arda', [spec]);
      for (const body of [
        logsProtobuf(records),
        normaliseLogsJson(JSON.parse(JSON.stringify(logsJson(records)))).binary,
      ]) {
        assert.deepEqual(decodeLogsRequest(body, rules).logs[0]!.keys, keys);
      }
    });
  }
});

const HOST_ATTRIBUTES = [
  { key: 'host.id', value: { stringValue: 'h-1' } },
  { key: 'host.name', value: { stringValue: 'arda' } },
];

describe('resource entity refs over JSON', () => {
  const host = { type: 'host', idKeys: ['host.id'], descriptionKeys: ['host.name'] };
  const storedRefs = (resourceBytes: Uint8Array) =>
    (otlpTypes().Resource.toObject(otlpTypes().Resource.decode(resourceBytes)).entityRefs ?? []) as unknown[];
  // What the sender is told of a ref left out: the resource's place and service, the ref, the problem.
  const at = 'resourceSpans[0].resource (service "beorn"): ';
  const cases: [string, unknown, unknown[], string[]][] = [
    ['keeps a well-formed ref in the stored resource, as the protobuf path does', [host], [host], []],
    ['reads the proto field names of a ref', [{ type: 'host', id_keys: ['host.id'] }], [{ type: 'host', idKeys: ['host.id'] }], []],
    [
      'leaves out a malformed ref and keeps the others and every span, saying which and why',
      [{ type: 'os', idKeys: 'os.type' }, host],
      [host],
      [`${at}entityRefs[0] {"type":"os","idKeys":"os.type"} left out: idKeys is not a list of strings`],
    ],
    ['leaves out refs that are not a list, keeping the spans, and says so', { type: 'host' }, [], [`${at}entityRefs is not a list: left out`]],
    [
      'leaves out a ref the spec does not allow, saying why',
      [{ type: 'host', idKeys: ['host.uid'] }, { idKeys: ['host.id'] }, { type: 'host', descriptionKeys: ['host.name'] }, host],
      [host],
      [
        `${at}entityRefs[0] {"type":"host","idKeys":["host.uid"],"descriptionKeys":[]} left out: idKeys names "host.uid", which is not an attribute of the resource`,
        `${at}entityRefs[1] {"type":"","idKeys":["host.id"],"descriptionKeys":[]} left out: its type is empty`,
        `${at}entityRefs[2] {"type":"host","idKeys":[],"descriptionKeys":["host.name"]} left out: its idKeys are empty`,
      ],
    ],
    [
      'names a ref the spec does not allow by its place in the body, after a malformed one',
      [{ type: 7 }, { type: 'os', idKeys: ['os.type'] }, host],
      [host],
      [
        `${at}entityRefs[0] {"type":7} left out: type is not a string`,
        `${at}entityRefs[1] {"type":"os","idKeys":["os.type"],"descriptionKeys":[]} left out: idKeys names "os.type", which is not an attribute of the resource`,
      ],
    ],
    [
      'names each malformed ref by its place and its problem',
      [host, 'host', { type: 7 }, { schemaUrl: ['x'] }, { descriptionKeys: [1] }],
      [host],
      [
        `${at}entityRefs[1] "host" left out: is not an object`,
        `${at}entityRefs[2] {"type":7} left out: type is not a string`,
        `${at}entityRefs[3] {"schemaUrl":["x"]} left out: schemaUrl is not a string`,
        `${at}entityRefs[4] {"descriptionKeys":[1]} left out: descriptionKeys is not a list of strings`,
      ],
    ],
  ];
  for (const [title, refs, stored, warnings] of cases) {
    it(title, async () => {
      const req = await sdkRequest();
      // The attributes the refs name, which the spec has them name (entity-refs.ts).
      ((firstResource(req).resource as Json).attributes as Json[]).push(...HOST_ATTRIBUTES);
      (firstResource(req).resource as Json).entityRefs = refs;
      const n = normaliseTraceJson(camelCaseFieldNames(req));
      const batch = decodeTraceRequest(n.binary, rules);
      assert.equal(n.rejected + batch.rejected, 0, [...n.rejectionMessages, ...batch.rejectionMessages].join('; '));
      assert.equal(batch.spans.length, 2);
      assert.deepEqual(storedRefs(batch.spans.find(s => s.resource.serviceName === 'beorn')!.resource.resourceBytes), stored);
      assert.deepEqual([n.warnings, n.warned], [warnings, warnings.length]);
    });
  }

  it('says nothing of the refs of a resource that is rejected: its spans\' rejection says why', async () => {
    const req = await sdkRequest();
    const resource = firstResource(req).resource as Json;
    resource.entityRefs = [{ type: 7 }];
    resource.attributes = [{ key: 'n', value: { intValue: 'twelve' } }];
    const n = normaliseTraceJson(camelCaseFieldNames(req));
    assert.equal(n.rejected, 1, n.rejectionMessages.join('; '));
    assert.deepEqual([n.warnings, n.warned], [[], 0]);
  });
});
