import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePartial, matchesExact, matchesPartial, parseClauses, QueryError } from '../../../src/mdso/simulator/query.js';

const resource = {
  label: '80.L1XX.005054..CHTR',
  orchState: 'failed',
  discovered: false,
  properties: { circuit_id: '80.L1XX.005054..CHTR', deviceName: 'AUSDTXIR2CW', tags: ['a', 'b'], nested: { x: 1 } },
};

void describe('simulator q grammar (exact)', () => {
  const cases: Array<[string, boolean]> = [
    ['label:80.L1XX.005054..CHTR', true],
    ['orchState:failed', true],
    ['orchState:active', false],
    ['properties.circuit_id:80.L1XX.005054..CHTR', true],
    ['properties.circuit_id:80.L1XX.005054..CHTR,orchState:failed', true],
    ['properties.circuit_id:80.L1XX.005054..CHTR,orchState:active', false],
    ['properties.deviceName:AUSDTXIR2CW,', true],
    ['discovered:false', true],
    ['properties.tags:b', true],
    ['properties.nested.x:1', true],
    ['properties.missing:1', false],
    ['label:80.L1XX', false],
  ];
  for (const [q, expected] of cases) {
    void it(`${q} → ${expected}`, () => assert.equal(matchesExact(resource, parseClauses(q, 'q')), expected));
  }
  void it('ignores empty clauses and trims values', () => {
    assert.deepEqual(parseClauses(' label: x ,,', 'q'), [{ path: ['label'], value: 'x' }]);
  });
  void it('rejects a clause without field:value, naming it', () => {
    assert.throws(() => parseClauses('label', 'q'), (e: Error) => e instanceof QueryError && /"label"/.test(e.message));
    assert.throws(() => parseClauses(':x', 'p'), QueryError);
  });
});

void describe('simulator p grammar (partial, wildcards)', () => {
  const cases: Array<[string, boolean]> = [
    ['label:005054', true],
    ['label:80.L1XX*CHTR', true],
    ['label:*..CHTR', true],
    ['label:80.l1xx', true],
    ['label:TWCC', false],
    ['properties.deviceName:AUSD*W', true],
    ['properties.deviceName:XYZ*', false],
    ['label:80.L1XX.005054..CHTR.orch_trace', false],
  ];
  for (const [p, expected] of cases) {
    void it(`${p} → ${expected}`, () => assert.equal(matchesPartial(resource, compilePartial(parseClauses(p, 'p'))), expected));
  }
  void it('treats regex metacharacters literally', () => {
    assert.equal(matchesPartial({ label: 'a.b' }, compilePartial(parseClauses('label:a.b', 'p'))), true);
    assert.equal(matchesPartial({ label: 'axb' }, compilePartial(parseClauses('label:a.b', 'p'))), false);
  });
});
