// One nesting rule for every value, as the README gives it: 32 nested arrays or key-value lists
// are read, 33 refuse their item. An attribute's value was counted from one level down, so 32
// arrays in an attribute were refused while a log body took them; and a log record refused for
// its value said "attribute value nested deeper…" without naming the attribute, or the body.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import { normaliseLogsJson, normaliseTraceJson } from '../../src/otlp/json-normaliser.js';
import { decodeLogsRequest } from '../../src/otlp/logs-decoder.js';
import { readFullSpan } from '../../src/otlp/span-reader.js';
import { decodeTraceRequest } from '../../src/otlp/trace-decoder.js';
import { build } from '../helpers/app.js';
import { TRACE, keyValue, logRecord, logRequest, nestedArrays, nestedLists, overrun, request, span } from '../fixtures/hand-made-otlp.js';

const rules = keyRulesFromConfig(loadConfig({}));
const TOO_DEEP = 'value nested deeper than 32 arrays or lists';
const nests = { arrays: nestedArrays, lists: nestedLists };

describe('values nest up to 32 arrays or lists wherever they are', () => {
  for (const [kind, nested] of Object.entries(nests)) {
    it(`a span attribute of 32 ${kind} is kept, of 33 refused naming it`, () => {
      const ok = decodeTraceRequest(request([{ spans: [span({ span: [keyValue('deep', nested(32))] })] }]), rules);
      assert.deepEqual(ok.rejectionMessages, []);
      assert.equal(readFullSpan(ok.spans[0]!.bytes).spanId.length, 16, 'the view reads what ingest kept');
      const bad = decodeTraceRequest(request([{ spans: [span({ span: [keyValue('deep', nested(33))] })] }]), rules);
      assert.deepEqual(bad.rejectionMessages, [`resourceSpans[0].scopeSpans[0].spans[0]: attribute "deep" value cannot be read: ${TOO_DEEP}`]);
    });

    it(`a log attribute of 32 ${kind} is kept, of 33 refused naming the attribute`, () => {
      const now = Date.now();
      const ok = decodeLogsRequest(logRequest([logRecord(now, { attributes: [keyValue('deep', nested(32))] })]), rules, now);
      assert.deepEqual([ok.logs.length, ok.rejectionMessages], [1, []]);
      const bad = decodeLogsRequest(logRequest([logRecord(now, { attributes: [keyValue('deep', nested(33))] })]), rules, now);
      assert.deepEqual(bad.rejectionMessages, [`resourceLogs[0].scopeLogs[0].logRecords[0]: log attribute "deep" value cannot be read: ${TOO_DEEP}`]);
    });

    it(`a log body of 32 ${kind} is kept, of 33 refused as the body`, () => {
      const now = Date.now();
      const ok = decodeLogsRequest(logRequest([logRecord(now, { body: nested(32) })]), rules, now);
      assert.deepEqual([ok.logs.length, ok.rejectionMessages], [1, []]);
      const bad = decodeLogsRequest(logRequest([logRecord(now, { body: nested(33) })]), rules, now);
      assert.deepEqual(bad.rejectionMessages, [`resourceLogs[0].scopeLogs[0].logRecords[0]: log body cannot be read: ${TOO_DEEP}`]);
    });

    it(`a resource attribute of 32 ${kind} is kept, of 33 refused naming it`, () => {
      const now = Date.now();
      const ok = decodeLogsRequest(logRequest([logRecord(now)], [keyValue('deep', nested(32))]), rules, now);
      assert.deepEqual([ok.logs.length, ok.rejectionMessages], [1, []]);
      const bad = decodeLogsRequest(logRequest([logRecord(now)], [keyValue('deep', nested(33))]), rules, now);
      assert.deepEqual(bad.rejectionMessages, [`resourceLogs[0].resource: resource attribute "deep" value cannot be read: ${TOO_DEEP} (rejects its 1 logRecords)`]);
    });
  }

  it('a log attribute or body that runs past its field is named too', () => {
    const now = Date.now();
    const batch = decodeLogsRequest(logRequest([logRecord(now, { attributes: [keyValue('x', overrun)] }), logRecord(now, { body: overrun })]), rules, now);
    assert.equal(batch.rejected, 2);
    assert.match(batch.rejectionMessages[0]!, /logRecords\[0\]: log attribute "x" value cannot be read: truncated message/);
    assert.match(batch.rejectionMessages[1]!, /logRecords\[1\]: log body cannot be read: truncated message/);
  });

  it('OTLP/JSON counts as the binary reader does: 32 lists kept, 33 refused, attribute and body alike', () => {
    const nest = (levels: number): unknown => {
      let value: unknown = { stringValue: 'x' };
      for (let i = 0; i < levels; i++) value = { kvlistValue: { values: [{ key: 'k', value }] } };
      return value;
    };
    const now = Date.now();
    const nanos = String(BigInt(now) * 1_000_000n);
    const logs = (levels: number) => ({
      resourceLogs: [{ scopeLogs: [{ logRecords: [
        { timeUnixNano: nanos, body: { stringValue: 'b' }, attributes: [{ key: 'deep', value: nest(levels) }] },
        { timeUnixNano: nanos, body: nest(levels) },
      ] }] }],
    });
    const ok = normaliseLogsJson(logs(32));
    assert.deepEqual([ok.rejected, decodeLogsRequest(ok.binary, rules, now, ok.places).logs.length], [0, 2]);
    assert.deepEqual(normaliseLogsJson(logs(33)).rejectionMessages, [
      `resourceLogs[0].scopeLogs[0].logRecords[0]: attribute "deep" ${TOO_DEEP}`,
      `resourceLogs[0].scopeLogs[0].logRecords[1]: body ${TOO_DEEP}`,
    ]);
    const traces = (levels: number) => ({
      resourceSpans: [{ scopeSpans: [{ spans: [{
        traceId: TRACE.toString('hex'), spanId: '0000000000000001', name: 'op', startTimeUnixNano: nanos, endTimeUnixNano: nanos,
        attributes: [{ key: 'deep', value: nest(levels) }],
      }] }] }],
    });
    const kept = normaliseTraceJson(traces(32));
    assert.deepEqual([kept.rejected, decodeTraceRequest(kept.binary, rules, now, kept.places).spans.length], [0, 1]);
    assert.deepEqual(normaliseTraceJson(traces(33)).rejectionMessages, [`resourceSpans[0].scopeSpans[0].spans[0]: attribute "deep" ${TOO_DEEP}`]);
  });

  it("a trace whose span holds 32 nested arrays answers its view with the value, not a 500", async t => {
    const app = await build(t);
    const res = await app.inject({
      method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' },
      payload: request([{ spans: [span({ span: [keyValue('deep', nestedArrays(32))] })] }]),
    });
    assert.equal(res.statusCode, 200, res.body);
    const view = await app.inject({ method: 'GET', url: `/api/traces/${TRACE.toString('hex')}` });
    assert.equal(view.statusCode, 200, view.body.slice(0, 300));
    assert.ok(view.body.includes('[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]'), 'the 32 arrays are in the view');
  });
});
