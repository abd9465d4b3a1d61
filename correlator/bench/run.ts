// Runs every bench/*.bench.ts in its own process, one after the other (they would disturb each
// other's timings if run together), streams their output, and ends with a table of every FIGURE
// line they printed. A missed goal is reported, not failed: only a bench that crashes makes the
// exit code non-zero.
// Run: npm run bench (repo root), or: cd correlator && node --expose-gc --import tsx bench/run.ts [name-filter ...]
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { machine, stealCpuSeconds } from './lib/report.js';
import { serverNodeFlags } from './lib/server-flags.js';

interface Figure {
  bench: string;
  name: string;
  value: number;
  unit: string;
  goal: string;
  met: boolean | null;
}

interface Outcome {
  bench: string;
  code: number | null;
  seconds: number;
  /** CPU time taken by the hypervisor while it ran, as a share of all CPUs' time; null if unknown. */
  steal: number | null;
}

const FIGURE_LINE = /^FIGURE (\S+) (\S+) (\S+)(?: goal (.*))?$/;
const GOAL = /^(>=|<=|<|>)\s*(-?[\d.]+(?:e[+-]?\d+)?)/i;

export function parseFigure(bench: string, line: string): Figure | null {
  const m = FIGURE_LINE.exec(line.trim());
  if (!m) return null;
  const value = Number(m[2]);
  const goal = (m[4] ?? '').trim();
  return { bench, name: m[1]!, value, unit: m[3]!, goal, met: goalMet(value, goal) };
}

function goalMet(value: number, goal: string): boolean | null {
  const g = GOAL.exec(goal);
  if (!g || !Number.isFinite(value)) return null;
  const target = Number(g[2]);
  switch (g[1]) {
    case '>=':
      return value >= target;
    case '<=':
      return value <= target;
    case '<':
      return value < target;
    default:
      return value > target;
  }
}

function runOne(file: string, cwd: string, figures: Figure[]): Promise<Outcome> {
  const bench = relative(cwd, file);
  const started = performance.now();
  const stealBefore = stealCpuSeconds();
  console.log(`\n######## ${bench}`);
  return new Promise(resolve => {
    const child = spawn(process.execPath, [...serverNodeFlags(), '--expose-gc', '--import', 'tsx', file], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
    });
    const lines = createInterface({ input: child.stdout });
    lines.on('line', line => {
      console.log(line);
      const f = parseFigure(bench, line);
      if (f) figures.push(f);
    });
    child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    child.on('close', code => {
      const seconds = (performance.now() - started) / 1000;
      const stealAfter = stealCpuSeconds();
      const steal = stealBefore === null || stealAfter === null ? null : (stealAfter - stealBefore) / (seconds * cpus().length);
      resolve({ bench, code, seconds, steal });
    });
  });
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map(r => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(rows[0]!), widths.map(w => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return String(Number(v.toPrecision(4)));
}

async function main(): Promise<void> {
  const benchDir = dirname(fileURLToPath(import.meta.url));
  const cwd = dirname(benchDir);
  const filters = process.argv.slice(2);
  const files = readdirSync(benchDir)
    .filter(f => f.endsWith('.bench.ts'))
    .filter(f => filters.length === 0 || filters.some(x => f.includes(x)))
    .sort()
    .map(f => join(benchDir, f));
  if (files.length === 0) {
    console.error(`no bench/*.bench.ts file matches ${filters.join(', ') || '(any)'}`);
    process.exit(2);
  }
  console.log(`machine: ${machine()}`);
  console.log(`benches: ${files.map(f => relative(cwd, f)).join(', ')}`);

  const figures: Figure[] = [];
  const outcomes: Outcome[] = [];
  for (const f of files) outcomes.push(await runOne(f, cwd, figures));

  console.log('\n######## summary');
  console.log(`machine: ${machine()}`);
  const rows = [['bench', 'figure', 'value', 'unit', 'goal', '']];
  for (const f of figures) {
    const status = f.met === null ? '' : f.met ? 'met' : 'MISSED';
    rows.push([f.bench.replace(/^bench\//, ''), f.name, formatValue(f.value), f.unit, f.goal, status]);
  }
  console.log(figures.length > 0 ? table(rows) : '(no FIGURE lines were printed)');
  console.log('');
  for (const o of outcomes) {
    const steal = o.steal === null ? '' : `, CPU steal ${(o.steal * 100).toFixed(1)}%`;
    console.log(`${o.code === 0 ? 'ok     ' : `FAILED (exit ${o.code})`}  ${o.bench}  ${o.seconds.toFixed(1)} s${steal}`);
  }
  const missed = figures.filter(f => f.met === false).length;
  if (missed > 0) console.log(`${missed} goal(s) missed (figures, not failures)`);
  if (outcomes.some(o => o.code !== 0)) process.exitCode = 1;
}

await main();
