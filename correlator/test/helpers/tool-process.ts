// A program that is not Node (the OpenTelemetry Collector, a Python app) run as a child process of
// a test: started, awaited until it announces on stdout or stderr that it is ready, and stopped
// with SIGTERM (what a clean shutdown is), SIGKILL after a grace period. Whatever a test leaves
// running is stopped at clean-up, pass or fail, and killed on process exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Cleanup } from './cleanup.js';

export interface ToolProcess {
  name: string;
  /** The match of the ready line, e.g. the URL it listens on. */
  announced: RegExpExecArray;
  /** Everything it wrote to stdout and stderr so far, for failure messages. */
  output: () => string;
  /** SIGTERM, then SIGKILL after graceMs; resolves with the exit code (null when killed). */
  stop: (graceMs?: number) => Promise<number | null>;
}

export interface ToolSpec {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  /** A line matching this, on stdout or stderr, means it is ready. */
  ready: RegExp;
  /** How long it may take to start (default 30 s). */
  startMs?: number;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export async function startTool(cleanup: Cleanup, spec: ToolSpec): Promise<ToolProcess> {
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const exited = new Promise<number | null>(resolve => child.once('close', code => resolve(code)));
  void exited.then(() => live.delete(child));
  const running = () => child.exitCode === null && child.signalCode === null;

  const stop = async (graceMs = 10_000): Promise<number | null> => {
    if (running()) child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const code = await exited;
    clearTimeout(killer);
    return code;
  };
  cleanup(async () => {
    if (running()) await stop();
  });

  let text = '';
  const announced = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${spec.name} did not get ready within ${spec.startMs ?? 30_000} ms:\n${text}`));
    }, spec.startMs ?? 30_000);
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', line => {
        text += line + '\n';
        const m = spec.ready.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(m);
        }
      });
    }
    child.once('error', e => reject(new Error(`${spec.name} could not start: ${e.message}`)));
    // 'close' comes after the last output, so the message has the reason.
    void exited.then(code => {
      clearTimeout(timer);
      reject(new Error(`${spec.name} exited (${code}) before it was ready:\n${text}`));
    });
  });
  return { name: spec.name, announced, output: () => text, stop };
}
