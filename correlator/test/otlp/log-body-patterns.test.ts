// Log-body patterns are the operator's and run over any sender's text. A pattern that backtracks
// exponentially (^(a+)+$ took 31 s for 32 characters) froze the process, /health included, for
// one log line; now such a match finishes on V8's linear-time engine, and a pattern that engine
// cannot run is refused at start-up (config.test.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/config.js';
import { DEFAULT_LOG_KEY_PATTERNS } from '../../src/config/key-defaults.js';
import { linearTimeProblem } from '../../src/config/log-pattern.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import { extractLogKeys } from '../../src/otlp/log-keys.js';

const MATCHER = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'log-pattern-matches.ts');

describe('log-body patterns', () => {
  it('the built-in patterns are ones the linear-time engine can run', () => {
    for (const { pattern } of DEFAULT_LOG_KEY_PATTERNS) assert.equal(linearTimeProblem(pattern), null, pattern);
  });

  // Without the fallback, the first row alone backtracks about 2^40 times: hours. A match cannot be
  // interrupted where it runs, so they run in a process of their own, killed if it has not answered.
  const cases: [title: string, pattern: string, body: string, circuit: string | null][] = [
    ['a line that makes ^(a+)+$ backtrack exponentially', '^(a+)+$', `${'a'.repeat(40)}!`, null],
    ['the same pattern on a line it matches', '^(a+)+$', 'a'.repeat(40), 'a'.repeat(40)],
    ['nested repeats over a long near-miss', 'cid=((?:[A-Z]+-?)+)#', `cid=${'AB-'.repeat(30)}`, null],
    ['nested repeats where they match', 'cid=((?:[A-Z]+-?)+)#', 'cid=AB-CD#', 'AB-CD'],
  ];
  it('patterns that backtrack exponentially finish, and still match', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', MATCHER, JSON.stringify(cases.map(([, pattern, body]) => [pattern, body]))], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(run.signal, null, `the matches had not finished after 120 s (${run.signal})`);
    assert.equal(run.status, 0, run.stderr);
    const found = JSON.parse(run.stdout) as (string | null)[];
    assert.deepEqual(
      cases.map(([title], i) => [title, found[i]]),
      cases.map(([title, , , circuit]) => [title, circuit]),
    );
  });

  it('the built-in patterns still find keys in message text', () => {
    const found = extractLogKeys(
      'activation failed for circuit_id=80.L1XX.005678..CHTR resource_id=0123abcd-0000-4000-8000-00000000beef',
      {},
      null,
      keyRulesFromConfig(loadConfig({})),
    );
    assert.deepEqual(found.keys, { circuit_id: '80.L1XX.005678..CHTR', resource_id: '0123abcd-0000-4000-8000-00000000beef' });
  });

  // A JSON line's `"circuit_id":` was missed: such lines of BP2 and plan scripts stayed uncorrelated.
  const uuid = '0123abcd-0000-4000-8000-00000000beef';
  const forms: [form: string, body: string, keys: Record<string, string>][] = [
    ['text key=value', 'failed circuit_id=CID-1 request_id=r-9', { circuit_id: 'CID-1', request_id: 'r-9' }],
    ['text key: value', 'failed circuit_id: CID-1', { circuit_id: 'CID-1' }],
    ['spaces around =', 'circuit_id = CID-1', { circuit_id: 'CID-1' }],
    ['a JSON line', '{"event":"failed","circuit_id":"CID-KVBODY","product_id":"P-7"}', { circuit_id: 'CID-KVBODY', product_id: 'P-7' }],
    ['a JSON line with spaces', `{"circuit_id": "CID-2", "resource_id": "${uuid}"}`, { circuit_id: 'CID-2', resource_id: uuid }],
    ['a Python dict printed', "payload {'circuit_id': 'CID-3', 'request_id': 'abc'}", { circuit_id: 'CID-3', request_id: 'abc' }],
    ['another key ending in circuit_id', 'parent_circuit_id=CID-4', {}],
    ['a camelCase JSON line', '{"circuitId": "CID-5", "requestId": "r-5"}', { circuit_id: 'CID-5', request_id: 'r-5' }],
    ['a dotted key', 'circuit.id=CID-6 product.id=P-6', { circuit_id: 'CID-6', product_id: 'P-6' }],
    ['an upper-case key', `CIRCUIT_ID=CID-7 RESOURCE_ID=${uuid}`, { circuit_id: 'CID-7', resource_id: uuid }],
    ['a key with a namespace', 'mdso.circuit_id=CID-8', { circuit_id: 'CID-8' }],
    ['the key with no value', 'circuit_id: ""', {}],
    // RV20: read as far as a space, each of these was circuit "CKT", joining every "CKT …".
    ['a quoted value with a space, JSON', '{"circuit_id": "CKT Q01", "request_id": "r 1"}', { circuit_id: 'CKT Q01', request_id: 'r 1' }],
    ['a quoted value with a space, a Python dict', "{'circuit_id': 'CKT W01'}", { circuit_id: 'CKT W01' }],
    ['a quoted value after =', 'circuit_id="CKT E01" state=failed', { circuit_id: 'CKT E01' }],
    ['a quoted value with white space inside its quotes', 'circuit_id="  C2  " x', { circuit_id: 'C2' }],
    ['a line cut short after the opening quote', 'circuit_id="C3', { circuit_id: 'C3' }],
    ['a bare value with slashes (CLCI)', 'activating circuit_id=12/KFFN/123456/TWCC now', { circuit_id: '12/KFFN/123456/TWCC' }],
    ['a bare value with letters past ASCII', 'circuit_id=CKT-ü1 failed', { circuit_id: 'CKT-ü1' }],
    ['a bare value before punctuation', 'circuit_id=C1, then (circuit_id=C1) and circuit_id=C1.', { circuit_id: 'C1' }],
    ['a bare value before a no-break space', 'circuit_id=C4\u00a0failed', { circuit_id: 'C4' }],
    // RV21: read whole, a quoted phrase logged by every request without the header was one circuit.
    ['a quoted phrase with punctuation', 'circuit_id="unknown, retrying" next', {}],
    ['a quoted phrase in parentheses', 'circuit_id: "not set (lookup failed)"', {}],
    ['a quoted phrase led by a word for no value', 'circuit_id="none found for order 42"', {}],
    ['a quote left open swallowing the next fields', 'circuit_id="C1 state=ok msg="done"', {}],
    ['a quoted value with a space, cut before its closing quote', 'circuit_id="CKT Q01', {}],
    ['a quoted value cut at the end of its line', 'circuit_id="C8\nnext line', { circuit_id: 'C8' }],
    ['a bare value before an Ogham space mark, a times sign or a Greek question mark', 'circuit_id=C5\u1680x circuit_id=C6×2 circuit_id=C7\u037e', { circuit_id: 'C5' }],
    ['a bare value in Greek letters', 'circuit_id=Σ-1 failed', { circuit_id: 'Σ-1' }],
  ];
  for (const [form, body, keys] of forms) {
    it(`the built-in patterns read ${form}`, () => {
      assert.deepEqual(extractLogKeys(body, {}, null, keyRulesFromConfig(loadConfig({}))).keys ?? {}, keys);
    });
  }

  // Only the first was read: a line about two circuits was filed under one of them.
  const A = '80.L1XX.611111..CHTR';
  const B = '80.L1XX.622222..CHTR';
  const several: [title: string, body: string, attributes: Record<string, string>, keys: Record<string, string>, more: string[] | null][] = [
    ['two circuit names', `port shared by ${A} and ${B}`, {}, { circuit_id: A }, ['circuit_id', B]],
    ['a name said twice is one value', `${A} down; ${A} still down`, {}, { circuit_id: A }, null],
    ['key=value and a bare name, across the two patterns', `circuit_id=${B} moved off ${A}`, {}, { circuit_id: B }, ['circuit_id', A]],
    ['two keys, each with further values', `circuit_id=C1 circuit_id=C2 request_id=r1 request_id=r2`, {}, { circuit_id: 'C1', request_id: 'r1' }, ['circuit_id', 'C2', 'request_id', 'r2']],
    ['a field names the key: the text adds none', `port shared by ${A} and ${B}`, { circuit_id: 'FIELD' }, { circuit_id: 'FIELD' }, null],
  ];
  for (const [title, body, attributes, keys, more] of several) {
    it(`reads every value the text names: ${title}`, () => {
      const found = extractLogKeys(body, attributes, null, keyRulesFromConfig(loadConfig({})));
      assert.deepEqual([found.keys, found.more], [keys, more]);
    });
  }

  it('keeps at most 256 further values, and reads the next line from its beginning after stopping', () => {
    const rules = keyRulesFromConfig(loadConfig({}));
    const warnings: string[] = [];
    const many = extractLogKeys(Array.from({ length: 300 }, (_, i) => `circuit_id=C${i}`).join(' '), {}, null, rules, null, warnings);
    assert.deepEqual([many.keys, many.more?.length], [{ circuit_id: 'C0' }, 2 * 256]);
    assert.deepEqual(warnings, ['body names more than the 256 further key values a record names: circuit_id "C257" and any after it not taken']);
    assert.deepEqual(extractLogKeys('circuit_id=LATE', {}, null, rules).keys, { circuit_id: 'LATE' });
  });

  it('keeps at most 256 further values with those the attributes named, the text adding only the rest', () => {
    const rules = keyRulesFromConfig(loadConfig({}));
    const warnings: string[] = [];
    // The attribute array names request_id r0 and 100 further values: the text has room for 156.
    const attributes = { request_id: Array.from({ length: 101 }, (_, i) => `r${i}`) };
    const body = Array.from({ length: 300 }, (_, i) => `circuit_id=C${i}`).join(' ');
    const found = extractLogKeys(body, attributes, null, rules, null, warnings);
    const furtherOf = (key: string) => (found.more ?? []).filter((_, i, m) => i % 2 === 0 && m[i] === key).length;
    assert.deepEqual(found.keys, { request_id: 'r0', circuit_id: 'C0' });
    assert.deepEqual([furtherOf('request_id'), furtherOf('circuit_id'), found.more?.length], [100, 156, 2 * 256]);
    assert.deepEqual(warnings, ['body names more than the 256 further key values a record names: circuit_id "C157" and any after it not taken']);
  });
});
