// The JS SDK writes every whole JS number as an `intValue`, 1e20 and Number.MAX_VALUE too (it
// cannot tell 1e20 from an integer). Past int64 such a JSON number can only be the double it was:
// it is stored as one, as the same span sent as protobuf is, rather than rejecting the span, which
// lost it over JSON alone (found by a review). A string past int64 is still no int64, and rejected.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTestApp } from './app-fixture.js';
import { SpanKind, buildTraces, tracesJson, tracesProtobuf } from '../fixtures/otel-sdk.js';

const T0 = Date.now() - 60_000;

type Json = Record<string, unknown>;

async function sdkTrace(seed: number) {
  const [trace] = await buildTraces(
    [
      {
        service: 'beorn',
        spans: [
          {
            name: 'measure',
            kind: SpanKind.SERVER,
            startMs: T0,
            endMs: T0 + 10,
            attributes: { circuit_id: `C-whole-${seed}`, huge: 1e20, largest: Number.MAX_VALUE, small: 42 },
          },
        ],
      },
    ],
    seed,
  );
  return trace!;
}

describe('whole numbers past int64 in OTLP/JSON', () => {
  it('are stored as the doubles the SDK meant, as their protobuf form is', async t => {
    const app = await buildTestApp(t);
    const viaJson = await sdkTrace(1);
    const viaProtobuf = await sdkTrace(2);
    const body = tracesJson(viaJson.spans);
    assert.match(JSON.stringify(body), /"intValue":100000000000000000000}/, 'the SDK writes 1e20 as an intValue');
    const json = await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    assert.equal(json.statusCode, 200, json.body);
    assert.deepEqual(json.json(), {}, 'nothing rejected');
    const proto = await app.inject({
      method: 'POST',
      url: '/v1/traces',
      headers: { 'content-type': 'application/x-protobuf' },
      payload: tracesProtobuf(viaProtobuf.spans),
    });
    assert.equal(proto.statusCode, 200, proto.body);

    const attributes = async (traceId: string) => {
      const res = await app.inject(`/api/traces/${traceId}`);
      assert.equal(res.statusCode, 200, res.body);
      const spans = res.json<{ spans: { attributes: Json }[] }>().spans;
      const { huge, largest, small } = spans[0]!.attributes;
      return { huge, largest, small };
    };
    const expected = { huge: 1e20, largest: Number.MAX_VALUE, small: 42 };
    assert.deepEqual(await attributes(viaJson.traceId), expected);
    assert.deepEqual(await attributes(viaProtobuf.traceId), expected, 'as the protobuf form');
  });

  it('written as a string is still rejected, naming the attribute', async t => {
    const app = await buildTestApp(t);
    const body = tracesJson((await sdkTrace(3)).spans) as { resourceSpans: { scopeSpans: { spans: { attributes: Json[] }[] }[] }[] };
    const span = body.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    span.attributes.push({ key: 'n', value: { intValue: '100000000000000000000' } });
    const res = await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    assert.equal(res.statusCode, 200, res.body);
    const partial = res.json<{ partialSuccess?: { rejectedSpans?: string | number; errorMessage?: string } }>().partialSuccess;
    assert.equal(Number(partial?.rejectedSpans), 1);
    assert.match(partial?.errorMessage ?? '', /intValue "100000000000000000000" is not a 64-bit integer/);
  });
});
