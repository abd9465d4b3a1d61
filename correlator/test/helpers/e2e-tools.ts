// The programs that the end-to-end test through a real collector needs, installed outside
// node_modules by the repository's own scripts (which `npm test` runs first). A missing one fails
// the test with the command that installs it: a test that skipped would hide a broken install.
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CORRELATOR_ROOT } from './child-server.js';

const REPO_ROOT = join(CORRELATOR_ROOT, '..');
const TOOLS = join(REPO_ROOT, '.tools');

/** The collector built from scripts/tools/otelcol-builder.yaml. */
export const COLLECTOR_BINARY = join(TOOLS, 'otelcol', 'otelcol-correlation');
/** The Python of the venv holding the OpenTelemetry SDK (scripts/tools/sense-requirements.txt). */
export const SENSE_PYTHON = join(TOOLS, 'sense-venv', 'bin', 'python');
/** The SENSE stand-ins: beorn.py, palantir.py, mdso.py, arda.py. */
export const SENSE_APPS = join(CORRELATOR_ROOT, 'test', 'e2e', 'sense');

/** What is not installed, each with the script that installs it; empty when all is there. */
export function missingInstalls(): string[] {
  const needs = [
    [COLLECTOR_BINARY, 'scripts/tools/install-collector.sh'],
    [SENSE_PYTHON, 'scripts/tools/install-sense-python.sh'],
  ] as const;
  return needs.filter(([path]) => !executable(path)).map(([path, script]) => `${path} is missing: run bash ${script} (npm test runs it)`);
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * A loopback port free a moment ago, for a program that cannot report the one it took (the
 * collector's receiver port is written into its config before it starts).
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise(resolve => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
