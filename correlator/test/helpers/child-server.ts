// Runs the real entry point (src/server.ts) as a child process, the way it runs in production,
// on an ephemeral port. The port is read from fastify's own "Server listening" line, so no port
// is ever guessed. The child is killed when the test ends, pass or fail, and on process exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { tempDir, type Cleanup } from './cleanup.js';

export const CORRELATOR_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SERVER_ENTRY = join(CORRELATOR_ROOT, 'src', 'server.ts');
/** The MDSO simulator's entry point (`npm run mdso-sim`), for startupOutcome. */
export const SIMULATOR_ENTRY = join(CORRELATOR_ROOT, 'src', 'mdso', 'simulator', 'server.ts');

export interface ChildServer {
  url: string;
  pid: number;
  child: ChildProcess;
  /** stderr, non-JSON stdout and error-level log lines, for failure messages. */
  output: () => string;
  /** Everything the process wrote to stdout and stderr so far. */
  fullLog: () => string;
  /** SIGKILL, no chance to flush or close: what a crash looks like. Resolves when it is gone. */
  kill9: () => Promise<void>;
  /** SIGTERM and wait for a clean exit; resolves with the exit code. */
  stop: () => Promise<number | null>;
  /** Resident set now and at its peak (bytes), from /proc. */
  memory: () => { rss: number; peak: number };
  /**
   * Whether the process has neither exited nor been killed. Stopped by V8 ("Reached heap limit")
   * it ends on SIGABRT: its exit code stays null, so the signal is looked at too.
   */
  running: () => boolean;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export async function startServer(cleanup: Cleanup, env: Record<string, string>): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER_ENTRY], {
    cwd: CORRELATOR_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      ...env,
      // The listening line is how the port is found, so info level at least.
      LOG_LEVEL: env.LOG_LEVEL === 'debug' || env.LOG_LEVEL === 'trace' ? env.LOG_LEVEL : 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)));
  void exited.then(() => live.delete(child));
  const running = () => child.exitCode === null && child.signalCode === null;
  cleanup(async () => {
    if (running()) {
      child.kill('SIGKILL');
      await exited;
    }
  });

  let text = '';
  let full = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    text += d;
    full += d;
  });
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', line => (full += line + '\n'));
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', line => {
      const m = /"msg":"Server listening at (http:\/\/127\.0\.0\.1:\d+)"/.exec(line);
      if (m) resolve(m[1]!);
      else if (!line.startsWith('{')) text += line + '\n';
      else if (/"level":(50|60)/.test(line)) text += line + '\n';
    });
    // 'close' comes after the last output, so the message has the reason.
    child.once('close', code => reject(new Error(`correlator exited (${code}) before listening:\n${text}`)));
  });
  // Listening comes before readiness only in theory; /ready proves the store answers.
  const ready = await fetch(`${url}/ready`);
  if (ready.status !== 200) throw new Error(`correlator not ready: ${ready.status} ${await ready.text()}`);

  const pid = child.pid!;
  return {
    url,
    pid,
    child,
    output: () => text,
    fullLog: () => full,
    kill9: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
    memory: () => {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
      return { rss: kb('VmRSS'), peak: kb('VmHWM') };
    },
    running,
  };
}

/** A correlator on a fresh store whose old generation is `heapMiB` (--max-old-space-size). */
export async function startOnHeap(cleanup: Cleanup, heapMiB: number, dataDirPrefix: string): Promise<ChildServer> {
  return startServer(cleanup, {
    DATA_DIR: await tempDir(cleanup, dataDirPrefix),
    NODE_OPTIONS: `--max-old-space-size=${heapMiB}`,
  });
}

/**
 * Starts the server with settings that must stop it. Resolves with its exit code and output; if it
 * starts listening instead, it is killed and the code is null.
 */
export async function startupOutcome(
  env: Record<string, string>,
  entry = SERVER_ENTRY,
  as: { uid: number; gid: number } | undefined = undefined,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: CORRELATOR_ROOT,
    ...as,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    output += d;
    if (output.includes('Server listening at')) child.kill('SIGKILL');
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  // A start-up that never ends (DATA_DIR under /proc spun in Node's recursive mkdir) fails its
  // test with what it printed, rather than holding the run until the suite's timeout.
  const hung = setTimeout(() => {
    output += '\n(start-up had not ended after 60 s: killed)';
    child.kill('SIGKILL');
  }, 60_000);
  const code = await new Promise<number | null>(resolve => child.once('close', c => resolve(c)));
  clearTimeout(hung);
  live.delete(child);
  return { code, output };
}
