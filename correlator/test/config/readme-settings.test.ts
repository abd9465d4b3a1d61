// Every environment variable the configuration reads is in a configuration table of the README
// (the root one, or the correlator's MDSO settings it links to): CORRELATION_KEYS was read and
// validated but missing there, so its default, which leaves product_id out, was nowhere to find.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadConfig, loadSimulatorConfig } from '../../src/config/config.js';

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
});
