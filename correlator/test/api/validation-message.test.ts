// A request its route's schema refuses gets a message that says what would have been accepted:
// through fastify and its Ajv, as the routes validate, and through the correlator's own app.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { Type } from 'typebox';
import { AJV_OPTIONS, schemaErrorFormatter, validationMessage } from '../../src/api/validation-message.js';
import { buildTestApp } from './app-fixture.js';

async function refusal(schema: object, url: string, payload?: object): Promise<string> {
  const app = Fastify({ ajv: { customOptions: AJV_OPTIONS }, schemaErrorFormatter });
  app.get('/x', { schema: { ...schema, body: undefined } }, async () => ({ ok: true }));
  app.post('/x', { schema }, async () => ({ ok: true }));
  const res = await app.inject({ method: payload === undefined ? 'GET' : 'POST', url, ...(payload === undefined ? {} : { payload }) });
  await app.close();
  assert.equal(res.statusCode, 400, res.body);
  return (res.json() as { message: string }).message;
}

const Status = Type.Union([Type.Literal('ok'), Type.Literal('error')]);

const CASES: { name: string; schema: object; url: string; payload?: object; message: string }[] = [
  {
    name: 'a union of literals names its values once',
    schema: { querystring: Type.Object({ status: Type.Optional(Status) }) },
    url: '/x?status=bogus',
    message: 'querystring/status must be one of "ok", "error"',
  },
  {
    name: 'a literal or an integer',
    schema: { querystring: Type.Object({ step: Type.Optional(Type.Union([Type.Literal('auto'), Type.Integer()])) }) },
    url: '/x?step=often',
    message: 'querystring/step must be one of "auto", a value of type integer',
  },
  {
    name: 'a branch that is not one value keeps its own words',
    schema: { querystring: Type.Object({ step: Type.Optional(Type.Union([Type.Literal('auto'), Type.Integer({ minimum: 5 })])) }) },
    url: '/x?step=3',
    message: 'querystring/step must be "auto" or must be >= 5',
  },
  {
    name: 'an enum names its values',
    schema: { querystring: Type.Object({ order: Type.Optional(Type.Unsafe<string>({ type: 'string', enum: ['asc', 'desc'] })) }) },
    url: '/x?order=up',
    message: 'querystring/order must be one of "asc", "desc"',
  },
  {
    name: 'a plain type error is as Ajv says it',
    schema: { querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1 })) }) },
    url: '/x?limit=abc',
    message: 'querystring/limit must be integer',
  },
  {
    name: 'a union of literals given twice says so, not which values it takes',
    schema: { querystring: Type.Object({ status: Type.Optional(Status) }) },
    url: '/x?status=ok&status=error',
    message: 'querystring/status given 2 times: give it once',
  },
  {
    name: 'an integer given three times says so, not that it must be an integer',
    schema: { querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1 })) }) },
    url: '/x?limit=5&limit=6&limit=7',
    message: 'querystring/limit given 3 times: give it once',
  },
  {
    name: 'a string given twice, even the same value',
    schema: { querystring: Type.Object({ service: Type.Optional(Type.String({ minLength: 1 })) }) },
    url: '/x?service=a&service=a',
    message: 'querystring/service given 2 times: give it once',
  },
  {
    name: 'a parameter that takes several values keeps its own words',
    schema: { querystring: Type.Object({ tag: Type.Optional(Type.Array(Type.String(), { maxItems: 1 })) }) },
    url: '/x?tag=a&tag=b',
    message: 'querystring/tag must NOT have more than 1 items',
  },
  {
    name: 'a property a closed body does not have is named',
    schema: { body: Type.Object({ a: Type.String() }, { additionalProperties: false }) },
    url: '/x',
    payload: { a: 'x', b: 1 },
    message: 'body must not have the property "b"',
  },
  {
    name: 'the branches of an anyOf of objects keep the property at fault',
    schema: {
      body: Type.Union([Type.Object({ kind: Type.Literal('a'), n: Type.Integer() }), Type.Object({ kind: Type.Literal('b') })]),
    },
    url: '/x',
    payload: { kind: 'a', n: 'x' },
    message: 'body/n must be integer; body/kind must be "b"; body must match a schema in anyOf',
  },
];

for (const c of CASES) {
  test(`validation message: ${c.name}`, async () => {
    assert.equal(await refusal(c.schema, c.url, c.payload), c.message);
  });
}

test('validation message: each line once, and an issue without a message named by its keyword', () => {
  const twice = { keyword: 'type', instancePath: '/limit', schemaPath: '#/properties/limit/type', params: { type: 'integer' }, message: 'must be integer' };
  assert.equal(validationMessage([twice, twice], 'querystring'), 'querystring/limit must be integer');
  assert.equal(validationMessage([{ keyword: 'format', instancePath: '/t', schemaPath: '#/properties/t/format', params: {} }], 'body'), 'body/t fails format');
});

test("the correlator's routes answer a status outside its values with the values", async t => {
  const app = await buildTestApp(t);
  const res = await app.inject({ method: 'GET', url: '/api/circuits?status=bogus' });
  assert.equal(res.statusCode, 400);
  assert.deepEqual(res.json(), {
    statusCode: 400,
    error: 'Bad Request',
    code: 'FST_ERR_VALIDATION',
    message: 'invalid request: querystring/status must be one of "ok", "error"',
  });
});

