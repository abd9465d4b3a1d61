// Runs the SDK exporter fixture as its own process and returns what it exported.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FixtureInput, FixtureOutput } from '../e2e/fixtures/circuit-exporter.js';
import { CORRELATOR_ROOT } from './child-server.js';

const run = promisify(execFile);
const FIXTURE = join(CORRELATOR_ROOT, 'test', 'e2e', 'fixtures', 'circuit-exporter.ts');

export type { FixtureInput, FixtureOutput };

/** Throws with the fixture's output when it could not export everything. */
export async function exportCircuit(input: FixtureInput): Promise<FixtureOutput> {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', FIXTURE, JSON.stringify(input)], {
      cwd: CORRELATOR_ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    return JSON.parse(stdout.trim().split('\n').pop()!) as FixtureOutput;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`fixture failed: ${err.message}\nstdout: ${err.stdout ?? ''}\nstderr: ${err.stderr ?? ''}`);
  }
}
