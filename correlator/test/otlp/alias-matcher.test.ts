// Matching a key's bytes must give exactly what decoding the key and looking it up gave: the same
// business key for every alias, nothing for every near miss, and the string path's answer for keys
// outside ASCII (malformed bytes, a byte-order mark, non-ASCII aliases).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BusinessKeyName } from '@correlation-station/api-schema';
import { AliasMatcher } from '../../src/otlp/alias-matcher.js';
import { utf8 } from '../../src/otlp/wire-reader.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import { loadConfig } from '../../src/config/config.js';

const aliases = new Map<string, BusinessKeyName>([
  ['circuit_id', 'circuit_id'],
  ['mdso.circuit_id', 'circuit_id'],
  ['circuit.id', 'circuit_id'],
  ['resource_id', 'resource_id'],
  ['http.request.header.x_circuit_id', 'circuit_id'],
  ['clé_circuit', 'circuit_id'],
  ['x'.repeat(300), 'request_id'],
]);
const matcher = new AliasMatcher(aliases);
const BOM_BYTES = Buffer.from([0xef, 0xbb, 0xbf]);

/** The key's bytes at an offset inside a larger buffer, as they sit in a request body. */
function inBody(key: Buffer): [Buffer, number, number] {
  const body = Buffer.concat([Buffer.from([0x0a, 0xff, 0x7f]), key, Buffer.from('circuit_id')]);
  return [body, 3, 3 + key.length];
}

describe('AliasMatcher', () => {
  const cases: [string, Buffer, BusinessKeyName | undefined][] = [
    ['an alias', Buffer.from('circuit_id'), 'circuit_id'],
    ['a dotted alias', Buffer.from('mdso.circuit_id'), 'circuit_id'],
    ['a captured header alias', Buffer.from('http.request.header.x_circuit_id'), 'circuit_id'],
    ['an alias of 300 bytes', Buffer.from('x'.repeat(300)), 'request_id'],
    ['one byte short of an alias', Buffer.from('circuit_i'), undefined],
    ['an alias with a byte more', Buffer.from('circuit_idx'), undefined],
    ['an alias length with other bytes', Buffer.from('circuit_xx'), undefined],
    ['an alias differing in case', Buffer.from('Circuit_Id'), undefined],
    ['299 bytes of an alias of 300', Buffer.from('x'.repeat(299)), undefined],
    ['an ordinary attribute', Buffer.from('http.method'), undefined],
    ['an empty key', Buffer.alloc(0), undefined],
    ['a non-ASCII alias', Buffer.from('clé_circuit'), 'circuit_id'],
    // Decoding keeps a leading byte-order mark, as protobuf decoders do: the key is not the alias.
    [
      'a byte-order mark before an alias',
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('circuit_id')]),
      undefined,
    ],
    ['malformed UTF-8', Buffer.from([0x63, 0xff, 0x69]), undefined],
    [
      'malformed UTF-8 of an alias length',
      Buffer.from([0x63, 0xff, 0x69, 0x72, 0x63, 0x75, 0x69, 0x74, 0x5f, 0x69]),
      undefined,
    ],
    [
      'a byte-order mark before a non-ASCII alias',
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('clé_circuit')]),
      undefined,
    ],
  ];
  for (const [name, key, expected] of cases) {
    it(`${name}: ${expected ?? 'no key'}, as decoding the key and looking it up gives`, () => {
      const [body, start, end] = inBody(key);
      assert.equal(matcher.match(body, start, end), expected);
      assert.equal(matcher.match(body, start, end), aliases.get(utf8(body, start, end)));
    });
  }

  it('matches every default alias of the configuration, and only those', () => {
    const config = loadConfig({});
    const rules = keyRulesFromConfig(config);
    const defaults = Object.entries(config.keys.aliases);
    assert.ok(defaults.length > 3, 'defaults.length > 3');
    for (const [name, key] of defaults) {
      const [body, start, end] = inBody(Buffer.from(name, 'utf8'));
      assert.equal(rules.aliases.match(body, start, end), key, name);
      const [near, s2, e2] = inBody(Buffer.from(`${name}_`, 'utf8'));
      assert.equal(rules.aliases.match(near, s2, e2), config.keys.aliases[`${name}_`], `${name}_`);
    }
  });

  it('matches a malformed key to an alias holding U+FFFD, as decoding does', () => {
    const withReplacement = new AliasMatcher(
      new Map<string, BusinessKeyName>([
        ['c\uFFFDi', 'circuit_id'],
        ['circuit_id', 'circuit_id'],
      ]),
    );
    const [body, start, end] = inBody(Buffer.from([0x63, 0xff, 0x69]));
    assert.equal(withReplacement.match(body, start, end), 'circuit_id');
    const [plain, s2, e2] = inBody(Buffer.from('circuit_id'));
    assert.equal(withReplacement.match(plain, s2, e2), 'circuit_id');
  });

  it('gives what decoding and looking up gives for thousands of keys near the default aliases', () => {
    const config = loadConfig({});
    const defaults = new Map(Object.entries(config.keys.aliases));
    const rules = keyRulesFromConfig(config);
    let seed = 7;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const names = [
      ...defaults.keys(),
      'http.request.method',
      'http.route',
      'url.scheme',
      'mdso.step_kind',
      'sense.step',
    ];
    let hits = 0;
    for (let i = 0; i < 20_000; i++) {
      const key = Buffer.from(names[rand(names.length)]!, 'utf8');
      let mutated: Buffer;
      switch (rand(6)) {
        case 0:
          mutated = key;
          break;
        case 1:
          mutated = Buffer.from(key);
          mutated[rand(mutated.length)] = rand(256);
          break;
        case 2:
          mutated = key.subarray(0, rand(key.length + 1));
          break;
        case 3:
          mutated = Buffer.concat([key, Buffer.from([rand(128)])]);
          break;
        case 4:
          mutated = Buffer.concat([BOM_BYTES, key]);
          break;
        default:
          mutated = Buffer.from(
            key.toString('latin1').replace(/[a-z]/, c => c.toUpperCase()),
            'latin1',
          );
      }
      const [body, start, end] = inBody(mutated);
      const expected = defaults.get(utf8(body, start, end));
      if (expected) hits++;
      assert.equal(rules.aliases.match(body, start, end), expected, mutated.toString('hex'));
    }
    // The cases are not all misses: a matcher that never matched would fail above, not pass here.
    assert.ok(hits > 2000, `hits ${hits}`);
  });
});
