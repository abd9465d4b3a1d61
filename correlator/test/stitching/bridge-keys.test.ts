// The keys a bridge span carries from its two traces: every value either names, in one order
// whatever order they arrived in.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bridgeTraceKeys } from '../../src/stitching/bridge-keys.js';
import type { TraceKeyValues } from '../../src/store/trace-key-values.js';

const trace = (keys: TraceKeyValues['keys'], moreKeys: string[] = []): TraceKeyValues => ({ keys, moreKeys });

const CASES: { name: string; parent: TraceKeyValues | null; child: TraceKeyValues | null; want: ReturnType<typeof bridgeTraceKeys> }[] = [
  { name: 'neither trace known', parent: null, child: null, want: null },
  { name: 'one trace known', parent: null, child: trace({ request_id: 'R-1' }), want: { request_id: ['R-1'] } },
  {
    name: 'a key both name alike is one value',
    parent: trace({ product_id: 'P-1' }),
    child: trace({ product_id: 'P-1' }),
    want: { product_id: ['P-1'] },
  },
  {
    name: "the two traces' values of a key, sorted (the parent's is not first)",
    parent: trace({ request_id: 'R-2' }),
    child: trace({ request_id: 'R-1' }),
    want: { request_id: ['R-1', 'R-2'] },
  },
  {
    name: "a trace's further values count as its first does",
    parent: trace({ request_id: 'R-3' }, ['request_id', 'R-1', 'circuit_id', 'C-2']),
    child: trace({ circuit_id: 'C-1' }),
    want: { circuit_id: ['C-1', 'C-2'], request_id: ['R-1', 'R-3'] },
  },
  {
    name: 'an empty value is no value',
    parent: trace({ product_id: '' }),
    child: trace({ resource_id: 'X' }),
    want: { resource_id: ['X'] },
  },
];

for (const c of CASES) {
  test(`bridge keys: ${c.name}`, () => {
    assert.deepEqual(bridgeTraceKeys(c.parent, c.child), c.want);
  });
}

test('bridge keys: the same values in any order of arrival give the same answer, byte for byte', () => {
  const a = trace({ request_id: 'R-1', circuit_id: 'C-1' }, ['request_id', 'R-2']);
  const b = trace({ circuit_id: 'C-1', request_id: 'R-2' }, ['request_id', 'R-1']);
  assert.equal(JSON.stringify(bridgeTraceKeys(a, null)), JSON.stringify(bridgeTraceKeys(b, null)));
  assert.equal(JSON.stringify(bridgeTraceKeys(a, b)), JSON.stringify(bridgeTraceKeys(b, a)));
});
