// Entity refs read back from a stored resource (entity-refs.ts), on bytes made by hand: the
// protobuf path stores the field as it came, so what cannot be read is left out, not a failure.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalResource } from '../../src/otlp/canonical-resource.js';
import { readEntityRefs, refsLeftOut } from '../../src/otlp/entity-refs.js';
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

// What a ref's bytes can get wrong, which no encoder writes and OTLP/JSON cannot say (the ways
// both encodings share are tested from either in test/api/entity-ref-encodings.test.ts).
describe('refsLeftOut, of refs whose bytes are no EntityRef', () => {
  const host = ref(text(2, 'host'), text(3, 'host.id'));
  // In canonical order (canonical-resource.ts), so that what is stored is these bytes less the ref.
  const attributes = [attribute('host.id', 'h-1'), attribute('service.name', 'beorn')];
  const isAttribute = (key: string) => key === 'service.name' || key === 'host.id';
  const cases: [string, Buffer, string][] = [
    ['bytes that do not parse', ref(Buffer.from([0x12, 50, 0x61])), 'entityRefs[0] left out: its bytes are not an EntityRef message'],
    ['a field 3 of another wire type', Buffer.concat([varint((3 << 3) | 0), varint(1)]), 'entityRefs[0] left out: it is of wire type 0, not an EntityRef message'],
  ];
  for (const [title, bad, problem] of cases) {
    it(`leaves out ${title}, saying so, and the resource is stored without it`, () => {
      const resource = Buffer.concat([...attributes, bad, host]);
      const leftOut = refsLeftOut(resource, 0, resource.length, isAttribute);
      assert.deepEqual(leftOut?.problems, [problem]);
      const stored = canonicalResource(resource, 0, resource.length, leftOut?.fields);
      assert.deepEqual(Buffer.from(stored), Buffer.concat([...attributes, host]));
      assert.deepEqual(readEntityRefs(stored), [{ type: 'host', idKeys: ['host.id'], descriptionKeys: [] }]);
    });
  }

  it('leaves out nothing, and the resource keeps its bytes, when every ref is one the spec allows', () => {
    const resource = Buffer.concat([...attributes, host]);
    assert.equal(refsLeftOut(resource, 0, resource.length, isAttribute), null);
  });
});
