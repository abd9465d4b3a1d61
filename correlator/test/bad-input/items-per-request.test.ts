// MAX_ITEMS_PER_REQUEST: a request with more spans or log records (or resource and scope
// containers) than that is refused with 413 naming the setting and the count, before it is
// decoded, or for JSON before it is parsed. Within the body limit, 200,000 valid spans in one
// request held the event loop for 10 s, and 60 MiB of `{}` in JSON for minutes.
import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { build } from '../helpers/app.js';
import { decodeRpcStatus, decodeTraceResponse } from '../helpers/sdk-bodies.js';
import { countJsonItems, countProtobufItems } from '../../src/otlp/item-count.js';
import { fixed64, len } from '../fixtures/hand-made-otlp.js';

const PROTOBUF = { 'content-type': 'application/x-protobuf' };
const JSON_TYPE = { 'content-type': 'application/json' };

function idBytes(n: number, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  b.writeUInt32BE(n + 1, bytes - 4);
  b[0] = 0xab;
  return b;
}

/** A valid span of its own trace. */
function span(i: number, startMs: number): Buffer {
  return len(
    2,
    Buffer.concat([
      len(1, idBytes(i, 16)),
      len(2, idBytes(i, 8)),
      len(5, Buffer.from('op')),
      fixed64(7, startMs),
      fixed64(8, startMs + 1),
    ]),
  );
}

/** ExportTraceServiceRequest: `resources` resources, each of `scopes` scopes of `perScope` spans. */
function traces(resources: number, scopes: number, perScope: number): Buffer {
  const startMs = Date.now() - 10_000;
  let i = 0;
  const resource = len(1, len(1, Buffer.concat([len(1, Buffer.from('service.name')), len(2, len(1, Buffer.from('many')))])));
  const rs: Buffer[] = [];
  for (let r = 0; r < resources; r++) {
    const ss: Buffer[] = [resource];
    for (let s = 0; s < scopes; s++) ss.push(len(2, Buffer.concat(Array.from({ length: perScope }, () => span(i++, startMs)))));
    rs.push(len(1, Buffer.concat(ss)));
  }
  return Buffer.concat(rs);
}

const status = (body: Buffer) => decodeRpcStatus(body).message;

describe('counting items before decoding', () => {
  it('counts spans and containers in protobuf, and stops past the limit', () => {
    assert.deepEqual(countProtobufItems(traces(2, 3, 4), 'traces', 1000), { items: 24, containers: 8 }, 'all counted within the limit');
    const over = countProtobufItems(traces(1, 1, 5000), 'traces', 10);
    assert.equal(over.items, 11, 'the count stops once past the limit');
  });

  it('counts spans and containers in JSON text, strings and escapes and all', () => {
    const text = JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'spans', value: { stringValue: '"spans":[1,2,3] \\" [' } }] },
          scopeSpans: [{ spans: [{ name: 'a', links: [{}, {}] }, { name: 'b]' }] }, { spans: [] }],
        },
        { scope_spans: [{ spans: [1, 'x', null, [], {}] }] },
      ],
    });
    assert.deepEqual(countJsonItems(text, 'traces', 1000), { items: 7, containers: 5 }, `counted in ${text}`);
    assert.deepEqual(countJsonItems('{"resourceLogs":[{"scopeLogs":[{"log\\u0052ecords":[{},{}]}]}]}', 'logs', 1000), { items: 2, containers: 2 }, 'an escaped key is the same field');
    assert.equal(countJsonItems(`{"resourceSpans":[{"scopeSpans":[{"spans":[${'{},'.repeat(100_000)}{}]}]}]}`, 'traces', 10).items, 11, 'stops past the limit');
    assert.deepEqual(countJsonItems('['.repeat(100_000), 'traces', 10), { items: 0, containers: 0 }, 'deep nesting is only walked');
  });
});

