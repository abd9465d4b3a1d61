// Entity refs read back from a stored resource (entity-refs.ts), on bytes made by hand: the
// protobuf path stores the field as it came, so what cannot be read is left out, not a failure.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readEntityRefs } from '../../src/otlp/entity-refs.js';
import { keyValue, len, stringValue, text, varint } from '../fixtures/hand-made-otlp.js';

const attribute = (key: string, value: string) => len(1, keyValue(key, stringValue(value)));
const ref = (...fields: Buffer[]) => len(3, ...fields);

describe('readEntityRefs', () => {
  const cases: [string, Buffer[], unknown[]][] = [
    ['none in a resource of attributes only', [attribute('host.id', 'h-1')], []],
    [
      'each ref in the order it came, its keys in theirs',
      [attribute('host.id', 'h-1'), ref(text(2, 'host'), text(3, 'host.id'), text(4, 'host.name'), text(4, 'host.arch')), ref(text(1, 'https://s'), text(2, 'os'))],
      [
        { type: 'host', idKeys: ['host.id'], descriptionKeys: ['host.name', 'host.arch'] },
        { type: 'os', schemaUrl: 'https://s', idKeys: [], descriptionKeys: [] },
      ],
    ],
    ['a field it does not know skipped', [ref(text(2, 'host'), Buffer.concat([varint((9 << 3) | 0), varint(5)]))], [{ type: 'host', idKeys: [], descriptionKeys: [] }]],
    ['a ref whose bytes do not parse left out, the others kept', [ref(Buffer.from([0x12, 50, 0x61])), ref(text(2, 'host'))], [{ type: 'host', idKeys: [], descriptionKeys: [] }]],
    ['a field 3 of another wire type not taken for a ref', [Buffer.concat([varint((3 << 3) | 0), varint(1)]), ref(text(2, 'host'))], [{ type: 'host', idKeys: [], descriptionKeys: [] }]],
  ];
  for (const [title, fields, refs] of cases) {
    it(title, () => assert.deepEqual(readEntityRefs(Buffer.concat(fields)), refs));
  }

  it('keeps the refs before a tail that does not parse', () => {
    const buf = Buffer.concat([ref(text(2, 'host')), Buffer.from([0x1a, 40, 0x12])]);
    assert.deepEqual(readEntityRefs(buf), [{ type: 'host', idKeys: [], descriptionKeys: [] }]);
  });
});
