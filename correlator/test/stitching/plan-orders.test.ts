// PlanOrders keeps hot state's planning orders within the bytes their naming indexes may hold,
// dropping the least recently used, and counts each change to an order it keeps.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { CandidateSpans } from '../../src/correlation/candidate-spans.js';
import type { TraceState } from '../../src/correlation/types.js';
import { PlanOrder } from '../../src/stitching/plan-order.js';
import { PlanOrders } from '../../src/stitching/plan-orders.js';

const baseMs = Date.now() - 600_000;

function member(n: number, calls: number): TraceState {
  const startMs = baseMs + n * 1000;
  const candidates = new CandidateSpans();
  for (let k = 0; k < calls; k++) candidates.push(`${n}.${k}`.padEnd(16, '0'), 'mdso', startMs + k, startMs + k + 1, 3, { name: 'arda', isHost: false });
  return {
    traceId: n.toString(16).padStart(32, '0'),
    services: ['mdso'],
    firstMs: startMs,
    lastMs: startMs + 500,
    spanLastMs: startMs + 500,
    spanCount: calls + 1,
    errorCount: 0,
    errorLogCount: 0,
    logCount: 0,
    entry: { spanId: `e${n}`.padEnd(16, '0'), service: 'mdso', name: 'plan', startMs, endMs: startMs + 500, hasParent: false },
    candidates,
    keys: { circuit_id: 'C' },
    moreKeys: [],
    linkedTraceIds: [],
  };
}

const group = (mapKey: string) => ({ mapKey });
const orderOf = (first: number) => PlanOrder.of([member(first, 10), member(first + 1, 10)]);

it('drops the least recently used orders past the allowance, and counts what an order gains', () => {
  const one = orderOf(0).namingBytes;
  assert.ok(one > 0);
  const orders = new PlanOrders<{ mapKey: string }>(2 * one, 100);
  const [a, b, c] = [group('a'), group('b'), group('c')];
  orders.set(a, orderOf(0));
  orders.set(b, orderOf(10));
  assert.ok(orders.get(a), 'a used last');
  orders.set(c, orderOf(20));
  orders.fit();
  assert.deepEqual([!!orders.get(a), !!orders.get(b), !!orders.get(c)], [true, false, true], 'b, least recently used, dropped');
  assert.deepEqual([orders.bytes, orders.size, orders.dropped], [2 * one, 2, 1]);

  const grown = orders.get(a)!;
  orders.update(a, grown, member(5, 100));
  assert.equal(orders.bytes, one + grown.namingBytes, 'a member of 100 named calls counted');
  orders.forget('c');
  assert.equal(orders.bytes, grown.namingBytes, 'an order forgotten is counted no more');
  orders.fit();
  assert.deepEqual([orders.bytes, orders.size], [0, 0], 'an order alone over the allowance goes too');
});

it('an order is its group object’s: another episode of the key finds none', () => {
  const orders = new PlanOrders<{ mapKey: string }>(Infinity, 100);
  orders.set(group('k'), orderOf(0));
  assert.equal(orders.get(group('k')), undefined);
});

it('keeps no more than maxOrders orders, whatever they hold', () => {
  const orders = new PlanOrders<{ mapKey: string }>(Infinity, 2);
  for (const k of ['a', 'b', 'c']) orders.set(group(k), PlanOrder.of([member(0, 0)]));
  orders.fit();
  assert.equal(orders.size, 2);
});
