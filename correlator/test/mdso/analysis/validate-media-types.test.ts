// POST /api/mdso/defects/validate takes a rule file as YAML text. Through the whole app, a body of
// another media type is a 415 naming the types it takes: it said "send application/json" (the
// app's answer for every other route), and JSON itself got "body must be string".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp } from '../../api/app-fixture.js';

const RULES = 'version: "x"\nrules: []\n';
const TAKEN = 'send application/yaml or application/x-yaml or text/yaml or text/plain';

const cases: { contentType: string; payload: string; status: number; message?: string }[] = [
  { contentType: 'application/yaml', payload: RULES, status: 200 },
  { contentType: 'text/yaml; charset=utf-8', payload: RULES, status: 200 },
  { contentType: 'text/plain', payload: RULES, status: 200 },
  { contentType: 'application/xml', payload: '<rules/>', status: 415, message: `unsupported Content-Type "application/xml": ${TAKEN}` },
  { contentType: 'application/json', payload: JSON.stringify({ version: 'x', rules: [] }), status: 415, message: `unsupported Content-Type "application/json": ${TAKEN}` },
  { contentType: 'application/x-www-form-urlencoded', payload: RULES, status: 415, message: `unsupported Content-Type "application/x-www-form-urlencoded": ${TAKEN}` },
];

test('the validate route names the media types it takes', async t => {
  const app = await buildTestApp(t);
  for (const c of cases) {
    const res = await app.inject({ method: 'POST', url: '/api/mdso/defects/validate', headers: { 'content-type': c.contentType }, payload: c.payload });
    assert.equal(res.statusCode, c.status, `${c.contentType}: ${res.body}`);
    if (c.message) assert.equal(res.json<{ message: string }>().message, c.message, c.contentType);
  }
});

test('the OpenAPI document lists the 415 of the validate route', async t => {
  const app = await buildTestApp(t);
  const doc = (await app.inject('/docs/json')).json<{ paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }>();
  const responses = doc.paths['/api/mdso/defects/validate']?.post?.responses ?? {};
  assert.ok('415' in responses && '413' in responses, `responses documented: ${Object.keys(responses).join(', ')}`);
});