test("the correlator's routes answer a parameter given more than once with how many times", async t => {
  const app = await buildTestApp(t);
  for (const [url, name] of [
    ['/api/circuits?status=ok&status=error', 'status'],
    ['/api/circuits?limit=5&limit=6', 'limit'],
    ['/api/correlations?method=trace_id&method=circuit_id_match', 'method'],
    ['/api/service-graph?circuit_id=A&circuit_id=B', 'circuit_id'],
  ] as const) {
    const res = await app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 400, url);
    assert.equal((res.json() as { message: string }).message, `invalid request: querystring/${name} given 2 times: give it once`, url);
  }
});

test('validation message: an array refused where the schema takes one, or without its value, keeps its own words', () => {
  const issue = { keyword: 'maxItems', instancePath: '/tag', schemaPath: '#/properties/tag/maxItems', params: { limit: 1 }, message: 'must NOT have more than 1 items' };
  const cases: [string, object, string][] = [
    ['value and schema unknown (Ajv without verbose)', {}, 'querystring/tag must NOT have more than 1 items'],
    ['schema takes an array', { data: ['a', 'b'], parentSchema: { type: 'array', maxItems: 1 } }, 'querystring/tag must NOT have more than 1 items'],
    ['a union with an array branch', { data: ['a', 'b'], parentSchema: { anyOf: [{ type: 'string' }, { type: 'array' }] } }, 'querystring/tag must NOT have more than 1 items'],
    ['schema takes one string', { data: ['a', 'b'], parentSchema: { type: 'string' } }, 'querystring/tag given 2 times: give it once'],
  ];
  for (const [name, extra, message] of cases) assert.equal(validationMessage([{ ...issue, ...extra }], 'querystring'), message, name);
  // Only a query string repeats a parameter; a body's array is the body's.
  assert.equal(validationMessage([{ ...issue, data: ['a', 'b'], parentSchema: { type: 'string' } }], 'body'), 'body/tag must NOT have more than 1 items');
});

test('an empty time is refused alike by every route that takes one', async t => {
  const app = await buildTestApp(t);
  for (const url of ['/api/logs?from=', '/api/circuits?to=', '/api/correlations?from=', '/api/service-graph?to=']) {
    const res = await app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 400, url);
    assert.match((res.json() as { message: string }).message, /^invalid request: querystring\/(from|to) must not be empty$/, url);
  }
});

test('every query string of the API is closed: a misspelt parameter is a 400 that names it', async t => {
  const app = await buildTestApp(t);
  const spec = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as {
    paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>>;
  };
  const routes = Object.entries(spec.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([method]) => method === 'get' && path.startsWith('/api/'))
      .map(() => path.replace('{id}', 'C-1').replace('{traceId}', 'a'.repeat(32))),
  );
  // The GET routes of the query API and of MDSO health, those that take no parameter among them
  // (`/api/info?x=1` was answered as if the parameter meant nothing).
  assert.ok(routes.length >= 16, routes.join(' '));
  for (const none of ['/api/info', '/api/mdso/defects']) assert.ok(routes.includes(none), none);
  for (const path of routes) {
    const res = await app.inject({ method: 'GET', url: `${path}?circut_id=C-1` });
    assert.equal(res.statusCode, 400, `${path}: ${res.body}`);
    assert.equal((res.json() as { message: string }).message, 'invalid request: querystring must not have the property "circut_id"', path);
  }
});

test('a query integer is written in decimal digits: 0x10, 1e1, +5 or 5.0 is a 400 that names the parameter', async t => {
  const app = await buildTestApp(t);
  // Ajv read each as Number() does: limit=0x10 listed 16 circuits, limit=1e1 ten.
  for (const value of ['0x10', '0b11', '1e1', '+5', ' 5', '5.0', '5 ', '']) {
    for (const path of ['/api/circuits?limit=', '/api/circuits/C-1/trace?traces=', '/api/correlations?limit=']) {
      const res = await app.inject({ method: 'GET', url: `${path}${encodeURIComponent(value)}` });
      assert.equal(res.statusCode, 400, `${path}${value}: ${res.body}`);
      const name = /\?(\w+)=/.exec(path)![1]!;
      assert.equal(
        (res.json() as { message: string }).message,
        `invalid request: querystring/${name} must be an integer in decimal digits, not ${JSON.stringify(value)}`,
      );
    }
  }
  assert.equal((await app.inject({ method: 'GET', url: '/api/circuits?limit=5' })).statusCode, 200);
  assert.equal((await app.inject({ method: 'GET', url: '/api/circuits?limit=007' })).statusCode, 200);
  // Out of range or repeated, the schema's own words.
  assert.match((await app.inject({ method: 'GET', url: '/api/circuits?limit=-1' })).json().message as string, /^invalid request: querystring\/limit must be >= 1$/);
  assert.match((await app.inject({ method: 'GET', url: '/api/circuits?limit=1&limit=2' })).json().message as string, /limit.*2 times|given 2/);
});
