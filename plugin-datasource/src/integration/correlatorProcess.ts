import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const SERVER_JS = join(REPO_ROOT, 'correlator', 'dist', 'server.js');

export function correlatorBuilt(): boolean {
  return existsSync(SERVER_JS);
}

/** A port nobody listens on right now (asked from the OS, never a fixed number). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export interface RunningCorrelator {
  baseUrl: string;
  stop(): Promise<void>;
}

async function waitUntilReady(baseUrl: string, child: ChildProcess, output: () => string): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null) {
      throw new Error(`correlator exited with ${child.exitCode}: ${output()}`);
    }
    try {
      const response = await fetch(`${baseUrl}/ready`);
      if (response.ok) {
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`correlator did not become ready: ${output()}`);
}

/** Starts the built correlator on a free port with its own data directory; stop() removes both. */
export async function startCorrelator(extraEnv: Record<string, string> = {}): Promise<RunningCorrelator> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'corr-ds-it-'));
  const child = spawn(process.execPath, [SERVER_JS], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      // The suite runs several jest workers on few cores; start-up and parallel files can stall the
      // event loop past the default 2 s, and this test is about the datasource, not load shedding.
      MAX_EVENT_LOOP_DELAY_MS: '60000',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += String(chunk)));
  child.stderr?.on('data', (chunk) => (output += String(chunk)));
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      await new Promise<void>((done) => {
        child.once('exit', () => done());
        child.kill('SIGTERM');
      });
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitUntilReady(baseUrl, child, () => output);
  } catch (err) {
    await stop();
    throw err;
  }
  return { baseUrl, stop };
}
