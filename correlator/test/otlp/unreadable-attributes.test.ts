// A span ingest accepted but a view could not read (an attribute value claiming more bytes than it
// holds, or nested deeper than the reader goes) made its trace and its circuit answer 500 for good:
// ingest walked only the attributes naming business keys. Ingest now refuses such a span by name,
// wherever the attribute is (span, event, link, resource, scope). The SDK cannot write these bytes:
// they are made by hand.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import { normaliseTraceJson } from '../../src/otlp/json-normaliser.js';
import { readFullSpan } from '../../src/otlp/span-reader.js';
import { decodeTraceRequest } from '../../src/otlp/trace-decoder.js';
import { T0, TRACE, keyValue, len, nestedArrays, nestedLists, overrun, request, span, stringValue } from '../fixtures/hand-made-otlp.js';

const rules = keyRulesFromConfig(loadConfig({}));

describe('ingest refuses a span whose attributes the views could not read', () => {
  const cases: [title: string, body: Buffer, rejected: number, message: RegExp | null][] = [
    ['a span attribute whose string overruns its value', request([{ spans: [span({ span: [keyValue('x', overrun)] }), span()] }]), 1,
      /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]: attribute "x" value cannot be read: truncated message/],
    ['a span attribute of 32 nested arrays (the reader reads it)', request([{ spans: [span({ span: [keyValue('deep', nestedArrays(32))] })] }]), 0, null],
    ['a span attribute of 33 nested arrays', request([{ spans: [span({ span: [keyValue('deep', nestedArrays(33))] })] }]), 1,
      /spans\[0\]: attribute "deep" value cannot be read: value nested deeper than 32 arrays or lists/],
    ['a span attribute of arrays nested 5000 deep', request([{ spans: [span({ span: [keyValue('deep', nestedArrays(5000))] })] }]), 1,
      /spans\[0\]: attribute "deep" value cannot be read: value nested deeper than 32 arrays or lists/],
    ['32 nested key-value lists count a level each, as arrays do', request([{ spans: [span({ span: [keyValue('deep', nestedLists(32))] })] }]), 0, null],
    ['33 nested key-value lists', request([{ spans: [span({ span: [keyValue('deep', nestedLists(33))] })] }]), 1,
      /attribute "deep" value cannot be read: value nested deeper than 32 arrays or lists/],
    ['a second value field of an attribute that overruns (the reader decodes both)', request([{ spans: [span({ span: [Buffer.concat([keyValue('x', overrun), len(2, stringValue('ok'))])] })] }]), 1,
      /attribute "x" value cannot be read/],
    ['an attribute key of the wrong wire type', request([{ spans: [span({ span: [Buffer.from([0x08, 0x01])] })] }]), 1,
      /spans\[0\]: field KeyValue\.key has wire type 0, expected 2/],
    ['an event attribute that overruns', request([{ spans: [span({ event: [keyValue('ev.x', overrun)] })] }]), 1,
      /spans\[0\]: events\[0\] attribute "ev\.x" value cannot be read: truncated message/],
    ['a link attribute nested too deep', request([{ spans: [span({ link: [keyValue('l.x', nestedArrays(40))] })] }]), 1,
      /spans\[0\]: links\[0\] attribute "l\.x" value cannot be read: value nested deeper than 32 arrays or lists/],
    ['a resource attribute that overruns rejects its spans only', request([{ resource: [keyValue('r.x', overrun)], spans: [span(), span()] }, { spans: [span()] }]), 2,
      /^resourceSpans\[0\]\.resource: resource attribute "r\.x" value cannot be read: truncated message.*\(rejects its 2 spans\)$/],
    ['a scope attribute nested too deep rejects its spans', request([{ scope: [keyValue('s.x', nestedArrays(40))], spans: [span()] }]), 1,
      /^resourceSpans\[0\]\.scopeSpans\[0\]\.scope: scope attribute "s\.x" value cannot be read: value nested deeper than 32 arrays or lists/],
  ];
  for (const [title, body, rejected, message] of cases) {
    it(title, () => {
      const batch = decodeTraceRequest(body, rules);
      assert.ok(batch.rejected === rejected, `${rejected} rejected, got ${batch.rejected}: ${JSON.stringify(batch.rejectionMessages)}`);
      if (message) assert.ok(message.test(batch.rejectionMessages[0] ?? ''), `message ${JSON.stringify(batch.rejectionMessages[0])} matches ${message}`);
      // Whatever ingest keeps, the views can read.
      for (const s of batch.spans) assert.ok(readFullSpan(s.bytes).spanId.length === 16, 'an accepted span is read whole');
    });
  }

  it('refuses lists nested too deep sent as OTLP/JSON, where encoding them threw for the whole request', () => {
    let value: unknown = { stringValue: 'x' };
    for (let i = 0; i < 33; i++) value = { kvlistValue: { values: [{ key: 'k', value }] } };
    const json = {
      resourceSpans: [{ scopeSpans: [{ spans: [{
        traceId: TRACE.toString('hex'), spanId: '0000000000000001', name: 'op',
        startTimeUnixNano: String(BigInt(T0) * 1_000_000n), endTimeUnixNano: String(BigInt(T0 + 1) * 1_000_000n),
        attributes: [{ key: 'deep', value }],
      }] }] }],
    };
    const n = normaliseTraceJson(json);
    const batch = decodeTraceRequest(n.binary, rules, Date.now(), n.places);
    assert.ok(n.rejected + batch.rejected === 1 && batch.spans.length === 0, `rejected: ${JSON.stringify(n.rejectionMessages)}`);
    assert.ok(
      n.rejectionMessages[0] === 'resourceSpans[0].scopeSpans[0].spans[0]: attribute "deep" value nested deeper than 32 arrays or lists',
      `names the place and the attribute: ${n.rejectionMessages[0]}`,
    );
  });
});
