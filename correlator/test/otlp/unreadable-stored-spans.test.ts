// Spans stored before ingest checked their attributes may hold a value the view's reader cannot
// read; each view of their trace and circuit answered 500 for good. The views show a placeholder
// for what they cannot read and the rest as it is.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { timelineSpansJson } from '../../src/api/span-json.js';
import { toApiSpan } from '../../src/api/span-view.js';
import type { StoredResource, StoredSpan } from '../../src/store/store.js';
import { T0, TRACE, keyValue, len, nestedArrays, overrun, span, stringValue } from '../fixtures/hand-made-otlp.js';

describe('the views show a span stored before ingest checked it, with a placeholder for what they cannot read', () => {
  const resource: StoredResource = { id: 1, serviceName: 'beorn', scopeName: 'scope', scopeVersion: '', body: Buffer.alloc(0) };
  const storedSpan = (body: Buffer): StoredSpan => ({
    traceId: TRACE.toString('hex'),
    spanId: body.subarray(body.indexOf(0x12) + 2, body.indexOf(0x12) + 10).toString('hex'),
    parentSpanId: '',
    service: 'beorn',
    startMs: T0,
    synthetic: false,
    body,
    resource,
    stamp: null,
    slot: -1,
  });
  const cases: [title: string, body: Buffer, read: (view: ReturnType<typeof toApiSpan>) => unknown][] = [
    ['a span attribute that overruns', span({ span: [keyValue('x', overrun), keyValue('after', stringValue('kept'))] }), v => [v.attributes['x'], v.attributes['after']]],
    ['a span attribute nested too deep', span({ span: [keyValue('deep', nestedArrays(40))] }), v => [v.attributes['deep'], v.attributes['circuit_id']]],
    ['an event attribute that overruns', span({ event: [keyValue('ev.x', overrun)] }), v => [v.events[0]?.attributes['ev.x'], v.events[0]?.name]],
    ['a link attribute nested too deep', span({ link: [keyValue('l.x', nestedArrays(40))] }), v => [v.links[0]?.attributes['l.x'], v.links[0]?.spanId]],
  ];
  for (const [title, body, read] of cases) {
    it(title, () => {
      const s = storedSpan(body);
      const view = toApiSpan(s);
      const [unreadable, kept] = read(view) as [unknown, unknown];
      assert.ok(typeof unreadable === 'string' && unreadable.startsWith('(attribute value could not be read: '), `placeholder, got ${JSON.stringify(unreadable)}`);
      assert.ok(typeof kept === 'string' && kept.length > 0, `the rest of the span is shown, got ${JSON.stringify(kept)}`);
      const json = JSON.parse(Buffer.concat(timelineSpansJson([s]).parts).toString('utf8')) as unknown[];
      assert.ok(json.length === 1, 'the view renders the span');
      assert.ok(isDeepStrictEqual(json[0], JSON.parse(JSON.stringify(view))), 'the rendered JSON is the span with its placeholder');
    });
  }

  it('an event whose own fields overrun shows as one it could not read', () => {
    const broken = Buffer.concat([span(), len(11, Buffer.from([0x12, 40, 0x61]))]);
    const view = toApiSpan(storedSpan(broken));
    assert.ok(view.events.length === 1 && view.events[0]!.name.startsWith('(event could not be read: '), `placeholder event: ${JSON.stringify(view.events)}`);
    assert.ok(view.attributes['circuit_id'] === 'C-1', 'the span attributes are still shown');
  });
});
