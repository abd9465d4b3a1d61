// /metrics shows what hot state's live tier and the planning orders' naming indexes hold, and how
// many live entries were encoded for lack of room: before, the live tier was bounded by entries
// alone and no metric showed either.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp, postAccepted } from '../api/app-fixture.js';

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** An OTLP/JSON request of `traces` traces of circuit C-1, each an entry and a client call naming another service. */
function tracesBody(traces: number): object {
  const now = Date.now() - 60_000;
  const spans = [];
  for (let t = 0; t < traces; t++) {
    const traceId = hex(t + 1, 32);
    const start = now + t * 1000;
    const ns = (ms: number) => `${BigInt(ms) * 1_000_000n}`;
    spans.push(
      { traceId, spanId: hex(2 * t + 1, 16), name: 'plan', kind: 2, startTimeUnixNano: ns(start), endTimeUnixNano: ns(start + 500), attributes: [{ key: 'circuit_id', value: { stringValue: 'C-1' } }] },
      { traceId, spanId: hex(2 * t + 2, 16), parentSpanId: hex(2 * t + 1, 16), name: 'call', kind: 3, startTimeUnixNano: ns(start + 10), endTimeUnixNano: ns(start + 400), attributes: [{ key: 'peer.service', value: { stringValue: 'arda' } }] },
    );
  }
  return { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'mdso' } }] }, scopeSpans: [{ scope: { name: 't' }, spans }] }] };
}

const gauge = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);

test('the live tier’s bytes, their bound, its demotions and the naming indexes’ bytes are on /metrics', async t => {
  const app = await buildTestApp(t);
  let text = (await app.inject('/metrics')).body;
  for (const kind of ['traces', 'keys']) {
    assert.equal(gauge(text, `hot_state_live_bytes{kind="${kind}"}`), 0, `${kind}: nothing live yet`);
    assert.ok(gauge(text, `hot_state_live_limit_bytes{kind="${kind}"}`) > 0, `${kind}: its bound`);
    for (const reason of ['entries', 'bytes']) assert.equal(gauge(text, `hot_state_demotions_total{kind="${kind}",reason="${reason}"}`), 0);
  }
  assert.equal(gauge(text, 'hot_state_naming_index_bytes'), 0);
  await postAccepted(app, '/v1/traces', tracesBody(3));
  await postAccepted(app, '/v1/traces', tracesBody(4));
  text = (await app.inject('/metrics')).body;
  // Two kilobytes or so a trace of two spans; a circuit's group of four members, with its bridges.
  const traces = gauge(text, 'hot_state_live_bytes{kind="traces"}');
  assert.ok(traces > 4 * 1000 && traces < 4 * 4000, `${traces} B for 4 live traces`);
  assert.ok(gauge(text, 'hot_state_live_bytes{kind="keys"}') > 1000);
  // The circuit's planning order keeps its members' calls that name arda.
  assert.ok(gauge(text, 'hot_state_naming_index_bytes') > 0);
});
