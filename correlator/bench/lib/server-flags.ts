// The Node.js flags `npm start` runs the correlator with, read from its start script, so every
// bench process runs the code the way the product does and the flags are written in one place.
import { readFileSync } from 'node:fs';
import { START_SCRIPT } from '../../src/runtime/operator-directory.js';

/** The `--` options before the script in `package.json`'s start script. */
export function serverNodeFlags(packageJsonPath: URL = new URL('../../package.json', import.meta.url)): string[] {
  const pkg = JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { scripts?: Record<string, string> };
  const script = pkg.scripts?.[START_SCRIPT];
  if (!script) throw new Error(`package.json has no "${START_SCRIPT}" script`);
  const words = script.trim().split(/\s+/);
  if (words[0] !== 'node') throw new Error(`"${START_SCRIPT}" does not start with node: ${script}`);
  const flags: string[] = [];
  for (const w of words.slice(1)) {
    if (!w.startsWith('--')) break;
    flags.push(w);
  }
  return flags;
}

/** Which of the start script's flags this process lacks (run directly rather than through run.ts). */
export function missingServerFlags(): string[] {
  return serverNodeFlags().filter(f => !process.execArgv.includes(f));
}
