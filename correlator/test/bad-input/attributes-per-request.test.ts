// MAX_ATTRIBUTES_PER_REQUEST: an OTLP/JSON request with more attributes, events, links and array
// or key-value list members than that is refused with 413 naming the setting and the count,
// before it is parsed. MAX_ITEMS_PER_REQUEST counted only spans and containers: one span of 2.6
// million attributes (57 MiB) held the event loop for 5 to 9 s, most of it in the normaliser.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { countJsonItems, itemLimitExceeded } from '../../src/otlp/item-count.js';
import { build } from '../helpers/app.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const attr = (i: number) => ({ key: `a${i}`, value: { stringValue: 'v' } });

/** One request of `spans` spans, each with `attributes` attributes, as the normaliser takes it. */
function traces(spans: number, attributes: number, extra: Record<string, unknown> = {}): string {
  const nanos = String(BigInt(Date.now()) * 1_000_000n);
  return JSON.stringify({
    resourceSpans: [{ scopeSpans: [{ spans: Array.from({ length: spans }, (_, i) => ({
      traceId: 'ab'.repeat(16), spanId: (i + 1).toString(16).padStart(16, '0'), name: 'op',
      startTimeUnixNano: nanos, endTimeUnixNano: nanos,
      attributes: Array.from({ length: attributes }, (_, j) => attr(j)),
      ...extra,
    })) }] }],
  });
}

describe('counting attributes before parsing', () => {
  it('counts attributes, events, links and array and list members, wherever they are, and stops past the limit', () => {
    const text = JSON.stringify({
      resourceLogs: [{
        resource: { attributes: [attr(0), attr(1)] },
        scopeLogs: [{ scope: { attributes: [attr(2)] }, logRecords: [{
          attributes: [{ key: 'list', value: { arrayValue: { values: [{ intValue: 1 }, { kvlistValue: { values: [attr(3), attr(4)] } }] } } }],
          body: { kvlistValue: { values: [attr(5)] } },
        }] }],
      }],
    });
    // 2 resource, 1 scope, 1 log attribute, 2 array members, 2 list members, 1 body list member.
    assert.deepEqual(countJsonItems(text, 'logs', 1000, 1000), { items: 1, containers: 2, attributes: 9 });
    const spanText = traces(1, 3, { events: [{ name: 'e', attributes: [attr(9)] }], links: [{ traceId: 'cd'.repeat(16), spanId: '0'.repeat(15) + '1' }] });
    assert.deepEqual(countJsonItems(spanText, 'traces', 1000, 1000), { items: 1, containers: 2, attributes: 6 });
    assert.equal(countJsonItems(traces(1, 100_000), 'traces', 1000, 10).attributes, 11, 'stops past the limit');
    assert.deepEqual(countJsonItems(text, 'logs', 1000), { items: 1, containers: 2 }, 'not counted without a limit');
  });

  it('refuses more than MAX_ATTRIBUTES_PER_REQUEST with 413 naming the count and the setting', async t => {
    const app = await build(t, { MAX_ATTRIBUTES_PER_REQUEST: '1000' });
    const post = (url: string, payload: string) => app.inject({ method: 'POST', url, headers: JSON_TYPE, payload });
    const over = await post('/v1/traces', traces(1, 1001));
    assert.equal(over.statusCode, 413, over.body);
    assert.equal(
      over.json<{ message: string }>().message,
      'the request holds more than 1000 attributes, events, links and array or key-value list members (at least 1001; limit MAX_ATTRIBUTES_PER_REQUEST); send them in smaller requests',
    );
    const spread = await post('/v1/traces', traces(10, 101));
    assert.equal(spread.statusCode, 413, `counted across spans: ${spread.body}`);
    const atLimit = await post('/v1/traces', traces(10, 100));
    assert.equal(atLimit.statusCode, 200, atLimit.body);
    const logs = JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { arrayValue: { values: Array.from({ length: 1001 }, () => ({ intValue: 1 })) } } }] }] }] });
    const logsOver = await post('/v1/logs', logs);
    assert.equal(logsOver.statusCode, 413, `a body's array members count: ${logsOver.body}`);
  });

  it('the default takes what exporters send: 512 spans of 128 attributes each', async t => {
    const app = await build(t);
    const res = await app.inject({ method: 'POST', url: '/v1/traces', headers: JSON_TYPE, payload: traces(512, 128) });
    assert.equal(res.statusCode, 200, res.body.slice(0, 300));
    assert.equal(res.body, '{}', 'every span taken');
  });

  it("the default refuses the reviewer's 2.6 million attributes of one span, counted before parsing", () => {
    const limit = loadConfig({}).limits.maxAttributesPerRequest;
    const text = `{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[${'{"key":"a","value":{}},'.repeat(2_600_000)}{}]}]}]}]}`;
    const count = countJsonItems(text, 'traces', 65_536, limit);
    assert.match(itemLimitExceeded('traces', count, 65_536, limit) ?? '', /more than 524288 attributes.*MAX_ATTRIBUTES_PER_REQUEST/);
  });
});
