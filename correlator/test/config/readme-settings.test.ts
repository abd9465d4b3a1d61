// Every environment variable the configuration reads is in a configuration table of the README
// (the root one, or the correlator's MDSO settings it links to): CORRELATION_KEYS was read and
// validated but missing there, so its default, which leaves product_id out, was nowhere to find.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, loadSimulatorConfig } from '../../src/config/config.js';

/** The names a load reads, found by answering every read with "unset" and noting the name. */
function namesRead(load: (env: Record<string, string | undefined>) => unknown, set: Record<string, string> = {}): Set<string> {
  const read = new Set<string>();
  const env = new Proxy(set, {
    get(target, name) {
      if (typeof name === 'string') read.add(name);
      return typeof name === 'string' ? target[name] : undefined;
    },
  });
  load(env);
  return read;
}

/** Table rows of a README section: lines starting with "|" between its heading and the next "## ". */
function tableRows(path: URL, heading: string): string {
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `${heading} is in ${path.pathname}`);
  const end = text.indexOf('\n## ', start + heading.length + 1);
  return text
    .slice(start, end < 0 ? undefined : end)
    .split('\n')
    .filter(line => line.startsWith('|'))
    .join('\n');
}

describe('README configuration reference', () => {
  const documented = [
    tableRows(new URL('../../../README.md', import.meta.url), '## Configuration'),
    tableRows(new URL('../../README.md', import.meta.url), '## MDSO settings'),
  ].join('\n');
  const read = new Set([
    ...namesRead(env => loadConfig(env)),
    // Some checks run only when MDSO is on: read with it on as well.
    ...namesRead(env => loadConfig(env), { MDSO_URL: 'https://mdso.example', MDSO_USER: 'u', MDSO_PASS: 'p' }),
    ...namesRead(env => loadSimulatorConfig(env)),
  ]);

  it('finds the settings read (the proxy sees the reads)', () => {
    for (const name of ['PORT', 'TEMPO_HEADERS', 'MDSO_SIM_PORT']) assert.ok(read.has(name), `${name} is read`);
  });

  for (const name of [...read].sort()) {
    it(`documents ${name}`, () => {
      assert.ok(documented.includes(`\`${name}\``), `${name} is read by config.ts but is in no configuration table of the README`);
    });
  }
  // A reviewer met each minimum only as start-up's refusal (MAX_INFLIGHT_BYTES at least 1048576):
  // the README states every numeric setting's range as config.ts holds it.
  const MDSO_ON = { MDSO_URL: 'https://mdso.example', MDSO_USER: 'u', MDSO_PASS: 'p' };
  /** The range start-up's refusal names for a value far below any, or null for a setting not numeric. */
  function rangeOf(name: string): string | null {
    for (const load of [(env: Record<string, string>) => loadConfig({ ...MDSO_ON, ...env }), loadSimulatorConfig]) {
      try {
        load({ [name]: '-99999999999999999999' });
      } catch (e) {
        const range = e instanceof ConfigError ? /must be between (\S+) and (\S+), got/.exec(e.message) : null;
        if (range) return `${range[1]} to ${range[2]}`;
      }
    }
    return null;
  }
  const ranged = [...read].sort().flatMap(name => {
    const range = rangeOf(name);
    return range === null ? [] : [{ name, range }];
  });

  it('finds the numeric settings (the probe sees their ranges)', () => {
    assert.deepEqual(
      ranged.filter(r => ['PORT', 'MAX_INFLIGHT_BYTES', 'MDSO_PAGE_SIZE', 'MDSO_SIM_FAILURE_RATE'].includes(r.name)),
      [
        { name: 'MAX_INFLIGHT_BYTES', range: '1048576 to 68719476736' },
        { name: 'MDSO_PAGE_SIZE', range: '1 to 5000' },
        { name: 'MDSO_SIM_FAILURE_RATE', range: '0 to 1' },
        { name: 'PORT', range: '0 to 65535' },
      ],
    );
  });

  for (const { name, range } of ranged) {
    it(`states ${name}'s range, ${range}`, () => {
      const row = documented.split('\n').find(line => line.startsWith('| ') && line.split('|')[1]!.includes(`\`${name}\``)) ?? '';
      const stated = row.includes('Accepted: `') ? `\`${name}\` ${range}` : `Accepted: ${range}.`;
      assert.ok(row.includes(stated), `${name}'s README row does not say "${stated}"`);
    });
  }
});