test('MAX_ITEMS_PER_REQUEST: more spans, or containers, than the limit are refused with 413 before decoding', { timeout: 120_000 }, async t => {
  const app = await build(t, { MAX_ITEMS_PER_REQUEST: '1000' });
  const post = (payload: Buffer | string, headers: Record<string, string>) => app.inject({ method: 'POST', url: '/v1/traces', headers, payload });

  const atLimit = await post(traces(1, 1, 1000), PROTOBUF);
  assert.equal(atLimit.statusCode, 200, `1000 spans are within the limit: ${atLimit.body}`);
  assert.equal(Number(decodeTraceResponse(atLimit.rawPayload).partialSuccess?.rejectedSpans ?? 0), 0, 'all 1000 spans are taken');

  const over = await post(traces(1, 1, 1001), PROTOBUF);
  assert.equal(over.statusCode, 413, `1001 spans: ${over.body}`);
  assert.ok(over.headers['retry-after'] === undefined, 'a request that is too large is not retried as it is');
  assert.match(status(over.rawPayload), /more than 1000 spans \(at least 1001; limit MAX_ITEMS_PER_REQUEST\)/);

  // Each span in a resource and scope of its own is within the limit; empty containers past two per
  // item allowed are refused.
  const ownContainers = await post(traces(1000, 1, 1), PROTOBUF);
  assert.equal(ownContainers.statusCode, 200, `1000 spans, each in its own resource and scope: ${ownContainers.body}`);
  const scopes = await post(traces(1, 2000, 0), PROTOBUF);
  assert.equal(scopes.statusCode, 413, `2000 empty scopes: ${scopes.body}`);
  assert.match(status(scopes.rawPayload), /more than 2000 resource and scope containers \(at least 2001; two for each of MAX_ITEMS_PER_REQUEST=1000\)/);

  // Invalid items count as well: each would cost its rejection. Empty spans, as protobuf.
  const empty = len(1, len(2, Buffer.alloc(2 * 5000, Buffer.from([0x12, 0x00]))));
  const emptyAnswer = await post(empty, PROTOBUF);
  assert.equal(emptyAnswer.statusCode, 413, `5000 empty spans: ${emptyAnswer.body}`);

  // JSON: counted in the text, before it is parsed.
  const json = (n: number) => `{"resourceSpans":[{"scopeSpans":[{"spans":[${'{},'.repeat(n - 1)}{}]}]}]}`;
  const jsonOver = await post(json(1001), JSON_TYPE);
  assert.equal(jsonOver.statusCode, 413, `1001 JSON items: ${jsonOver.body}`);
  const message = (jsonOver.json() as { message: string }).message;
  assert.ok(/more than 1000 spans \(at least 1001; limit MAX_ITEMS_PER_REQUEST\)/.test(message), `the JSON refusal names the count and the setting: ${message}`);
  const jsonAtLimit = await post(json(1000), JSON_TYPE);
  assert.equal(jsonAtLimit.statusCode, 200, `1000 JSON items are within the limit, each rejected alone: ${jsonAtLimit.body}`);

  // Logs too.
  const logs = `{"resourceLogs":[{"scopeLogs":[{"logRecords":[${'{"body":{"stringValue":"x"}},'.repeat(1000)}{}]}]}]}`;
  const logsOver = await app.inject({ method: 'POST', url: '/v1/logs', headers: JSON_TYPE, payload: logs });
  assert.equal(logsOver.statusCode, 413, `1001 log records: ${logsOver.body}`);
  assert.ok((logsOver.json() as { message: string }).message.includes('1000 log records'), `names log records: ${logsOver.body}`);
});

test('the default MAX_ITEMS_PER_REQUEST refuses 60 MiB of empty JSON items at once', { timeout: 120_000 }, async t => {
  const app = await build(t);
  const n = 20_000_000;
  const body = `{"resourceSpans":[{"scopeSpans":[{"spans":[${'{},'.repeat(n - 1)}{}]}]}]}`;
  const started = Date.now();
  const res = await app.inject({ method: 'POST', url: '/v1/traces', headers: JSON_TYPE, payload: body });
  assert.equal(res.statusCode, 413, res.body.slice(0, 300));
  assert.ok(res.body.includes('65536 spans'), `names the default limit: ${res.body.slice(0, 300)}`);
  // Parsing it took minutes; the count stops after 65,537 items.
  assert.ok(Date.now() - started < 30_000, `answered in ${Date.now() - started} ms`);
});
