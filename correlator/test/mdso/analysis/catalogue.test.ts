import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/config/config.js';
import { parseCatalogue } from '../../../src/mdso/analysis/catalogue/parse.js';
import { SHIPPED_CATALOGUE_PATH } from '../../../src/mdso/analysis/catalogue/load.js';
import { newAnalysis } from './helpers.js';

const rule = (code: string, pattern = 'x', extra = '') => `  - code: ${code}
    title: T ${code}
    category: Process Error
    system: MDSO
    severity: minor
    team: T
    runbook: https://example.invalid/${code}
    patterns: ['${pattern}']
${extra}`;

void describe('parseCatalogue problems carry line numbers', () => {
  const cases: Array<{ name: string; text: string; line: number; message: RegExp }> = [
    { name: 'YAML syntax error (indentation)', text: 'version: "1"\nrules:\n  - code: DE-1000\n   bad: indent\n', line: 4, message: /./ },
    { name: 'duplicate YAML key', text: 'version: "1"\nversion: "2"\nrules: []\n', line: 2, message: /unique/ },
    { name: 'missing version', text: `rules:\n${rule('DE-1000')}`, line: 1, message: /"version" is required/ },
    { name: 'rules not a list', text: 'version: "1"\nrules: nope\n', line: 2, message: /"rules" is required and must be a list/ },
    { name: 'bad code', text: `version: "1"\nrules:\n${rule('DE-12')}`, line: 3, message: /"code" must look like DE-1234/ },
    { name: 'backreference is not RE2', text: `version: "1"\nrules:\n${rule('DE-1000', '(a)\\1')}`, line: 10, message: /not valid RE2/ },
    { name: 'lookahead is not RE2', text: `version: "1"\nrules:\n${rule('DE-1000', 'foo(?=bar)')}`, line: 10, message: /not valid RE2/ },
    { name: 'duplicate code', text: `version: "1"\nrules:\n${rule('DE-1000')}${rule('DE-1000')}`, line: 11, message: /already used by the rule on line 3/ },
    { name: 'unknown field', text: `version: "1"\nrules:\n${rule('DE-1000', 'x', '    colour: red\n')}`, line: 11, message: /unknown field "colour"/ },
    { name: 'bad system', text: `version: "1"\nrules:\n${rule('DE-1000').replace('system: MDSO', 'system: Mainframe')}`, line: 6, message: /"system" must be one of/ },
    { name: 'runbook not a URL', text: `version: "1"\nrules:\n${rule('DE-1000').replace(/runbook: .*/, 'runbook: see wiki')}`, line: 9, message: /"runbook" must be an http/ },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const r = parseCatalogue(c.text);
      assert.equal(r.ok, false);
      if (r.ok) return;
      const hit = r.problems.find(p => c.message.test(p.message));
      assert.ok(hit, `no problem matching ${c.message}: ${JSON.stringify(r.problems)}`);
      assert.equal(hit.line, c.line, JSON.stringify(r.problems));
    });
  }

  void it('reports every problem of a file, not just the first', () => {
    const r = parseCatalogue(`version: "1"\nrules:\n${rule('DE-1')}${rule('DE-1001', '(?<=x)y')}`);
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.problems.length, 2);
  });

  void it('accepts a good file and records version, hash and rule lines', () => {
    const r = parseCatalogue(`version: "7"\nrules:\n${rule('DE-1000')}${rule('DE-1001')}`);
    assert.ok(r.ok, 'r.ok');
    if (!r.ok) return;
    assert.equal(r.catalogue.version, '7');
    assert.match(r.catalogue.hash, /^[0-9a-f]{12}$/);
    assert.deepEqual(r.catalogue.rules.map(x => [x.code, x.line]), [['DE-1000', 3], ['DE-1001', 11]]);
  });

  void it('the shipped catalogue parses', () => {
    const r = parseCatalogue(readFileSync(SHIPPED_CATALOGUE_PATH, 'utf8'));
    assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  });
});

void describe('catalogue reload', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdso-catalogue-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  void it('applies a good file, refuses a bad one and keeps the previous catalogue', async () => {
    const path = join(dir, 'rules.yaml');
    writeFileSync(path, `version: "one"\nrules:\n${rule('DE-3000', 'alpha')}`);
    const t = newAnalysis({ config: { defectCatalogPath: path } });
    try {
      assert.equal(t.analysis.catalogue.catalogue.version, 'one');

      writeFileSync(path, `version: "two"\nrules:\n${rule('DE-3000', 'beta')}`);
      assert.equal(t.analysis.reloadCatalogue()?.ok, true);
      assert.equal(t.analysis.catalogue.catalogue.version, 'two');

      writeFileSync(path, `version: "three"\nrules:\n${rule('DE-3000', '(b)\\1')}`);
      const refused = t.analysis.reloadCatalogue();
      assert.equal(refused?.ok, false);
      assert.equal(refused?.problems[0]?.line, 10);
      assert.equal(t.analysis.catalogue.catalogue.version, 'two');
      assert.equal(t.analysis.catalogue.catalogue.rules[0]?.patterns[0], 'beta');
    } finally {
      await t.close();
    }
  });

  // At start there is no active catalogue to keep: running on the shipped one hid the mistake.
  const refusedAtStart: Array<[string, () => string, RegExp]> = [
    ['does not parse', () => {
      const path = join(dir, 'broken.yaml');
      writeFileSync(path, 'version: "x"\nrules: [\n');
      return path;
    }, /broken\.yaml" is not a usable defect catalogue: line \d+/],
    ['does not exist', () => join(dir, 'missing.yaml'), /missing\.yaml" is not a usable defect catalogue: cannot read .*ENOENT/],
  ];
  for (const [what, makePath, message] of refusedAtStart) {
    void it(`a configured file that ${what} at start is refused with a ConfigError naming DEFECT_CATALOG`, () => {
      const path = makePath();
      assert.throws(
        () => newAnalysis({ config: { defectCatalogPath: path } }),
        (e: unknown) => e instanceof ConfigError && e.setting === 'DEFECT_CATALOG' && message.test(e.message),
      );
    });
  }

  void it('records keep the catalogue version that categorised them', async () => {
    const path = join(dir, 'versions.yaml');
    writeFileSync(path, `version: "v1"\nrules:\n${rule('DE-3000', 'alpha')}`);
    const t = newAnalysis({ config: { defectCatalogPath: path } });
    try {
      const { traceFailure } = await import('./helpers.js');
      const first = t.analysis.recordFailure(traceFailure('alpha happened'));
      writeFileSync(path, `version: "v2"\nrules:\n${rule('DE-3001', 'alpha')}`);
      t.analysis.reloadCatalogue();
      const second = t.analysis.recordFailure(traceFailure('alpha happened'));
      assert.equal(first.defectCode, 'DE-3000');
      assert.equal(second.defectCode, 'DE-3001');
      assert.notEqual(first.issueId, second.issueId, 'a catalogue change opens a new issue, it does not regroup the old one');
      const rows = t.db.prepare('SELECT defect_code, catalogue_version, grouping_version FROM mdso_errors ORDER BY occurred_at_ms').all();
      assert.deepEqual(rows, [
        { defect_code: 'DE-3000', catalogue_version: 'v1', grouping_version: 1 },
        { defect_code: 'DE-3001', catalogue_version: 'v2', grouping_version: 1 },
      ]);
    } finally {
      await t.close();
    }
  });
});
