// The form resources are stored and told apart in (canonical-resource.ts), on bytes made by hand:
// fields in number order, attributes by key, dropped_attributes_count 0 left out; bytes already in
// that form are not copied.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalResource } from '../../src/otlp/canonical-resource.js';
import { keyValue, len, stringValue, varint } from '../fixtures/hand-made-otlp.js';

const attribute = (key: string, value: string) => len(1, keyValue(key, stringValue(value)));
const dropped = (n: number) => Buffer.concat([varint((2 << 3) | 0), varint(n)]);
/** An entity ref (field 3), which the correlator does not read: kept as it came. */
const entityRef = (type: string) => len(3, len(2, Buffer.from(type)));

/** The canonical form of a message that sits between other bytes, as a resource does in a request. */
function canonical(...fields: Buffer[]): Buffer {
  const before = Buffer.from([0xff, 0xfe]);
  const message = Buffer.concat(fields);
  const buf = Buffer.concat([before, message, Buffer.from([0xfd])]);
  return Buffer.from(canonicalResource(buf, before.length, before.length + message.length));
}

describe('canonicalResource', () => {
  it('returns bytes already in canonical form as they are, not a copy', () => {
    const buf = Buffer.concat([attribute('a', '1'), attribute('b', '2'), dropped(3), entityRef('host')]);
    const out = canonicalResource(buf, 0, buf.length);
    assert.equal(out.buffer, buf.buffer);
    assert.deepEqual([out.byteOffset, out.length], [buf.byteOffset, buf.length]);
  });

  it('leaves out a dropped_attributes_count of 0 and keeps any other', () => {
    assert.deepEqual(canonical(attribute('a', '1'), dropped(0)), attribute('a', '1'));
    assert.deepEqual(canonical(attribute('a', '1'), dropped(2 ** 32)), Buffer.concat([attribute('a', '1'), dropped(2 ** 32)]));
  });

  it('orders attributes by the bytes of their keys, keeping the order of equal keys', () => {
    const [a, b, b2, ab] = [attribute('a', '1'), attribute('b', '2'), attribute('b', '3'), attribute('ab', '4')];
    assert.deepEqual(canonical(b, ab, b2, a), Buffer.concat([a, ab, b, b2]));
    // A key written after the value is still the key.
    const valueFirst = len(1, len(2, stringValue('0')), Buffer.from([0x0a, 1, 0x30]));
    assert.deepEqual(canonical(a, valueFirst), Buffer.concat([valueFirst, a]));
  });

  it('orders fields by number, repeated ones as they came', () => {
    const [host, os] = [entityRef('host'), entityRef('os')];
    assert.deepEqual(canonical(os, dropped(1), attribute('a', '1'), host), Buffer.concat([attribute('a', '1'), dropped(1), os, host]));
  });
});
