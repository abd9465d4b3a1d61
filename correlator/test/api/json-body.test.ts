import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonSyntaxMessage } from '../../src/api/json-body.js';
import { jsonErrorOffset } from '../../src/api/json-error-offset.js';
import { buildTestApp } from './app-fixture.js';

const PROTO = 'JSON key "__proto__" is not accepted: keys that could change objects\' prototypes are refused';
const CONSTRUCTOR = 'JSON key "constructor" holding a "prototype" is not accepted: keys that could change objects\' prototypes are refused';

/** Puts `inner` at the end of a chain of `depth` objects. */
const nested = (depth: number, inner: string) => '{"a":'.repeat(depth) + inner + '}'.repeat(depth);

// Each body twice: as an OTLP request and as a log batch, where the key sits among valid fields.
const cases: { title: string; extra: string; status: number; message: string }[] = [
  { title: 'a "__proto__" key', extra: '"__proto__":{"x":1}', status: 400, message: PROTO },
  { title: 'a "__proto__" key deep inside', extra: `"foo":${nested(200, '{"__proto__":1}')}`, status: 400, message: PROTO },
  { title: 'a "__proto__" key written with escapes', extra: '"foo":{"\\u005f_proto__":1}', status: 400, message: PROTO },
  { title: 'a "constructor" holding a "prototype"', extra: `"foo":${nested(3, '{"constructor":{"prototype":1}}')}`, status: 400, message: CONSTRUCTOR },
  { title: 'a "constructor" key holding no prototype', extra: '"foo":{"constructor":{"name":"x"},"c":"__proto__"}', status: 200, message: '' },
];
const routes: { url: string; body: (extra: string) => string }[] = [
  { url: '/v1/traces', body: extra => `{"resourceSpans":[],${extra}}` },
  { url: '/api/logs', body: extra => `{"resource":{"service":"s"},"records":[],${extra}}` },
];

describe('JSON bodies with keys that could poison prototypes', () => {
  for (const c of cases) {
    it(`${c.status === 200 ? 'accepts' : 'refuses, naming the key,'} ${c.title}`, async t => {
      const app = await buildTestApp(t);
      for (const r of routes) {
        const res = await app.inject({ method: 'POST', url: r.url, headers: { 'content-type': 'application/json' }, payload: r.body(c.extra) });
        assert.equal(res.statusCode, c.status, `${r.url}: ${res.body}`);
        if (c.status !== 200) assert.equal(res.json<{ message: string }>().message, c.message, `${r.url}: the message names the key`);
      }
    });
  }

  const invalid: { title: string; payload: string; message: string }[] = [
    { title: 'unterminated', payload: '{"resourceSpans": [', message: 'Body is not valid JSON: it ends at line 1, column 20 (character 19), before the JSON is complete' },
    {
      title: 'a "__proto__" key in a body that is not JSON',
      payload: '{"__proto__":1',
      message: 'Body is not valid JSON: it ends at line 1, column 15 (character 14), before the JSON is complete',
    },
    {
      title: 'a pretty-printed body with a missing quote on its third line',
      payload: '{\n  "resource": {"service": "s"},\n  "records": [{timestamp: 1}]\n}',
      message: "Body is not valid JSON: Expected property name or '}' at line 3, column 16 (character 49)",
    },
  ];
  for (const c of invalid) {
    it(`still calls a body that is not JSON invalid: ${c.title}`, async t => {
      const app = await buildTestApp(t);
      for (const r of routes) {
        const res = await app.inject({ method: 'POST', url: r.url, headers: { 'content-type': 'application/json' }, payload: c.payload });
        assert.equal(res.statusCode, 400, `${r.url}: ${res.body}`);
        assert.equal(res.json<{ message: string }>().message, c.message, `${r.url}: the syntax is what is wrong, and where`);
      }
    });
  }

  it('parses a body with a byte order mark, as before', async t => {
    const app = await buildTestApp(t);
    const res = await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/json' }, payload: '\ufeff{"resourceSpans":[]}' });
    assert.equal(res.statusCode, 200, res.body);
  });
});

describe('jsonSyntaxMessage', () => {
  const parserMessage = (text: string) => {
    try {
      JSON.parse(text);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error(`${text} parsed`);
  };
  const rows: { text: string; message: string }[] = [
    {
      text: '',
      message:
        'Body is not valid JSON: it ends at line 1, column 1 (character 0), before the JSON is complete',
    },
    {
      text: '{"a":1}x',
      message:
        'Body is not valid JSON: Unexpected non-whitespace character after JSON at line 1, column 8 (character 7)',
    },
    {
      text: '{"a":\r\n1,\r\n"b" 2}',
      message: 'Body is not valid JSON: Unexpected number at line 3, column 5 (character 15)',
    },
    // Node 20's V8 gives no position for an unexpected token (RV21): the scan finds it.
    {
      text: '[1,2,,]',
      message: 'Body is not valid JSON: Unexpected token \',\', "[1,2,,]" is not valid JSON at line 1, column 6 (character 5)',
    },
    {
      text: '{\n  "records": [\n    {"x": tru}\n  ]\n}',
      message: 'Body is not valid JSON: Unexpected token \'}\', ..." {"x": tru}\n  ]\n}" is not valid JSON at line 3, column 14 (character 30)',
    },
  ];
  for (const r of rows) {
    it(`says what and where for ${JSON.stringify(r.text)}`, () => {
      assert.equal(jsonSyntaxMessage(r.text, parserMessage(r.text)), r.message);
    });
  }
});

describe('jsonErrorOffset', () => {
  const rows: [text: string, offset: number][] = [
    ['{"a":[1,-2.5e+3,true,false,null,"x\\u00e9\\n"],"b":{}}', -1],
    [' [ ] ', -1],
    ['"only a string"', -1],
    ['', 0],
    ['[1,2,,]', 5],
    ['[1,]', 3],
    ['{"a" 1}', 5],
    ['{"a":1,}', 7],
    ['{a:1}', 1],
    ['01', 1],
    ['-', 1],
    ['1.', 2],
    ['1e', 2],
    ['tru', 3],
    ['trux', 3],
    ['"abc', 4],
    ['"a\\x"', 3],
    ['"a\\u12g4"', 6],
    ['"tab\there"', 4],
    ['{"a":1}x', 7],
    ['[1] [2]', 4],
    ['[{"a":[1}]', 8],
    ['{"a":1', 6],
  ];
  for (const [text, offset] of rows) {
    it(`${JSON.stringify(text)}: ${offset}`, () => {
      assert.equal(jsonErrorOffset(text), offset);
      // The same verdict as JSON.parse.
      let valid = true;
      try {
        JSON.parse(text);
      } catch {
        valid = false;
      }
      assert.equal(offset === -1, valid);
    });
  }
});
