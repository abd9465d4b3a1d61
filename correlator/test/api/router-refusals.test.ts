// Paths the router refuses before any route: answered in the shape every route answers with, a 400
// that quotes no more than the start of the path (RV18: a 414 saying "Bad Request", quoting 3 KB).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp } from './app-fixture.js';

const CASES: [title: string, url: string, code: string, message: RegExp][] = [
  [
    'an id past the router bound',
    `/api/circuits/${'x'.repeat(3000)}/trace`,
    'CORR_ERR_PARAM_TOO_LONG',
    /^a path parameter of "\/api\/circuits\/x{66}…" is over 2048 characters; an id is at most 512$/,
  ],
  ['a trace id past it', `/api/traces/${'a'.repeat(2049)}`, 'CORR_ERR_PARAM_TOO_LONG', /is over 2048 characters/],
  ['a malformed percent-encoding', '/api/circuits/%zz/logs', 'CORR_ERR_BAD_URL', /^the path "\/api\/circuits\/%zz\/logs" is not valid percent-encoding$/],
];

for (const [title, url, code, message] of CASES) {
  test(`${title} is a 400 in the API's error shape`, async t => {
    const app = await buildTestApp(t);
    const res = await app.inject(url);
    assert.equal(res.statusCode, 400, res.body);
    assert.match(String(res.headers['content-type']), /^application\/json; charset=utf-8$/);
    const body = res.json<Record<string, unknown>>();
    assert.deepEqual(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode']);
    assert.deepEqual([body.statusCode, body.error, body.code], [400, 'Bad Request', code]);
    assert.match(String(body.message), message);
  });
}

test('an id within the router bound but past 512 characters is still the schema\'s 400', async t => {
  const app = await buildTestApp(t);
  const res = await app.inject(`/api/circuits/${'x'.repeat(600)}`);
  assert.equal(res.statusCode, 400);
  assert.match(res.json<{ message: string }>().message, /params\/id must NOT have more than 512 characters/);
});
