// What the heap has room for in request bodies: the old generation up to the high mark, less what a
// full collection left in use, in body bytes at what each costs the heap.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HEAP_BYTES_PER_BODY_BYTE, bodyBytesHeapAllows } from '../../src/runtime/heap-headroom.js';
import { HEAP_MARKS } from '../../src/runtime/heap-pressure.js';

const MiB = 2 ** 20;
const marks = { high: 0.85, low: 0.75 };

describe('bodyBytesHeapAllows', () => {
  it('is the room below the high mark divided by what a body byte costs the heap', () => {
    assert.equal(bodyBytesHeapAllows({ usedBytes: 600, limitBytes: 1000 }, marks, 5), 50);
    assert.equal(bodyBytesHeapAllows({ usedBytes: 600, limitBytes: 1000 }, marks, 1), 250);
  });

  it('is 0 at or past the high mark', () => {
    assert.equal(bodyBytesHeapAllows({ usedBytes: 850, limitBytes: 1000 }, marks, 5), 0);
    assert.equal(bodyBytesHeapAllows({ usedBytes: 990, limitBytes: 1000 }, marks, 5), 0);
  });

  it('leaves a 64 MiB heap holding 45 MiB a few MiB of bodies, not the 256 MiB of MAX_INFLIGHT_BYTES', () => {
    const allowed = bodyBytesHeapAllows({ usedBytes: 45 * MiB, limitBytes: 64 * MiB });
    assert.equal(allowed, Math.floor((64 * MiB * HEAP_MARKS.high - 45 * MiB) / HEAP_BYTES_PER_BODY_BYTE));
    assert.ok(allowed < 2 * MiB, `${allowed}`);
  });

  it('leaves a 4 GiB heap more than MAX_INFLIGHT_BYTES, which then bounds as before', () => {
    assert.ok(bodyBytesHeapAllows({ usedBytes: 200 * MiB, limitBytes: 4096 * MiB }) > 256 * MiB);
  });
});
