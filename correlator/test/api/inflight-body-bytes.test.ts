// MAX_INFLIGHT_BYTES's bookkeeping: what each request holds, what is refused, what is given back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InflightBodyBytes } from '../../src/api/inflight-body-bytes.js';

describe('InflightBodyBytes', () => {
  it('refuses bytes that do not fit beside what other requests hold, counting none of them', () => {
    const budget = new InflightBodyBytes(100);
    const a = budget.open();
    const b = budget.open();
    assert.equal(a.take(60), true);
    assert.equal(b.take(30), true);
    assert.equal(b.take(20), false, 'b would bring the total to 110');
    assert.equal(b.held, 30);
    assert.equal(budget.held, 90);
    assert.equal(b.take(10), true, 'what still fits is taken');
    assert.equal(budget.peak, 100);
  });

  it('lets a request alone pass the budget (MAX_BODY_BYTES bounds it), and then refuses the others', () => {
    const budget = new InflightBodyBytes(100);
    const alone = budget.open();
    assert.equal(alone.take(80), true);
    assert.equal(alone.take(80), true);
    assert.equal(budget.held, 160);
    const next = budget.open();
    assert.equal(next.take(1), false);
    assert.equal(next.reserveDeclared(1), false);
    assert.equal(next.takeReceived(1), false);
    assert.equal(budget.held, 160);
  });

  it('counts received bytes only beyond the declared Content-Length', () => {
    const budget = new InflightBodyBytes(1000);
    const hold = budget.open();
    assert.equal(hold.reserveDeclared(100), true);
    assert.equal(hold.takeReceived(60), true);
    assert.equal(hold.takeReceived(40), true);
    assert.equal(hold.held, 100, 'the declared bytes were counted once');
    assert.equal(hold.take(500), true, 'what the body inflates to is counted besides');
    assert.equal(hold.held, 600);
    const chunked = budget.open();
    assert.equal(chunked.takeReceived(50), true);
    assert.equal(chunked.takeReceived(50), true);
    assert.equal(chunked.held, 100);
  });

  it('gives every byte back once, and counts nothing after', () => {
    const budget = new InflightBodyBytes(100);
    const a = budget.open();
    const b = budget.open();
    a.take(40);
    b.take(50);
    a.release();
    a.release();
    assert.equal(budget.held, 50);
    assert.equal(a.take(1000), true, 'a request that is over holds nothing more');
    assert.equal(budget.held, 50);
    b.release();
    assert.equal(budget.held, 0);
    assert.equal(budget.peak, 90);
  });

  it('is lowered to what the heap has room for, as that changes, and names the heap in its 503', () => {
    let heapRoom = 50;
    const budget = new InflightBodyBytes(100, () => heapRoom);
    assert.equal(budget.limit, 50);
    const a = budget.open();
    const b = budget.open();
    assert.equal(a.take(40), true);
    assert.equal(b.take(20), false, 'within MAX_INFLIGHT_BYTES, but not within the heap\'s room');
    assert.match(
      b.refusal(20, true).message,
      /limit 0\.0 MiB, what the heap has room for now, under MAX_INFLIGHT_BYTES's 0\.0 MiB; a larger --max-old-space-size raises it/,
    );
    heapRoom = 1000;
    assert.equal(budget.limit, 100, 'never above MAX_INFLIGHT_BYTES');
    assert.equal(b.take(20), true);
    heapRoom = 0;
    assert.equal(budget.open().take(1), false, 'a heap with no room takes nothing beside other requests');
    a.release();
    b.release();
    assert.equal(budget.open().take(80), true, 'a request alone is still let through');
  });

  it('names the budget, what is held and the size in its 503', () => {
    const budget = new InflightBodyBytes(2 * 2 ** 20);
    budget.open().take(2 ** 20);
    const hold = budget.open();
    hold.take(2 ** 19);
    const declared = hold.refusal(3 * 2 ** 20, true);
    assert.equal(declared.statusCode, 503);
    assert.equal(declared.retryAfterSeconds, 2);
    assert.match(
      declared.message,
      /holding 1\.5 MiB .* this one is 3\.0 MiB \(limit MAX_INFLIGHT_BYTES, 2\.0 MiB\)/,
    );
    assert.match(
      hold.refusal(2 ** 20, false).message,
      /this one had reached 1\.5 MiB as it arrived/,
    );
  });
});
