// A request whose items are all invalid: each is rejected alone, cheaply. Every rejection used to
// throw an Error that captured a stack trace, ~17 us per item, so a 1 MiB body of 500,000 empty
// spans held the event loop (and /health) for 15 s.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from '../helpers/app.js';
import { decodeTraceResponse } from '../helpers/sdk-bodies.js';
import { loadConfig } from '../../src/config/config.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import { readItemId } from '../../src/otlp/request-walker.js';
import { decodeTraceRequest } from '../../src/otlp/trace-decoder.js';
import { DecodeError, WireReader } from '../../src/otlp/wire-reader.js';
import { len, text } from '../fixtures/hand-made-otlp.js';

const PROTOBUF = { 'content-type': 'application/x-protobuf' };

/** ExportTraceServiceRequest { resource_spans { scope_spans { spans: n empty Span } } } */
function emptySpans(n: number): Buffer {
  const spans = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) spans[2 * i] = 0x12;
  return len(1, len(2, spans));
}

/** The thrown error's own stack frames: lines of `stack` after the message. */
function stackFrames(e: unknown): string[] {
  assert.ok(e instanceof Error, `an Error was thrown: ${String(e)}`);
  return (e.stack ?? '').split('\n').filter(line => /^\s+at /.test(line));
}

test('a rejected item and a broken body are refused without capturing a stack trace', () => {
  // A span id of 3 bytes, as an item decoder reads it.
  const r = new WireReader(Uint8Array.from([3, 1, 2, 3]));
  let rejected: unknown = null;
  try {
    readItemId(r, 8, 'span_id', false);
  } catch (e) {
    rejected = e;
  }
  assert.ok(rejected !== null, 'a 3-byte span id is rejected');
  assert.deepEqual(stackFrames(rejected), [], 'an item rejection carries no stack frames');
  assert.deepEqual(stackFrames(new DecodeError('truncated')), [], 'a decode error carries no stack frames');
  // Other errors keep theirs: only input errors, which nothing reads the stack of, go without.
  assert.ok(stackFrames(new Error('bug')).length > 0, 'an ordinary Error still has its stack');
});

test('a request of 20,000 empty spans is answered with each rejected and five reasons', { timeout: 120_000 }, async t => {
  const app = await build(t);
  const res = await app.inject({ method: 'POST', url: '/v1/traces', headers: PROTOBUF, payload: emptySpans(20_000) });
  assert.equal(res.statusCode, 200, res.body);
  const answer = decodeTraceResponse(res.rawPayload);
  assert.equal(Number(answer.partialSuccess?.rejectedSpans), 20_000, 'every span is counted as rejected');
  const message = answer.partialSuccess?.errorMessage ?? '';
  assert.ok(message.includes('resourceSpans[0].scopeSpans[0].spans[0]: span "" has no trace_id'), `the first span is named: ${message}`);
  assert.ok(!message.includes('spans[5]'), `only the first few reasons are reported: ${message}`);
});

test('a rejection quotes at most 200 characters of a span name', () => {
  const rules = keyRulesFromConfig(loadConfig({ LOG_LEVEL: 'silent' }));
  const cases = [
    { name: 'x'.repeat(4096), quoted: `span "${'x'.repeat(200)}… (4096 characters)" has no trace_id` },
    { name: 'y'.repeat(200), quoted: `span "${'y'.repeat(200)}" has no trace_id` },
  ];
  for (const c of cases) {
    // A span with only its name: no trace_id.
    const batch = decodeTraceRequest(len(1, len(2, len(2, text(5, c.name)))), rules);
    assert.equal(batch.rejected, 1);
    assert.equal(batch.rejectionMessages[0], `resourceSpans[0].scopeSpans[0].spans[0]: ${c.quoted}`, `a name of ${c.name.length}`);
  }
});
